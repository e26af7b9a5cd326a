/**
 * Custom::ProtonTemplateSyncConfig: Proton syncs a template's versions from a linked repository's branch. The physical
 * id is `<templateType>:<templateName>` (one sync config per template).
 *
 * - Create: get before create (CreateTemplateSyncConfig is idempotent); a config that already exists with the same
 *   repository, branch and subdirectory is this one again (a re-delivered event); one with other settings belongs to
 *   someone else and fails: sync configs carry no tags, so ownership can't be recorded on them.
 * - Update: UpdateTemplateSyncConfig (synchronous); a new template is a new config (CloudFormation deletes the old one).
 * - Delete: DeleteTemplateSyncConfig; one that is already gone is deleted.
 */
import {
  CreateTemplateSyncConfigCommand, DeleteTemplateSyncConfigCommand, GetTemplateSyncConfigCommand, ProtonClient, RepositoryProvider,
  TemplateSyncConfig, TemplateType, UpdateTemplateSyncConfigCommand,
} from '@aws-sdk/client-proton';
import { ResourceTypes, TemplateSyncConfigProperties as P } from '../../src/private/properties';
import { ignoreNotFound, isNotFound } from '../shared/errors';
import { DONE, lifecycle, pending, Progress } from '../shared/lifecycle';
import { PropertyError, PropertyReader } from '../shared/properties';
import type { ResourceHandler, ResourceProperties } from '../shared/types';

const TEMPLATE_TYPES: string[] = Object.values(TemplateType);

interface DesiredTemplateSyncConfig {
  readonly templateName: string;
  readonly templateType: TemplateType;
  readonly repositoryProvider: RepositoryProvider;
  readonly repositoryName: string;
  readonly branch: string;
  readonly subdirectory?: string;
}

function readConfig(properties: ResourceProperties | undefined): DesiredTemplateSyncConfig {
  const p = new PropertyReader(properties, ResourceTypes.TEMPLATE_SYNC_CONFIG);
  const templateType = p.string(P.TEMPLATE_TYPE);
  if (!TEMPLATE_TYPES.includes(templateType)) {
    throw new PropertyError(`${ResourceTypes.TEMPLATE_SYNC_CONFIG} property ${P.TEMPLATE_TYPE}: one of ${TEMPLATE_TYPES.join(', ')} is required, `
      + `got ${JSON.stringify(templateType)}`);
  }
  return {
    templateName: p.string(P.TEMPLATE_NAME),
    templateType: templateType as TemplateType,
    repositoryProvider: p.string(P.REPOSITORY_PROVIDER) as RepositoryProvider,
    repositoryName: p.string(P.REPOSITORY_NAME),
    branch: p.string(P.BRANCH),
    subdirectory: p.optionalString(P.SUBDIRECTORY) || undefined,
  };
}

const idOf = (c: { templateType: string; templateName: string }) => `${c.templateType}:${c.templateName}`;

function parseId(physicalId: string): { templateType: TemplateType; templateName: string } {
  const [templateType, templateName] = physicalId.split(':');
  if (!TEMPLATE_TYPES.includes(templateType) || !templateName) {
    throw new Error(`${ResourceTypes.TEMPLATE_SYNC_CONFIG}: physical id "${physicalId}" is not <${TEMPLATE_TYPES.join('|')}>:<template name>`);
  }
  return { templateType: templateType as TemplateType, templateName };
}

const what = (c: { templateType: string; templateName: string }) => `the template sync config of ${c.templateType.toLowerCase()} template '${c.templateName}'`;

async function getConfig(client: ProtonClient, key: { templateType: TemplateType; templateName: string }): Promise<TemplateSyncConfig | undefined> {
  return ignoreNotFound(async () => (await client.send(new GetTemplateSyncConfigCommand(key))).templateSyncConfig);
}

const settingsOf = (c: DesiredTemplateSyncConfig) => ({
  repositoryProvider: c.repositoryProvider, repositoryName: c.repositoryName, branch: c.branch, subdirectory: c.subdirectory,
});

function sameSettings(desired: DesiredTemplateSyncConfig, actual: TemplateSyncConfig): boolean {
  return actual.repositoryProvider === desired.repositoryProvider && actual.repositoryName === desired.repositoryName
    && actual.branch === desired.branch && (actual.subdirectory || undefined) === desired.subdirectory;
}

const describe = (c: { repositoryProvider?: string; repositoryName?: string; branch?: string; subdirectory?: string }) =>
  `${c.repositoryProvider} ${c.repositoryName} branch ${c.branch}${c.subdirectory ? ` subdirectory ${c.subdirectory}` : ''}`;

async function advance(client: ProtonClient, desired: DesiredTemplateSyncConfig): Promise<Progress> {
  const key = { templateType: desired.templateType, templateName: desired.templateName };
  const config = await getConfig(client, key);
  if (!config) throw new Error(`${what(desired)} does not exist (it was deleted outside this stack?)`);
  if (sameSettings(desired, config)) return DONE;
  await client.send(new UpdateTemplateSyncConfigCommand({ ...key, ...settingsOf(desired) }));
  return pending(`updating ${what(desired)}`);
}

export const templateSyncConfigHandler: ResourceHandler = lifecycle<DesiredTemplateSyncConfig>({
  resourceType: ResourceTypes.TEMPLATE_SYNC_CONFIG,
  decode: readConfig,
  needsNewResource: (previous, desired) => idOf(previous) !== idOf(desired),
  async create(ctx, desired) {
    const key = { templateType: desired.templateType, templateName: desired.templateName };
    const existing = await getConfig(ctx.client, key);
    if (existing && !sameSettings(desired, existing)) {
      throw new Error(`${what(desired)} already exists, syncing from ${describe(existing)}: a template has one sync config, and this one `
        + `is not this stack's (it would sync from ${describe(desired)}). Delete it where it is managed first`);
    }
    if (!existing) await ctx.client.send(new CreateTemplateSyncConfigCommand({ ...key, ...settingsOf(desired) }));
    return idOf(desired);
  },
  advance: (ctx, _id, desired) => advance(ctx.client, desired),
  async advanceDeletion(ctx, physicalId) {
    try {
      await ctx.client.send(new DeleteTemplateSyncConfigCommand(parseId(physicalId)));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    return DONE;
  },
});
