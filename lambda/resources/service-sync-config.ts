/**
 * Custom::ProtonServiceSyncConfig: Proton syncs a service from the Proton Ops file in a linked repository's branch. The
 * physical id is the service's name (one sync config per service).
 *
 * - Create: get before create (CreateServiceSyncConfig is idempotent); a config that already exists with the same
 *   repository, branch and file is this one again (a re-delivered event); one with other settings belongs to someone
 *   else and fails: sync configs carry no tags, so ownership can't be recorded on them.
 * - Update: UpdateServiceSyncConfig (synchronous); a new service is a new config (CloudFormation deletes the old one).
 * - Delete: DeleteServiceSyncConfig; one that is already gone is deleted.
 */
import {
  CreateServiceSyncConfigCommand, DeleteServiceSyncConfigCommand, GetServiceSyncConfigCommand, ProtonClient, RepositoryProvider,
  ServiceSyncConfig, UpdateServiceSyncConfigCommand,
} from '@aws-sdk/client-proton';
import { ResourceTypes, ServiceSyncConfigProperties as P } from '../../src/private/properties';
import { ignoreNotFound, isNotFound } from '../shared/errors';
import { DONE, lifecycle, pending, Progress } from '../shared/lifecycle';
import { PropertyReader } from '../shared/properties';
import type { ResourceHandler, ResourceProperties } from '../shared/types';

interface DesiredServiceSyncConfig {
  readonly serviceName: string;
  readonly repositoryProvider: RepositoryProvider;
  readonly repositoryName: string;
  readonly branch: string;
  readonly filePath: string;
}

function readConfig(properties: ResourceProperties | undefined): DesiredServiceSyncConfig {
  const p = new PropertyReader(properties, ResourceTypes.SERVICE_SYNC_CONFIG);
  return {
    serviceName: p.string(P.SERVICE_NAME),
    repositoryProvider: p.string(P.REPOSITORY_PROVIDER) as RepositoryProvider,
    repositoryName: p.string(P.REPOSITORY_NAME),
    branch: p.string(P.BRANCH),
    filePath: p.string(P.FILE_PATH),
  };
}

const what = (serviceName: string) => `the service sync config of service '${serviceName}'`;

async function getConfig(client: ProtonClient, serviceName: string): Promise<ServiceSyncConfig | undefined> {
  return ignoreNotFound(async () => (await client.send(new GetServiceSyncConfigCommand({ serviceName }))).serviceSyncConfig);
}

function sameSettings(desired: DesiredServiceSyncConfig, actual: ServiceSyncConfig): boolean {
  return actual.repositoryProvider === desired.repositoryProvider && actual.repositoryName === desired.repositoryName
    && actual.branch === desired.branch && actual.filePath === desired.filePath;
}

const describe = (c: { repositoryProvider?: string; repositoryName?: string; branch?: string; filePath?: string }) =>
  `${c.repositoryProvider} ${c.repositoryName} branch ${c.branch} file ${c.filePath}`;

async function advance(client: ProtonClient, desired: DesiredServiceSyncConfig): Promise<Progress> {
  const config = await getConfig(client, desired.serviceName);
  if (!config) throw new Error(`${what(desired.serviceName)} does not exist (it was deleted outside this stack?)`);
  if (sameSettings(desired, config)) return DONE;
  await client.send(new UpdateServiceSyncConfigCommand({ ...desired }));
  return pending(`updating ${what(desired.serviceName)}`);
}

export const serviceSyncConfigHandler: ResourceHandler = lifecycle<DesiredServiceSyncConfig>({
  resourceType: ResourceTypes.SERVICE_SYNC_CONFIG,
  decode: readConfig,
  needsNewResource: (previous, desired) => previous.serviceName !== desired.serviceName,
  async create(ctx, desired) {
    const existing = await getConfig(ctx.client, desired.serviceName);
    if (existing && !sameSettings(desired, existing)) {
      throw new Error(`${what(desired.serviceName)} already exists, syncing from ${describe(existing)}: a service has one sync config, and `
        + `this one is not this stack's (it would sync from ${describe(desired)}). Delete it where it is managed first`);
    }
    if (!existing) await ctx.client.send(new CreateServiceSyncConfigCommand({ ...desired }));
    return desired.serviceName;
  },
  advance: (ctx, _id, desired) => advance(ctx.client, desired),
  async advanceDeletion(ctx, serviceName) {
    try {
      await ctx.client.send(new DeleteServiceSyncConfigCommand({ serviceName }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    return DONE;
  },
});
