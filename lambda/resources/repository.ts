/**
 * Custom::ProtonRepository: a repository link. The physical id is `<provider>:<name>`.
 *
 * - Create: get before create (CreateRepository is idempotent by provider and name); a link that this resource created
 *   is this one again, one without an owner is taken over only with AdoptExisting.
 * - Update: tags in place. Proton has no UpdateRepository: a new provider or name is a new link (CloudFormation then
 *   deletes the old one); a new connection or encryption key on the same link is an error naming the way out.
 * - Delete: DeleteRepository (synchronous); a link that is already gone is deleted.
 */
import {
  CreateRepositoryCommand, DeleteRepositoryCommand, GetRepositoryCommand, ProtonClient, Repository, RepositoryProvider,
} from '@aws-sdk/client-proton';
import { RepositoryAttributes, RepositoryProperties as P, ResourceTypes } from '../../src/private/properties';
import { ignoreNotFound, isConflict, isIdempotentParameterMismatch, isNotFound } from '../shared/errors';
import { DONE, lifecycle, Progress, StepContext } from '../shared/lifecycle';
import { PropertyError, PropertyReader } from '../shared/properties';
import { checkOwnership, ownerTag, readTags, syncTags, Tag } from '../shared/tags';
import type { ResourceHandler, ResourceProperties } from '../shared/types';

const PROVIDERS: string[] = Object.values(RepositoryProvider);

interface DesiredRepository {
  readonly provider: RepositoryProvider;
  readonly name: string;
  readonly connectionArn: string;
  readonly encryptionKey?: string;
  readonly tags: Tag[];
  readonly adoptExisting: boolean;
}

/** The repository link's physical id. */
export const repositoryId = (provider: string, name: string) => `${provider}:${name}`;

/** The provider and name in a physical id (`GITHUB:owner/repo`; names contain no colon). */
function parseRepositoryId(physicalId: string): { provider: RepositoryProvider; name: string } {
  const separator = physicalId.indexOf(':');
  const provider = physicalId.slice(0, separator);
  if (separator < 0 || !PROVIDERS.includes(provider)) {
    throw new Error(`${ResourceTypes.REPOSITORY}: physical id "${physicalId}" is not <provider>:<owner/repository> (providers: ${PROVIDERS.join(', ')})`);
  }
  return { provider: provider as RepositoryProvider, name: physicalId.slice(separator + 1) };
}

function readRepository(properties: ResourceProperties | undefined): DesiredRepository {
  const p = new PropertyReader(properties, ResourceTypes.REPOSITORY);
  const provider = p.string(P.PROVIDER);
  if (!PROVIDERS.includes(provider)) {
    throw new PropertyError(`${ResourceTypes.REPOSITORY} property ${P.PROVIDER}: one of ${PROVIDERS.join(', ')} is required, got ${JSON.stringify(provider)}`);
  }
  return {
    provider: provider as RepositoryProvider,
    name: p.string(P.REPOSITORY_NAME),
    connectionArn: p.string(P.CONNECTION_ARN),
    encryptionKey: p.optionalString(P.ENCRYPTION_KEY) || undefined,
    tags: readTags(p, P.TAGS),
    adoptExisting: p.boolean(P.ADOPT_EXISTING, false),
  };
}

const what = (provider: string, name: string) => `repository ${provider} '${name}'`;

async function getRepository(client: ProtonClient, provider: RepositoryProvider, name: string): Promise<Repository | undefined> {
  return ignoreNotFound(async () => (await client.send(new GetRepositoryCommand({ provider, name }))).repository);
}

/** Proton can't change a link's connection or key: the link must be replaced by one of another name. */
function checkImmutable(desired: DesiredRepository, actual: Repository): void {
  const subject = what(desired.provider, desired.name);
  if (actual.connectionArn !== desired.connectionArn) {
    throw new Error(`${subject} is linked through connection ${actual.connectionArn}, and Proton can't change a repository link's connection `
      + `to ${desired.connectionArn} (it has no UpdateRepository): delete the link first (remove it from the stack and deploy), then add it again`);
  }
  if ((actual.encryptionKey ?? undefined) !== desired.encryptionKey) {
    throw new Error(`${subject} has encryption key ${actual.encryptionKey ?? 'none (AWS owned)'}, and Proton can't change it to `
      + `${desired.encryptionKey ?? 'none'}: delete the link first (remove it from the stack and deploy), then add it again`);
  }
}

async function create(ctx: StepContext, desired: DesiredRepository): Promise<string> {
  const subject = what(desired.provider, desired.name);
  const existing = await getRepository(ctx.client, desired.provider, desired.name);
  if (!existing) {
    try {
      await ctx.client.send(new CreateRepositoryCommand({
        provider: desired.provider,
        name: desired.name,
        connectionArn: desired.connectionArn,
        encryptionKey: desired.encryptionKey,
        tags: [ownerTag(ctx), ...desired.tags],
      }));
      return repositoryId(desired.provider, desired.name);
    } catch (error) {
      // Linked in between with other settings: decide as for a link that existed.
      if (!isIdempotentParameterMismatch(error) && !isConflict(error)) throw error;
    }
  }
  const found = existing ?? await getRepository(ctx.client, desired.provider, desired.name);
  if (!found) throw new Error(`${subject} could not be created and does not exist`);
  await checkOwnership(ctx, found.arn!, subject, desired.adoptExisting);
  checkImmutable(desired, found);
  return repositoryId(desired.provider, desired.name);
}

async function advance(ctx: StepContext, desired: DesiredRepository, previous: DesiredRepository | undefined): Promise<Progress> {
  const repository = await getRepository(ctx.client, desired.provider, desired.name);
  if (!repository) {
    throw new Error(`${what(desired.provider, desired.name)} does not exist (it was deleted outside this stack?)`);
  }
  checkImmutable(desired, repository);
  return syncTags(ctx, repository.arn!, desired.tags, previous?.tags ?? []);
}

async function advanceDeletion(ctx: StepContext, physicalId: string): Promise<Progress> {
  const { provider, name } = parseRepositoryId(physicalId);
  try {
    await ctx.client.send(new DeleteRepositoryCommand({ provider, name }));
    return DONE;
  } catch (error) {
    if (isNotFound(error)) return DONE;
    if (isConflict(error)) {
      throw new Error(`${what(provider, name)} can't be deleted while it is in use: ${(error as Error).message}`);
    }
    throw error;
  }
}

export const repositoryHandler: ResourceHandler = lifecycle<DesiredRepository>({
  resourceType: ResourceTypes.REPOSITORY,
  decode: readRepository,
  needsNewResource: (previous, desired) => previous.provider !== desired.provider || previous.name !== desired.name,
  create,
  advance: (ctx, _id, desired, previous) => advance(ctx, desired, previous),
  advanceDeletion: (ctx, physicalId) => advanceDeletion(ctx, physicalId),
  async data(ctx, _id, desired) {
    const repository = await getRepository(ctx.client, desired.provider, desired.name);
    if (!repository) throw new Error(`${what(desired.provider, desired.name)} does not exist`);
    return { [RepositoryAttributes.ARN]: repository.arn! };
  },
});
