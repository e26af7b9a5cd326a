/**
 * Environment account connections: requested from the environment account (PENDING), accepted (CONNECTED) or
 * rejected (REJECTED, terminal) from the management account. proton-local plays both accounts on one endpoint: the
 * calling account is the request's (a 12-digit access key id, see server.ts accountOf; the configured account
 * otherwise). A connection is visible to its two accounts only; accepting and rejecting are the management account's,
 * updating and deleting the environment account's (API reference: "Management account can't delete").
 */
import { randomUUID } from 'node:crypto';
import { PageInput, paginate, protonArn, rememberClientToken, replayClientToken, toDate } from './shared';
import type { EmulatorState } from './state';
import { dropTags, initTags, Tag } from './tags';
import { conflict, notFound, OperationContext, OperationTable, quotaExceeded, validation } from './types';

const MAX_CONNECTIONS_PER_ENVIRONMENT_ACCOUNT = 5;

export type ConnectionStatus = 'PENDING' | 'CONNECTED' | 'REJECTED';

export interface ConnectionRecord {
  readonly id: string;
  readonly arn: string;
  readonly managementAccountId: string;
  readonly environmentAccountId: string;
  readonly environmentName: string;
  roleArn?: string;
  componentRoleArn?: string;
  codebuildRoleArn?: string;
  readonly requestedAt: number;
  lastModifiedAt: number;
  status: ConnectionStatus;
}

interface Roles {
  readonly roleArn?: string;
  readonly componentRoleArn?: string;
  readonly codebuildRoleArn?: string;
}

export function connectionOf(state: EmulatorState, id: string): ConnectionRecord {
  const connection = state.environmentAccountConnections[id] as ConnectionRecord | undefined;
  if (!connection) {
    throw notFound(`The requested environment account connection does not exist: ${id}`);
  }
  return connection;
}

/** The connection as its caller sees it: another account's connections do not exist for it. */
export function visibleConnection(ctx: OperationContext, id: string): ConnectionRecord {
  const connection = connectionOf(ctx.state, id);
  const caller = ctx.settings.accountId;
  if (caller !== connection.managementAccountId && caller !== connection.environmentAccountId) {
    throw notFound(`The requested environment account connection does not exist: ${id}`);
  }
  return connection;
}

/**
 * Refuses an operation that only one side of the connection may make. Proton documents who calls what but not the
 * error the other side gets; proton-local answers ValidationException, naming both accounts.
 */
function requireSide(ctx: OperationContext, connection: ConnectionRecord, side: 'management' | 'environment', operation: string): void {
  const account = side === 'management' ? connection.managementAccountId : connection.environmentAccountId;
  if (ctx.settings.accountId !== account) {
    throw validation(`${operation} is called from the ${side} account of environment account connection ${connection.id} (${account}), `
      + `not from account ${ctx.settings.accountId}`);
  }
}

function connectionSummary(c: ConnectionRecord) {
  return {
    id: c.id,
    arn: c.arn,
    managementAccountId: c.managementAccountId,
    environmentAccountId: c.environmentAccountId,
    roleArn: c.roleArn,
    environmentName: c.environmentName,
    requestedAt: toDate(c.requestedAt),
    lastModifiedAt: toDate(c.lastModifiedAt),
    status: c.status,
    componentRoleArn: c.componentRoleArn,
  };
}

function connectionOutput(c: ConnectionRecord) {
  return { environmentAccountConnection: { ...connectionSummary(c), codebuildRoleArn: c.codebuildRoleArn } };
}

function setStatus(ctx: OperationContext, connection: ConnectionRecord, status: ConnectionStatus): void {
  connection.status = status;
  connection.lastModifiedAt = ctx.clock.now();
}

function environmentsUsing(state: EmulatorState, id: string): string[] {
  return Object.values(state.environments).filter((e: any) => e.environmentAccountConnectionId === id).map((e: any) => `'${e.name}'`);
}

export const connectionOperations: OperationTable = {
  CreateEnvironmentAccountConnection(ctx, input: Roles & {
    managementAccountId: string; environmentName: string; tags?: Tag[]; clientToken?: string;
  }) {
    const replayed = replayClientToken(ctx, 'CreateEnvironmentAccountConnection', input);
    const all = Object.values(ctx.state.environmentAccountConnections) as ConnectionRecord[];
    const original = all.find(c => c.arn === replayed);
    if (original) {
      return connectionOutput(original);
    }
    const duplicate = all.find(c => c.managementAccountId === input.managementAccountId && c.environmentName === input.environmentName
      && c.status !== 'REJECTED');
    if (duplicate) {
      throw conflict(`environment account connection ${duplicate.id} (${duplicate.status}) already connects environment '${input.environmentName}' `
        + `of management account ${input.managementAccountId}`);
    }
    if (all.filter(c => c.environmentAccountId === ctx.settings.accountId).length >= MAX_CONNECTIONS_PER_ENVIRONMENT_ACCOUNT) {
      throw quotaExceeded(`an environment account can have at most ${MAX_CONNECTIONS_PER_ENVIRONMENT_ACCOUNT} environment account connections`);
    }
    const id = randomUUID();
    const now = ctx.clock.now();
    const connection: ConnectionRecord = {
      id,
      arn: protonArn(ctx, `environment-account-connection/${id}`),
      managementAccountId: input.managementAccountId,
      environmentAccountId: ctx.settings.accountId,
      environmentName: input.environmentName,
      roleArn: input.roleArn,
      componentRoleArn: input.componentRoleArn,
      codebuildRoleArn: input.codebuildRoleArn,
      requestedAt: now,
      lastModifiedAt: now,
      status: 'PENDING',
    };
    initTags(ctx, connection.arn, input.tags);
    ctx.state.environmentAccountConnections[id] = connection;
    rememberClientToken(ctx, 'CreateEnvironmentAccountConnection', input, connection.arn);
    return connectionOutput(connection);
  },

  AcceptEnvironmentAccountConnection(ctx, input: { id: string }) {
    const connection = visibleConnection(ctx, input.id);
    requireSide(ctx, connection, 'management', 'AcceptEnvironmentAccountConnection');
    if (connection.status === 'REJECTED') {
      throw validation(`environment account connection ${input.id} was REJECTED, which is final: request a new connection`);
    }
    if (connection.status === 'PENDING') {
      setStatus(ctx, connection, 'CONNECTED');
    }
    return connectionOutput(connection);
  },

  RejectEnvironmentAccountConnection(ctx, input: { id: string }) {
    const connection = visibleConnection(ctx, input.id);
    requireSide(ctx, connection, 'management', 'RejectEnvironmentAccountConnection');
    const users = environmentsUsing(ctx.state, input.id);
    if (users.length) {
      throw conflict(`environment account connection ${input.id} can't be rejected while environments ${users.join(', ')} use it`);
    }
    if (connection.status !== 'REJECTED') {
      setStatus(ctx, connection, 'REJECTED');
    }
    return connectionOutput(connection);
  },

  UpdateEnvironmentAccountConnection(ctx, input: Roles & { id: string }) {
    const connection = visibleConnection(ctx, input.id);
    requireSide(ctx, connection, 'environment', 'UpdateEnvironmentAccountConnection');
    if (connection.status === 'REJECTED') {
      throw validation(`environment account connection ${input.id} was REJECTED and can't be updated`);
    }
    connection.roleArn = input.roleArn ?? connection.roleArn;
    connection.componentRoleArn = input.componentRoleArn ?? connection.componentRoleArn;
    connection.codebuildRoleArn = input.codebuildRoleArn ?? connection.codebuildRoleArn;
    connection.lastModifiedAt = ctx.clock.now();
    return connectionOutput(connection);
  },

  DeleteEnvironmentAccountConnection(ctx, input: { id: string }) {
    const connection = ctx.state.environmentAccountConnections[input.id] as ConnectionRecord | undefined;
    if (!connection) {
      return {};
    }
    requireSide(ctx, visibleConnection(ctx, input.id), 'environment', 'DeleteEnvironmentAccountConnection');
    delete ctx.state.environmentAccountConnections[input.id];
    dropTags(ctx, connection.arn);
    return connectionOutput(connection);
  },

  GetEnvironmentAccountConnection(ctx, input: { id: string }) {
    return connectionOutput(visibleConnection(ctx, input.id));
  },

  ListEnvironmentAccountConnections(ctx, input: PageInput & {
    requestedBy: 'MANAGEMENT_ACCOUNT' | 'ENVIRONMENT_ACCOUNT'; environmentName?: string; statuses?: ConnectionStatus[];
  }) {
    const account = input.requestedBy === 'MANAGEMENT_ACCOUNT' ? 'managementAccountId' : 'environmentAccountId';
    const connections = (Object.values(ctx.state.environmentAccountConnections) as ConnectionRecord[])
      .filter(c => c[account] === ctx.settings.accountId)
      .filter(c => input.environmentName === undefined || c.environmentName === input.environmentName)
      .filter(c => !input.statuses?.length || input.statuses.includes(c.status))
      .sort((a, b) => a.requestedAt - b.requestedAt);
    const page = paginate(connections, input);
    return { environmentAccountConnections: page.items.map(connectionSummary), nextToken: page.nextToken };
  },
};
