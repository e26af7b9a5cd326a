/**
 * Custom::ProtonEnvironmentAccountConnection (in the environment account) and
 * Custom::ProtonEnvironmentAccountConnectionAcceptance (in the management account). The physical id of both is the
 * connection's id.
 *
 * Connection:
 * - Create: get before create. The account's connections are listed (requestedBy ENVIRONMENT_ACCOUNT) for one to this
 *   management account and environment that is not REJECTED (Proton allows one): one this resource created (tag
 *   `cdk-proton:owner`) is this one again; one without an owner is taken over only with AdoptExisting. Otherwise
 *   CreateEnvironmentAccountConnection with a client token derived from the event, so a re-delivered event gets the
 *   original connection back.
 * - Update: the roles in place (UpdateEnvironmentAccountConnection), then tags; a new management account or
 *   environment is a new connection.
 * - Delete: DeleteEnvironmentAccountConnection (environment account only); NotFound is done.
 *
 * Acceptance: AcceptEnvironmentAccountConnection until CONNECTED (accepting a CONNECTED one is a no-op); REJECTED fails.
 * Proton has no "un-accept": deleting the acceptance leaves the connection as it is, unless RejectOnDelete is 'true'.
 */
import {
  AcceptEnvironmentAccountConnectionCommand, CreateEnvironmentAccountConnectionCommand, DeleteEnvironmentAccountConnectionCommand,
  EnvironmentAccountConnection, EnvironmentAccountConnectionSummary, GetEnvironmentAccountConnectionCommand,
  paginateListEnvironmentAccountConnections, ProtonClient, RejectEnvironmentAccountConnectionCommand, UpdateEnvironmentAccountConnectionCommand,
} from '@aws-sdk/client-proton';
import {
  EnvironmentAccountConnectionAcceptanceProperties as AP, EnvironmentAccountConnectionAttributes as A,
  EnvironmentAccountConnectionProperties as P, ResourceTypes,
} from '../../src/private/properties';
import { ignoreNotFound, isConflict, isNotFound } from '../shared/errors';
import { DONE, lifecycle, pending, ProtonResource } from '../shared/lifecycle';
import { PropertyReader } from '../shared/properties';
import { checkOwnership, ownerTag, readTags, syncTags, Tag } from '../shared/tags';
import { clientToken } from '../shared/tokens';
import type { ResourceHandler } from '../shared/types';

interface DesiredConnection {
  readonly managementAccountId: string;
  readonly environmentName: string;
  readonly roleArn?: string;
  readonly codebuildRoleArn?: string;
  readonly componentRoleArn?: string;
  readonly tags: Tag[];
  readonly adoptExisting: boolean;
}

const ROLES = ['roleArn', 'codebuildRoleArn', 'componentRoleArn'] as const;

const what = (id: string) => `environment account connection ${id}`;
const describe = (desired: DesiredConnection) =>
  `the environment account connection for environment '${desired.environmentName}' of management account ${desired.managementAccountId}`;

async function getConnection(client: ProtonClient, id: string): Promise<EnvironmentAccountConnection | undefined> {
  return ignoreNotFound(async () => (await client.send(new GetEnvironmentAccountConnectionCommand({ id }))).environmentAccountConnection);
}

/** The account's live (PENDING or CONNECTED) connection to this management account and environment: Proton allows one. */
async function findConnection(client: ProtonClient, desired: DesiredConnection): Promise<EnvironmentAccountConnectionSummary | undefined> {
  for await (const page of paginateListEnvironmentAccountConnections({ client }, {
    requestedBy: 'ENVIRONMENT_ACCOUNT', environmentName: desired.environmentName, statuses: ['PENDING', 'CONNECTED'],
  })) {
    const found = page.environmentAccountConnections?.find(c => c.managementAccountId === desired.managementAccountId
      && c.environmentName === desired.environmentName);
    if (found) return found;
  }
  return undefined;
}

const connectionResource: ProtonResource<DesiredConnection> = {
  resourceType: ResourceTypes.ENVIRONMENT_ACCOUNT_CONNECTION,
  decode(properties) {
    const p = new PropertyReader(properties, ResourceTypes.ENVIRONMENT_ACCOUNT_CONNECTION);
    return {
      managementAccountId: p.string(P.MANAGEMENT_ACCOUNT_ID),
      environmentName: p.string(P.ENVIRONMENT_NAME),
      roleArn: p.optionalString(P.ROLE_ARN),
      codebuildRoleArn: p.optionalString(P.CODEBUILD_ROLE_ARN),
      componentRoleArn: p.optionalString(P.COMPONENT_ROLE_ARN),
      tags: readTags(p, P.TAGS),
      adoptExisting: p.boolean(P.ADOPT_EXISTING, false),
    };
  },

  needsNewResource: (previous, desired) => previous.managementAccountId !== desired.managementAccountId
    || previous.environmentName !== desired.environmentName,

  async create(ctx, desired) {
    let existing = await findConnection(ctx.client, desired);
    if (!existing) {
      try {
        const created = (await ctx.client.send(new CreateEnvironmentAccountConnectionCommand({
          managementAccountId: desired.managementAccountId,
          environmentName: desired.environmentName,
          roleArn: desired.roleArn,
          codebuildRoleArn: desired.codebuildRoleArn,
          componentRoleArn: desired.componentRoleArn,
          clientToken: clientToken(ctx.event, 'CreateEnvironmentAccountConnection'),
          tags: [ownerTag(ctx), ...desired.tags],
        }))).environmentAccountConnection!;
        ctx.log('environment account connection requested', { id: created.id, environmentName: desired.environmentName });
        return created.id!;
      } catch (error) {
        // Another request made one in between (Proton allows one live connection per management account and environment).
        if (!isConflict(error)) throw error;
        existing = await findConnection(ctx.client, desired);
        if (!existing) throw error;
      }
    }
    await checkOwnership(ctx, existing.arn!, `${describe(desired)} (${existing.id})`, desired.adoptExisting);
    return existing.id!;
  },

  async advance(ctx, id, desired, previous) {
    const connection = await getConnection(ctx.client, id);
    if (!connection) throw new Error(`${what(id)} does not exist (it was deleted outside this stack?)`);
    if (connection.status === 'REJECTED') {
      throw new Error(`${what(id)} was REJECTED by management account ${connection.managementAccountId}, which is final: it can't be `
        + 'updated or used. Remove it from the stack and add a new one (a new logical id) to request another connection');
    }
    // Proton's update sets the roles it is given: a role removed from the properties stays on the connection.
    const changed = ROLES.filter(role => desired[role] !== undefined && desired[role] !== connection[role]);
    if (changed.length > 0) {
      await ctx.client.send(new UpdateEnvironmentAccountConnectionCommand({
        id, ...Object.fromEntries(changed.map(role => [role, desired[role]])),
      }));
      return pending(`updating ${changed.join(', ')} of ${what(id)}`);
    }
    return syncTags(ctx, connection.arn!, desired.tags, previous?.tags ?? []);
  },

  async advanceDeletion(ctx, id) {
    await ignoreNotFound(() => ctx.client.send(new DeleteEnvironmentAccountConnectionCommand({ id })));
    return DONE;
  },

  async data(ctx, id) {
    const connection = await getConnection(ctx.client, id);
    if (!connection) throw new Error(`${what(id)} does not exist`);
    return { [A.ID]: connection.id!, [A.ARN]: connection.arn!, [A.STATUS]: connection.status! };
  },
};

interface DesiredAcceptance {
  readonly connectionId: string;
  readonly rejectOnDelete: boolean;
}

/** Accepts a PENDING connection (Accept is idempotent: CONNECTED stays CONNECTED); REJECTED is final and fails. */
async function accept(client: ProtonClient, id: string): Promise<EnvironmentAccountConnection> {
  const connection = await getConnection(client, id);
  if (!connection) {
    throw new Error(`${what(id)} does not exist, or is not requested from this account: create it in the environment account first `
      + '(EnvironmentAccountConnection, with managementAccountId set to this account)');
  }
  if (connection.status === 'REJECTED') {
    throw new Error(`${what(id)} is REJECTED, which is final: it can't be accepted. Request a new connection from environment account `
      + `${connection.environmentAccountId} and accept that one`);
  }
  if (connection.status === 'PENDING') {
    return (await client.send(new AcceptEnvironmentAccountConnectionCommand({ id }))).environmentAccountConnection!;
  }
  return connection;
}

const acceptanceResource: ProtonResource<DesiredAcceptance> = {
  resourceType: ResourceTypes.ENVIRONMENT_ACCOUNT_CONNECTION_ACCEPTANCE,
  decode(properties) {
    const p = new PropertyReader(properties, ResourceTypes.ENVIRONMENT_ACCOUNT_CONNECTION_ACCEPTANCE);
    return { connectionId: p.string(AP.CONNECTION_ID), rejectOnDelete: p.boolean(AP.REJECT_ON_DELETE, false) };
  },

  needsNewResource: (previous, desired) => previous.connectionId !== desired.connectionId,

  async create(ctx, desired) {
    const connection = await accept(ctx.client, desired.connectionId);
    ctx.log('environment account connection accepted', { id: desired.connectionId, status: connection.status });
    return desired.connectionId;
  },

  async advance(ctx, id) {
    const connection = await accept(ctx.client, id);
    return connection.status === 'CONNECTED' ? DONE : pending(`waiting for ${what(id)} to be CONNECTED (it is ${connection.status})`);
  },

  async advanceDeletion(ctx, id, properties) {
    if (!properties?.rejectOnDelete) {
      return { done: true, notice: `${what(id)} is left as it is: Proton has no "un-accept" (set rejectOnDelete to reject it on removal)` };
    }
    const connection = await getConnection(ctx.client, id);
    if (!connection || connection.status === 'REJECTED') return DONE;
    try {
      await ctx.client.send(new RejectEnvironmentAccountConnectionCommand({ id }));
      return DONE;
    } catch (error) {
      if (isNotFound(error)) return DONE;
      // An environment still deploys through it, and waiting does not remove it.
      if (isConflict(error)) throw new Error(`${what(id)} can't be rejected: ${(error as Error).message}. Delete the environments that use it first`);
      throw error;
    }
  },

  async data(ctx, id) {
    const connection = await getConnection(ctx.client, id);
    if (!connection) throw new Error(`${what(id)} does not exist`);
    return { [A.ID]: connection.id!, [A.ARN]: connection.arn!, [A.STATUS]: connection.status! };
  },
};

export const environmentAccountConnectionHandler: ResourceHandler = lifecycle(connectionResource);
export const environmentAccountConnectionAcceptanceHandler: ResourceHandler = lifecycle(acceptanceResource);
