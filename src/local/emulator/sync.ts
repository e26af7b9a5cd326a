/**
 * The sync status operations of template sync and service sync, over the repositories and sync configs that
 * repositories.ts keeps. proton-local never pulls from Git, so no sync attempt ever happens: the statuses answer
 * as Proton does before a first push (no latestSync, latestSuccessfulSync or desiredState), the sync definitions are
 * the configs pointing at the repository, and the service sync blockers are the ones Proton creates when a synced
 * service's instance is changed by hand ("A blocker is created because of the manual update or deletion of a
 * service instance", API reference ServiceSyncBlockerSummary).
 *
 * Errors follow each operation's model list: ListRepositorySyncDefinitions has no ResourceNotFoundException (an
 * unknown repository has no definitions); the others answer ResourceNotFoundException for what doesn't exist.
 */
import { randomUUID } from 'node:crypto';
import type { ServiceSyncConfigRecord, TemplateSyncConfigRecord } from './repositories';
import { toDate } from './shared';
import type { EmulatorState } from './state';
import { notFound, OperationContext, OperationTable, validation } from './types';

export type SyncType = 'TEMPLATE_SYNC' | 'SERVICE_SYNC';

/** A service sync blocker (SyncBlocker), kept in state.syncBlockers by id. */
export interface SyncBlockerRecord {
  readonly id: string;
  readonly type: 'AUTOMATED';
  status: 'ACTIVE' | 'RESOLVED';
  readonly createdReason: string;
  readonly createdAt: number;
  readonly serviceName: string;
  readonly serviceInstanceName?: string;
  readonly contexts: Array<{ readonly key: string; readonly value: string }>;
  resolvedReason?: string;
  resolvedAt?: number;
}

const repositoryKey = (provider: string, name: string) => `${provider}:${name}`;

function linkedRepository(state: EmulatorState, provider: string, name: string) {
  const repository = state.repositories[repositoryKey(provider, name)];
  if (!repository) {
    throw notFound(`The requested repository does not exist: ${provider} ${name} is not linked (CreateRepository)`);
  }
  return repository;
}

function templateOf(state: EmulatorState, templateType: string, templateName: string) {
  const templates = templateType === 'ENVIRONMENT' ? state.environmentTemplates : state.serviceTemplates;
  const template = templates[templateName];
  if (!template) {
    throw notFound(`The requested ${templateType.toLowerCase()} template does not exist: ${templateName}`);
  }
  return template;
}

function serviceOf(state: EmulatorState, serviceName: string) {
  const service = state.services[serviceName];
  if (!service) {
    throw notFound(`The requested service does not exist: ${serviceName}`);
  }
  return service;
}

function instanceOf(state: EmulatorState, serviceName: string, instanceName: string) {
  const instance = serviceOf(state, serviceName).instances.find((i: { name: string }) => i.name === instanceName);
  if (!instance) {
    throw notFound(`The requested service instance does not exist: ${serviceName}/${instanceName}`);
  }
  return instance;
}

/**
 * One definition per sync config pointing at the repository. The reference describes `target` as "the resource that
 * is synced to" and `parent` as "the resource that is synced from" without examples; proton-local names the synced
 * template or service in both (as CodeConnections does when "the parent and target resource are the same"), and
 * gives the config's subdirectory (template sync, the repository root "/" without one) or ops file (service sync) as
 * `directory`.
 */
function syncDefinitions(state: EmulatorState, provider: string, name: string, syncType: SyncType) {
  const onRepository = (c: { repositoryProvider: string; repositoryName: string }) => c.repositoryProvider === provider && c.repositoryName === name;
  if (syncType === 'TEMPLATE_SYNC') {
    return (Object.values(state.templateSyncConfigs) as TemplateSyncConfigRecord[]).filter(onRepository)
      .sort((a, b) => a.templateName.localeCompare(b.templateName) || a.templateType.localeCompare(b.templateType))
      .map(c => ({ target: c.templateName, parent: c.templateName, branch: c.branch, directory: c.subdirectory ?? '/' }));
  }
  return (Object.values(state.serviceSyncConfigs) as ServiceSyncConfigRecord[]).filter(onRepository)
    .sort((a, b) => a.serviceName.localeCompare(b.serviceName))
    .map(c => ({ target: c.serviceName, parent: c.serviceName, branch: c.branch, directory: c.filePath }));
}

function blockerOutput(b: SyncBlockerRecord) {
  return {
    id: b.id,
    type: b.type,
    status: b.status,
    createdReason: b.createdReason,
    createdAt: toDate(b.createdAt),
    contexts: b.contexts,
    resolvedReason: b.resolvedReason,
    resolvedAt: toDate(b.resolvedAt),
  };
}

/**
 * A synced service's instance was updated or deleted by hand (not from its ops file): Proton blocks syncing the
 * instance until the blocker is resolved (UpdateServiceSyncBlocker), so a later sync doesn't override the change.
 * Nothing happens for a service without a service sync config, or an instance already blocked.
 */
export function blockSyncAfterManualChange(ctx: OperationContext, serviceName: string, serviceInstanceName: string, change: string): void {
  if (!ctx.state.serviceSyncConfigs[serviceName]) {
    return;
  }
  const active = (Object.values(ctx.state.syncBlockers) as SyncBlockerRecord[]).some(b =>
    b.status === 'ACTIVE' && b.serviceName === serviceName && b.serviceInstanceName === serviceInstanceName);
  if (active) {
    return;
  }
  const id = randomUUID();
  const blocker: SyncBlockerRecord = {
    id,
    type: 'AUTOMATED',
    status: 'ACTIVE',
    createdReason: `${change} of service instance ${serviceName}/${serviceInstanceName} outside of service sync`,
    createdAt: ctx.clock.now(),
    serviceName,
    serviceInstanceName,
    contexts: [{ key: 'serviceInstanceName', value: serviceInstanceName }],
  };
  ctx.state.syncBlockers[id] = blocker;
}

/** The service is gone: so are its blockers. */
export function dropSyncBlockers(ctx: OperationContext, serviceName: string): void {
  for (const [id, blocker] of Object.entries(ctx.state.syncBlockers) as Array<[string, SyncBlockerRecord]>) {
    if (blocker.serviceName === serviceName) {
      delete ctx.state.syncBlockers[id];
    }
  }
}

export const syncOperations: OperationTable = {
  GetTemplateSyncStatus(ctx, input: { templateName: string; templateType: string; templateVersion: string }) {
    templateOf(ctx.state, input.templateType, input.templateName);
    if (!ctx.state.templateSyncConfigs[`${input.templateType}:${input.templateName}`]) {
      throw notFound(`The requested template sync config does not exist: ${input.templateType.toLowerCase()} template ${input.templateName} `
        + 'has no template sync config (CreateTemplateSyncConfig)');
    }
    // No push was ever synced: no attempt, no successful attempt, no desired revision.
    return {};
  },

  GetRepositorySyncStatus(ctx, input: { repositoryName: string; repositoryProvider: string; branch: string; syncType: SyncType }) {
    linkedRepository(ctx.state, input.repositoryProvider, input.repositoryName);
    return {};
  },

  ListRepositorySyncDefinitions(ctx, input: { repositoryName: string; repositoryProvider: string; syncType: SyncType; nextToken?: string }) {
    // nextToken is an EmptyNextToken (length 0) in the model: the list has a single page and answers no nextToken.
    if (input.nextToken !== undefined && input.nextToken !== '') {
      throw validation(`Invalid nextToken '${input.nextToken}': ListRepositorySyncDefinitions has a single page`);
    }
    return { syncDefinitions: syncDefinitions(ctx.state, input.repositoryProvider, input.repositoryName, input.syncType) };
  },

  GetServiceInstanceSyncStatus(ctx, input: { serviceName: string; serviceInstanceName: string }) {
    instanceOf(ctx.state, input.serviceName, input.serviceInstanceName);
    return {};
  },

  GetServiceSyncBlockerSummary(ctx, input: { serviceName: string; serviceInstanceName?: string }) {
    if (input.serviceInstanceName !== undefined) {
      instanceOf(ctx.state, input.serviceName, input.serviceInstanceName);
    } else {
      serviceOf(ctx.state, input.serviceName);
    }
    // "The latest active blockers": of the instance when one is named, else those of the whole service.
    const latestBlockers = (Object.values(ctx.state.syncBlockers) as SyncBlockerRecord[])
      .filter(b => b.status === 'ACTIVE' && b.serviceName === input.serviceName && b.serviceInstanceName === input.serviceInstanceName)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map(blockerOutput);
    return { serviceSyncBlockerSummary: { serviceName: input.serviceName, serviceInstanceName: input.serviceInstanceName, latestBlockers } };
  },

  UpdateServiceSyncBlocker(ctx, input: { id: string; resolvedReason: string }) {
    const blocker = ctx.state.syncBlockers[input.id] as SyncBlockerRecord | undefined;
    if (!blocker) {
      throw notFound(`The requested service sync blocker does not exist: ${input.id}`);
    }
    if (blocker.status === 'ACTIVE') {
      blocker.status = 'RESOLVED';
      blocker.resolvedReason = input.resolvedReason;
      blocker.resolvedAt = ctx.clock.now();
    }
    return { serviceName: blocker.serviceName, serviceInstanceName: blocker.serviceInstanceName, serviceSyncBlocker: blockerOutput(blocker) };
  },
};
