/**
 * Linked repositories (CreateRepository and friends), used by self-managed provisioning, and the template and service
 * sync configs that point at them. proton-local never syncs from Git (the sync status operations, in sync.ts, say so).
 */
import { canonicalJson, repeatsCreate, PageInput, paginate, protonArn } from './shared';
import type { EmulatorState } from './state';
import { dropTags, initTags, Tag } from './tags';
import { conflict, notFound, OperationTable, validation } from './types';

export interface RepositoryRecord {
  readonly arn: string;
  readonly provider: string;
  readonly name: string;
  readonly connectionArn: string;
  readonly encryptionKey?: string;
  /** Canonical JSON of the create input, for idempotent creates. */
  readonly createRequest: string;
}

interface RepositoryKey {
  readonly provider: string;
  readonly name: string;
}

const keyOf = (input: RepositoryKey) => `${input.provider}:${input.name}`;

export interface TemplateSyncConfigRecord {
  readonly templateName: string;
  readonly templateType: 'ENVIRONMENT' | 'SERVICE';
  repositoryProvider: string;
  repositoryName: string;
  branch: string;
  subdirectory?: string;
}

export interface ServiceSyncConfigRecord {
  readonly serviceName: string;
  repositoryProvider: string;
  repositoryName: string;
  branch: string;
  filePath: string;
}

/** A sync config's repository must be linked first. */
function checkLinked(state: EmulatorState, input: { repositoryProvider: string; repositoryName: string }): void {
  if (!state.repositories[keyOf({ provider: input.repositoryProvider, name: input.repositoryName })]) {
    throw validation(`repository ${input.repositoryProvider} ${input.repositoryName} is not linked: register it with CreateRepository first`);
  }
}

const templateSyncKey = (input: { templateType: string; templateName: string }) => `${input.templateType}:${input.templateName}`;

function syncConfigOf<T>(configs: { [key: string]: T }, key: string, what: string): T {
  const config = configs[key];
  if (!config) {
    throw notFound(`The requested ${what} does not exist`);
  }
  return config;
}

/** Idempotent creates by key: the same parameters return the existing config, others mismatch. */
function createSyncConfig<T extends object>(configs: { [key: string]: T }, key: string, config: T, what: string): T {
  const existing = configs[key];
  if (existing && canonicalJson(existing) !== canonicalJson(config)) {
    throw validation(`Idempotent parameter mismatch: ${what} already exists with different parameters`);
  }
  configs[key] = existing ?? config;
  return configs[key];
}

function repositoryOutput(r: RepositoryRecord) {
  return { arn: r.arn, provider: r.provider, name: r.name, connectionArn: r.connectionArn, encryptionKey: r.encryptionKey };
}

/** What uses a repository: environments provisioning through it, the account's pipeline repository, sync configs. */
function repositoryUsers(state: EmulatorState, key: RepositoryKey): string[] {
  const same = (r: { provider?: string; name?: string } | undefined) => r?.provider === key.provider && r?.name === key.name;
  const sameSync = (c: any) => c.repositoryProvider === key.provider && c.repositoryName === key.name;
  return [
    ...Object.values(state.environments).filter((e: any) => same(e.provisioningRepository)).map((e: any) => `environment '${e.name}'`),
    ...same(state.accountSettings.pipelineProvisioningRepository) ? ['the account settings\' pipelineProvisioningRepository'] : [],
    ...Object.values(state.templateSyncConfigs).filter(sameSync).map((c: any) => `the template sync config of '${c.templateName}'`),
    ...Object.values(state.serviceSyncConfigs).filter(sameSync).map((c: any) => `the service sync config of '${c.serviceName}'`),
  ];
}

export const repositoryOperations: OperationTable = {
  CreateRepository(ctx, input: RepositoryKey & { connectionArn: string; encryptionKey?: string; tags?: Tag[] }) {
    const existing = ctx.state.repositories[keyOf(input)] as RepositoryRecord | undefined;
    // A repository link has nothing to modify after its creation.
    if (repeatsCreate(existing, input, `repository ${input.provider} ${input.name}`, false)) {
      return { repository: repositoryOutput(existing!) };
    }
    const repository: RepositoryRecord = {
      arn: protonArn(ctx, `repository/${input.provider.toLowerCase()}:${input.name}`),
      provider: input.provider,
      name: input.name,
      connectionArn: input.connectionArn,
      encryptionKey: input.encryptionKey,
      createRequest: canonicalJson(input),
    };
    initTags(ctx, repository.arn, input.tags);
    ctx.state.repositories[keyOf(input)] = repository;
    return { repository: repositoryOutput(repository) };
  },

  GetRepository(ctx, input: RepositoryKey) {
    const repository = ctx.state.repositories[keyOf(input)] as RepositoryRecord | undefined;
    if (!repository) {
      throw notFound(`The requested repository does not exist: ${input.provider} ${input.name}`);
    }
    return { repository: repositoryOutput(repository) };
  },

  ListRepositories(ctx, input: PageInput) {
    const repositories = (Object.values(ctx.state.repositories) as RepositoryRecord[]).sort((a, b) => a.arn.localeCompare(b.arn));
    const page = paginate(repositories, input);
    return {
      repositories: page.items.map(r => ({ arn: r.arn, provider: r.provider, name: r.name, connectionArn: r.connectionArn })),
      nextToken: page.nextToken,
    };
  },

  CreateTemplateSyncConfig(ctx, input: TemplateSyncConfigRecord) {
    const templates = input.templateType === 'ENVIRONMENT' ? ctx.state.environmentTemplates : ctx.state.serviceTemplates;
    if (!templates[input.templateName]) {
      throw validation(`${input.templateType.toLowerCase()} template '${input.templateName}' does not exist: template sync only adds versions to an existing template`);
    }
    checkLinked(ctx.state, input);
    return { templateSyncConfig: createSyncConfig(ctx.state.templateSyncConfigs, templateSyncKey(input), { ...input }, `the template sync config of '${input.templateName}'`) };
  },

  GetTemplateSyncConfig(ctx, input: { templateName: string; templateType: string }) {
    return { templateSyncConfig: syncConfigOf(ctx.state.templateSyncConfigs, templateSyncKey(input), `template sync config of '${input.templateName}'`) };
  },

  UpdateTemplateSyncConfig(ctx, input: TemplateSyncConfigRecord) {
    const config = syncConfigOf<TemplateSyncConfigRecord>(ctx.state.templateSyncConfigs, templateSyncKey(input), `template sync config of '${input.templateName}'`);
    checkLinked(ctx.state, input);
    const { templateName: _name, templateType: _type, ...repository } = input;
    Object.assign(config, { subdirectory: undefined }, repository);
    return { templateSyncConfig: config };
  },

  DeleteTemplateSyncConfig(ctx, input: { templateName: string; templateType: string }) {
    const config = ctx.state.templateSyncConfigs[templateSyncKey(input)];
    delete ctx.state.templateSyncConfigs[templateSyncKey(input)];
    return { templateSyncConfig: config };
  },

  CreateServiceSyncConfig(ctx, input: ServiceSyncConfigRecord) {
    if (!ctx.state.services[input.serviceName]) {
      throw validation(`service '${input.serviceName}' does not exist`);
    }
    checkLinked(ctx.state, input);
    return { serviceSyncConfig: createSyncConfig(ctx.state.serviceSyncConfigs, input.serviceName, { ...input }, `the service sync config of '${input.serviceName}'`) };
  },

  GetServiceSyncConfig(ctx, input: { serviceName: string }) {
    return { serviceSyncConfig: syncConfigOf(ctx.state.serviceSyncConfigs, input.serviceName, `service sync config of '${input.serviceName}'`) };
  },

  UpdateServiceSyncConfig(ctx, input: ServiceSyncConfigRecord) {
    const config = syncConfigOf<ServiceSyncConfigRecord>(ctx.state.serviceSyncConfigs, input.serviceName, `service sync config of '${input.serviceName}'`);
    checkLinked(ctx.state, input);
    const { serviceName: _name, ...repository } = input;
    Object.assign(config, repository);
    return { serviceSyncConfig: config };
  },

  DeleteServiceSyncConfig(ctx, input: { serviceName: string }) {
    const config = ctx.state.serviceSyncConfigs[input.serviceName];
    delete ctx.state.serviceSyncConfigs[input.serviceName];
    return { serviceSyncConfig: config };
  },

  DeleteRepository(ctx, input: RepositoryKey) {
    const repository = ctx.state.repositories[keyOf(input)] as RepositoryRecord | undefined;
    if (!repository) {
      return {};
    }
    const users = repositoryUsers(ctx.state, input);
    if (users.length) {
      throw conflict(`repository ${input.provider} ${input.name} can't be deleted while ${users.join(', ')} uses it`);
    }
    delete ctx.state.repositories[keyOf(input)];
    dropTags(ctx, repository.arn);
    return { repository: repositoryOutput(repository) };
  },
};
