/**
 * Custom::ProtonEnvironment. The physical id is the environment's name.
 *
 * onEvent makes at most one call (create, the first update, or cancel/delete); isComplete compares the environment
 * Proton reports with the desired one and takes the next step (deploy, settings, tags) once nothing is in progress.
 * Every step is decided from Proton's state, so a re-delivered event or a repeated poll never deploys twice.
 * The template version is resolved at deploy time from the bundle hash (or is the major's recommended minor, or a
 * pinned minor); once the environment has moved off a version, superseded versions that nothing uses are deleted.
 */
import {
  CancelEnvironmentDeploymentCommand, CreateEnvironmentCommand, DeleteEnvironmentCommand, Environment, GetEnvironmentCommand,
  paginateListEnvironmentOutputs, ProtonClient, RepositoryProvider, UpdateEnvironmentCommand,
} from '@aws-sdk/client-proton';
import { isBusy, outputData, sameVersion, TemplateVersion, versionMove } from './workload';
import { EnvironmentProperties, OutputAttributes, ResourceTypes } from '../../src/private/properties';
import { environmentInputs, renderEnvironmentSpec, sameInputs, SpecInputs } from '../../src/private/spec';
import { errorName, ignoreNotFound, isConflict, isIdempotentParameterMismatch, isNotFound } from '../shared/errors';
import { DONE, lifecycle, pending, Progress, StepContext } from '../shared/lifecycle';
import { PropertyReader } from '../shared/properties';
import { specValues } from '../shared/redact';
import { checkOwnership, ownerTag, readTags, syncTags, Tag, whenFree, whenFreeStarting } from '../shared/tags';
import { ENVIRONMENT_TEMPLATES } from '../shared/template-api';
import type { ResourceHandler, ResourceProperties } from '../shared/types';
import { collectSupersededVersions, resolveVersion, VersionSelector } from '../shared/versions';

export interface RepositoryBranch {
  readonly provider: RepositoryProvider;
  readonly name: string;
  readonly branch: string;
}

/** The environment the properties describe. */
interface DesiredEnvironment {
  readonly name: string;
  readonly templateName: string;
  readonly selector: VersionSelector;
  readonly inputs: SpecInputs;
  readonly description?: string;
  readonly protonServiceRoleArn?: string;
  readonly environmentAccountConnectionId?: string;
  readonly provisioningRepository?: RepositoryBranch;
  readonly codebuildRoleArn?: string;
  readonly componentRoleArn?: string;
  readonly tags: Tag[];
  readonly outputAttributes: string[];
  readonly adoptExisting: boolean;
}

function readEnvironment(properties: ResourceProperties | undefined): DesiredEnvironment {
  const p = new PropertyReader(properties, ResourceTypes.ENVIRONMENT);
  const inputs = p.json(EnvironmentProperties.SPEC) ?? {};
  if (typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new Error(`${ResourceTypes.ENVIRONMENT} property ${EnvironmentProperties.SPEC}: a JSON object of inputs is required, got a ${Array.isArray(inputs) ? 'list' : typeof inputs} (values not shown: specs may hold secrets)`);
  }
  return {
    name: p.string(EnvironmentProperties.ENVIRONMENT_NAME),
    templateName: p.string(EnvironmentProperties.TEMPLATE_NAME),
    selector: {
      templateName: p.string(EnvironmentProperties.TEMPLATE_NAME),
      majorVersion: p.string(EnvironmentProperties.TEMPLATE_MAJOR_VERSION),
      minorVersion: p.optionalString(EnvironmentProperties.TEMPLATE_MINOR_VERSION),
      bundleHash: p.optionalString(EnvironmentProperties.TEMPLATE_BUNDLE_HASH),
    },
    inputs: inputs as SpecInputs,
    description: p.optionalString(EnvironmentProperties.DESCRIPTION),
    protonServiceRoleArn: p.optionalString(EnvironmentProperties.PROTON_SERVICE_ROLE_ARN),
    environmentAccountConnectionId: p.optionalString(EnvironmentProperties.ENVIRONMENT_ACCOUNT_CONNECTION_ID),
    provisioningRepository: readRepository(p, EnvironmentProperties.PROVISIONING_REPOSITORY),
    codebuildRoleArn: p.optionalString(EnvironmentProperties.CODEBUILD_ROLE_ARN),
    componentRoleArn: p.optionalString(EnvironmentProperties.COMPONENT_ROLE_ARN),
    tags: readTags(p, EnvironmentProperties.TAGS),
    outputAttributes: p.stringList(EnvironmentProperties.OUTPUT_KEYS) ?? [],
    adoptExisting: p.boolean(EnvironmentProperties.ADOPT_EXISTING, false),
  };
}

/** A JSON `{ provider, name, branch }` property (Proton's RepositoryBranchInput); absent gives undefined. */
export function readRepository(p: PropertyReader, property: string): RepositoryBranch | undefined {
  const value = p.json(property) as any;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || ['provider', 'name', 'branch'].some(field => typeof value[field] !== 'string')) {
    throw new Error(`property ${property}: a JSON object with string fields provider, name, branch is required, got ${JSON.stringify(value)}`);
  }
  return { provider: value.provider, name: value.name, branch: value.branch };
}

const what = (name: string) => `environment '${name}'`;

/** The settings Proton changes without a deployment (deploymentType NONE); only those the properties set. */
function settingsOf(desired: DesiredEnvironment) {
  return {
    description: desired.description,
    protonServiceRoleArn: desired.protonServiceRoleArn,
    environmentAccountConnectionId: desired.environmentAccountConnectionId,
    provisioningRepository: desired.provisioningRepository,
    codebuildRoleArn: desired.codebuildRoleArn,
    componentRoleArn: desired.componentRoleArn,
  };
}

function settingsDiffer(desired: DesiredEnvironment, actual: Environment): boolean {
  const wanted = settingsOf(desired);
  return (Object.keys(wanted) as Array<keyof typeof wanted>).some(key => {
    const value = wanted[key];
    if (value === undefined) return false;
    if (key === 'provisioningRepository') {
      const current = actual.provisioningRepository;
      const repository = value as RepositoryBranch;
      return current?.provider !== repository.provider || current?.name !== repository.name || current?.branch !== repository.branch;
    }
    return actual[key] !== value;
  });
}

async function getEnvironment(client: ProtonClient, name: string): Promise<Environment | undefined> {
  return ignoreNotFound(async () => (await client.send(new GetEnvironmentCommand({ name }))).environment);
}

const VERSION_KEY = 'EnvironmentVersion';
const CREATE_DEFERRED = 'CreateDeferred';

/**
 * Creates the environment once its template version can be resolved (a version still registering defers the create
 * to isComplete). An environment of that name that this resource created is this one again; see checkOwnership.
 */
async function create(ctx: StepContext, desired: DesiredEnvironment): Promise<Progress> {
  const existing = await getEnvironment(ctx.client, desired.name);
  if (existing) {
    await checkOwnership(ctx, existing.arn!, what(desired.name), desired.adoptExisting);
    return DONE;
  }
  const resolved = await resolveVersion(ctx, ENVIRONMENT_TEMPLATES, desired.selector, VERSION_KEY);
  if ('waiting' in resolved) {
    ctx.remember(CREATE_DEFERRED, 'true');
    return pending(`waiting to create ${what(desired.name)}: ${resolved.waiting}`);
  }
  try {
    await ctx.client.send(new CreateEnvironmentCommand({
      name: desired.name,
      templateName: desired.templateName,
      templateMajorVersion: resolved.version.major,
      templateMinorVersion: resolved.version.minor,
      spec: renderEnvironmentSpec(desired.inputs),
      ...settingsOf(desired),
      tags: [ownerTag(ctx), ...desired.tags],
    }));
    ctx.tagsSent();
  } catch (error) {
    // CreateEnvironment is idempotent by name: only an environment created in between with other settings fails here.
    if (!isIdempotentParameterMismatch(error) && errorName(error) !== 'ConflictException') throw error;
    const other = await getEnvironment(ctx.client, desired.name);
    if (!other) throw error;
    await checkOwnership(ctx, other.arn!, what(desired.name), desired.adoptExisting);
  }
  return pending(`creating ${what(desired.name)}`);
}

/**
 * One reconciliation pass: waits while a deployment runs, deploys the spec and template version, then updates the
 * settings, then the tags.
 *
 * @param retryFailed true in onEvent: an environment that failed with these very settings is deployed again;
 * in isComplete such a failure is the outcome of this request's deployment and fails the resource.
 */
async function advance(
  ctx: StepContext, desired: DesiredEnvironment, previous: DesiredEnvironment | undefined, retryFailed: boolean,
): Promise<Progress> {
  const client = ctx.client;
  const name = desired.name;
  const environment = await getEnvironment(client, name);
  if (!environment) {
    if (ctx.recall(CREATE_DEFERRED) === 'true') return create(ctx, desired);
    throw new Error(`${what(name)} does not exist (it was deleted outside this stack?)`);
  }
  const status = environment.deploymentStatus;
  if (isBusy(status)) {
    return pending(`${what(name)} is ${status}`);
  }
  if (status === 'DELETE_FAILED') {
    throw new Error(`${what(name)} is DELETE_FAILED: ${environment.deploymentStatusMessage ?? 'no message'}`);
  }
  if (environment.templateName !== desired.templateName) {
    throw new Error(`${what(name)} uses template '${environment.templateName}' and Proton can't move it to template '${desired.templateName}': `
      + 'give the environment a new name (environmentName) to replace it');
  }
  const resolved = await resolveVersion(ctx, ENVIRONMENT_TEMPLATES, desired.selector, VERSION_KEY);
  if ('waiting' in resolved) return pending(resolved.waiting);
  const version: TemplateVersion = resolved.version;
  const current = { major: environment.templateMajorVersion!, minor: environment.templateMinorVersion! };
  const deployed = sameVersion(current, version) && sameInputs(environmentInputs(environment.spec), desired.inputs);
  if (!deployed || (status === 'FAILED' && retryFailed)) {
    const move = versionMove(what(name), current, version);
    return whenFreeStarting(`deploying ${what(name)} (${move.deploymentType})`, () => client.send(new UpdateEnvironmentCommand({
      name, ...move, spec: renderEnvironmentSpec(desired.inputs), ...settingsOf(desired),
    })));
  }
  if (status === 'FAILED') {
    throw new Error(`${what(name)} failed to deploy: ${environment.deploymentStatusMessage ?? 'Proton gave no reason'}`);
  }
  if (settingsDiffer(desired, environment)) {
    return whenFree(`updating the settings of ${what(name)}`, () => client.send(new UpdateEnvironmentCommand({
      name, deploymentType: 'NONE', ...settingsOf(desired),
    })));
  }
  // Superseded versions it left are collected by the stack's Custom::ProtonSupersededVersions, once nothing can roll back.
  return syncTags(ctx, environment.arn!, desired.tags, previous?.tags ?? []);
}

function data(client: ProtonClient, desired: DesiredEnvironment): Promise<{ [attribute: string]: string }> {
  return outputData(desired.outputAttributes, () => ({
    prefix: OutputAttributes.ENVIRONMENT,
    owner: what(desired.name),
    list: async () => {
      const outputs = [];
      for await (const page of paginateListEnvironmentOutputs({ client }, { environmentName: desired.name })) outputs.push(...page.outputs ?? []);
      return outputs;
    },
  }));
}

/**
 * One step of deletion: a deployment in progress is cancelled first (a create can't be cancelled: wait for it), then
 * the environment is deleted, then the handler waits for it to disappear.
 *
 * @param retryFailed true in onEvent: a DELETE_FAILED environment is deleted again; in isComplete it fails.
 */
async function advanceDeletion(ctx: StepContext, name: string, properties: DesiredEnvironment | undefined, retryFailed: boolean): Promise<Progress> {
  const client = ctx.client;
  const environment = await getEnvironment(client, name);
  if (!environment) {
    // Gone: the versions it ran on may be free now.
    if (properties && !retryFailed) await collectSupersededVersions(ctx, ENVIRONMENT_TEMPLATES, properties.templateName);
    return DONE;
  }
  switch (environment.deploymentStatus) {
    case 'DELETE_IN_PROGRESS':
    case 'CANCELLING':
      return pending(`${what(name)} is ${environment.deploymentStatus}`);
    case 'DELETE_FAILED':
      if (!retryFailed) {
        throw new Error(`${what(name)} failed to delete: ${environment.deploymentStatusMessage ?? 'Proton gave no reason'}`);
      }
      break;
    case 'IN_PROGRESS':
      try {
        await client.send(new CancelEnvironmentDeploymentCommand({ environmentName: name }));
        return pending(`cancelling the deployment of ${what(name)} before deleting it`);
      } catch (error) {
        if (isNotFound(error)) return DONE;
        // Proton cancels update deployments only: a create (or a deployment just finishing) is waited for.
        if (!isConflict(error) && errorName(error) !== 'ValidationException') throw error;
        return pending(`waiting for the deployment of ${what(name)} to finish before deleting it (${errorName(error)})`);
      }
  }
  try {
    await client.send(new DeleteEnvironmentCommand({ name }));
    return pending(`deleting ${what(name)}`);
  } catch (error) {
    if (isNotFound(error)) return DONE;
    // Nothing is deploying (checked above): the conflict is a service instance or component in the environment,
    // which waiting does not remove.
    if (isConflict(error)) throw new Error(`${what(name)} can't be deleted: ${(error as Error).message}`);
    throw error;
  }
}

export const environmentHandler: ResourceHandler = lifecycle<DesiredEnvironment>({
  resourceType: ResourceTypes.ENVIRONMENT,
  decode: readEnvironment,
  secrets: desired => specValues(desired.inputs),
  needsNewResource: (previous, desired) => previous.name !== desired.name,
  async create(ctx, desired) {
    await create(ctx, desired);
    return desired.name;
  },
  advance: (ctx, _name, desired, previous, firstStep) => advance(ctx, desired, previous, firstStep),
  advanceDeletion: (ctx, name, properties, firstStep) => advanceDeletion(ctx, name, properties, firstStep),
  data: (ctx, _name, desired) => data(ctx.client, desired),
});
