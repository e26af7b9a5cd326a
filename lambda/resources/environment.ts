/**
 * Custom::ProtonEnvironment. The physical id is the environment's name.
 *
 * onEvent makes at most one call (create, the first update, or cancel/delete); isComplete compares the environment
 * Proton reports with the desired one and takes the next step (deploy, settings, tags) once nothing is in progress.
 * Every step is decided from Proton's state, so a re-delivered event or a repeated poll never deploys twice.
 */
import {
  CancelEnvironmentDeploymentCommand, CreateEnvironmentCommand, DeleteEnvironmentCommand, Environment, GetEnvironmentCommand,
  ListEnvironmentOutputsCommand, ProtonClient, RepositoryProvider, UpdateEnvironmentCommand,
} from '@aws-sdk/client-proton';
import {
  DONE, isBusy, outputData, pending, Progress, readTags, sameVersion, syncTags, Tag, TemplateVersion, versionMove, whenFree,
  namedWorkloadHandler,
} from './workload';
import { EnvironmentProperties, OutputAttributes, ResourceTypes } from '../../src/private/properties';
import { environmentInputs, renderEnvironmentSpec, sameInputs, SpecInputs } from '../../src/private/spec';
import { errorName, isConflict, isIdempotentParameterMismatch, isNotFound } from '../shared/errors';
import { PropertyReader } from '../shared/properties';
import type { ResourceHandler, ResourceProperties } from '../shared/types';

export interface RepositoryBranch {
  readonly provider: RepositoryProvider;
  readonly name: string;
  readonly branch: string;
}

/** The environment the properties describe. */
interface DesiredEnvironment {
  readonly name: string;
  readonly templateName: string;
  readonly version: TemplateVersion;
  readonly inputs: SpecInputs;
  readonly description?: string;
  readonly protonServiceRoleArn?: string;
  readonly environmentAccountConnectionId?: string;
  readonly provisioningRepository?: RepositoryBranch;
  readonly codebuildRoleArn?: string;
  readonly componentRoleArn?: string;
  readonly tags: Tag[];
  readonly outputAttributes: string[];
}

function readEnvironment(properties: ResourceProperties | undefined): DesiredEnvironment {
  const p = new PropertyReader(properties, ResourceTypes.ENVIRONMENT);
  const inputs = p.json(EnvironmentProperties.SPEC) ?? {};
  if (typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new Error(`${ResourceTypes.ENVIRONMENT} property ${EnvironmentProperties.SPEC}: a JSON object of inputs is required, got ${JSON.stringify(inputs)}`);
  }
  return {
    name: p.string(EnvironmentProperties.ENVIRONMENT_NAME),
    templateName: p.string(EnvironmentProperties.TEMPLATE_NAME),
    version: { major: p.string(EnvironmentProperties.TEMPLATE_MAJOR_VERSION), minor: p.string(EnvironmentProperties.TEMPLATE_MINOR_VERSION) },
    inputs: inputs as SpecInputs,
    description: p.optionalString(EnvironmentProperties.DESCRIPTION),
    protonServiceRoleArn: p.optionalString(EnvironmentProperties.PROTON_SERVICE_ROLE_ARN),
    environmentAccountConnectionId: p.optionalString(EnvironmentProperties.ENVIRONMENT_ACCOUNT_CONNECTION_ID),
    provisioningRepository: readRepository(p, EnvironmentProperties.PROVISIONING_REPOSITORY),
    codebuildRoleArn: p.optionalString(EnvironmentProperties.CODEBUILD_ROLE_ARN),
    componentRoleArn: p.optionalString(EnvironmentProperties.COMPONENT_ROLE_ARN),
    tags: readTags(p, EnvironmentProperties.TAGS),
    outputAttributes: p.stringList(EnvironmentProperties.OUTPUT_KEYS) ?? [],
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
  try {
    return (await client.send(new GetEnvironmentCommand({ name }))).environment;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function create(client: ProtonClient, desired: DesiredEnvironment): Promise<void> {
  try {
    await client.send(new CreateEnvironmentCommand({
      name: desired.name,
      templateName: desired.templateName,
      templateMajorVersion: desired.version.major,
      templateMinorVersion: desired.version.minor,
      spec: renderEnvironmentSpec(desired.inputs),
      ...settingsOf(desired),
      tags: desired.tags.length > 0 ? desired.tags : undefined,
    }));
  } catch (error) {
    // CreateEnvironment is idempotent by name: the same request again succeeds, so only another environment fails here.
    if (isIdempotentParameterMismatch(error) || errorName(error) === 'ConflictException') {
      throw new Error(`${what(desired.name)} already exists with other settings: choose another environmentName (${(error as Error).message})`);
    }
    throw error;
  }
}

/**
 * One reconciliation pass: waits while a deployment runs, deploys the spec and template version, then updates the
 * settings, then the tags.
 *
 * @param retryFailed true in onEvent: an environment that failed with these very settings is deployed again;
 * in isComplete such a failure is the outcome of this request's deployment and fails the resource.
 */
async function advance(
  client: ProtonClient, desired: DesiredEnvironment, previous: DesiredEnvironment | undefined, retryFailed: boolean,
): Promise<Progress> {
  const name = desired.name;
  const environment = await getEnvironment(client, name);
  if (!environment) {
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
  const current = { major: environment.templateMajorVersion!, minor: environment.templateMinorVersion! };
  const deployed = sameVersion(current, desired.version) && sameInputs(environmentInputs(environment.spec), desired.inputs);
  if (!deployed || (status === 'FAILED' && retryFailed)) {
    const move = versionMove(what(name), current, desired.version);
    return whenFree(`deploying ${what(name)} (${move.deploymentType})`, () => client.send(new UpdateEnvironmentCommand({
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
  return syncTags(client, environment.arn!, desired.tags, previous?.tags ?? []);
}

function data(client: ProtonClient, desired: DesiredEnvironment): Promise<{ [attribute: string]: string }> {
  return outputData(desired.outputAttributes, () => ({
    prefix: OutputAttributes.ENVIRONMENT,
    owner: what(desired.name),
    list: async () => (await client.send(new ListEnvironmentOutputsCommand({ environmentName: desired.name }))).outputs ?? [],
  }));
}

/**
 * One step of deletion: a deployment in progress is cancelled first (a create can't be cancelled: wait for it), then
 * the environment is deleted, then the handler waits for it to disappear.
 *
 * @param retryFailed true in onEvent: a DELETE_FAILED environment is deleted again; in isComplete it fails.
 */
async function advanceDeletion(client: ProtonClient, name: string, retryFailed: boolean): Promise<Progress> {
  const environment = await getEnvironment(client, name);
  if (!environment) return DONE;
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

export const environmentHandler: ResourceHandler = namedWorkloadHandler<DesiredEnvironment>({
  read(event) {
    const desired = readEnvironment(event.ResourceProperties);
    const keepsName = event.RequestType === 'Update' && desired.name === event.PhysicalResourceId;
    return { desired, previous: keepsName ? readEnvironment(event.OldResourceProperties) : undefined };
  },
  create,
  advance: (client, _event, desired, previous, retryFailed) => advance(client, desired, previous, retryFailed),
  advanceDeletion,
  data,
});
