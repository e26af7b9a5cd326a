/**
 * Custom::ProtonService. The physical id is the service's name.
 *
 * onEvent makes at most one call; isComplete compares what Proton reports with the desired service and takes the next
 * step once nothing is in progress, one call per poll, in this order: the instance set (CreateServiceInstance adds,
 * UpdateService removes), each instance's spec and template version (UpdateServiceInstance, with a client token derived from the
 * request), the pipeline (UpdateServicePipeline), the description, the tags. Every step is decided from Proton's state,
 * so a re-delivered event or a repeated poll never deploys twice.
 */
import {
  CancelServiceInstanceDeploymentCommand, CancelServicePipelineDeploymentCommand, CreateServiceCommand, CreateServiceInstanceCommand,
  DeleteServiceCommand, GetServiceCommand, GetServiceInstanceCommand, ListServiceInstanceOutputsCommand, ListServicePipelineOutputsCommand,
  ProtonClient, Service, ServiceInstance, UpdateServiceCommand, UpdateServiceInstanceCommand, UpdateServicePipelineCommand,
} from '@aws-sdk/client-proton';
import {
  DONE, isBusy, listOf, outputData, pending, Progress, readTags, sameVersion, syncTags, Tag, TemplateVersion, versionMove, whenFree,
  namedWorkloadHandler,
} from './workload';
import { OutputAttributes, ResourceTypes, ServiceProperties } from '../../src/private/properties';
import { InstanceSpec, renderServiceSpec, sameInputs, serviceSpecParts, SpecInputs } from '../../src/private/spec';
import { errorName, isConflict, isIdempotentParameterMismatch, isNotFound } from '../shared/errors';
import { PropertyReader } from '../shared/properties';
import { clientToken, TokenSource } from '../shared/tokens';
import type { IsCompleteRequest, OnEventRequest, ResourceHandler, ResourceProperties } from '../shared/types';

/** The service the properties describe. */
interface DesiredService {
  readonly name: string;
  readonly templateName: string;
  readonly version: TemplateVersion;
  readonly instances: InstanceSpec[];
  /** Absent when the template has no pipeline. */
  readonly pipeline?: SpecInputs;
  readonly repositoryConnectionArn?: string;
  readonly repositoryId?: string;
  readonly branchName?: string;
  readonly description?: string;
  readonly tags: Tag[];
  readonly outputAttributes: string[];
  /** Instances the previous properties of an update had and these don't: they may still be on their way out. */
  readonly removedInstances: string[];
}

function readService(properties: ResourceProperties | undefined): DesiredService {
  const p = new PropertyReader(properties, ResourceTypes.SERVICE);
  const instances = p.json(ServiceProperties.INSTANCES);
  const isInstance = (i: any) => i && typeof i.name === 'string' && typeof i.environment === 'string'
    && (i.spec === undefined || (typeof i.spec === 'object' && !Array.isArray(i.spec)));
  if (!Array.isArray(instances) || instances.length === 0 || !instances.every(isInstance)) {
    throw new Error(`${ResourceTypes.SERVICE} property ${ServiceProperties.INSTANCES}: a non-empty JSON list of `
      + `{ name, environment, spec } is required, got ${JSON.stringify(instances)}`);
  }
  const pipeline = p.json(ServiceProperties.PIPELINE_SPEC);
  if (pipeline !== undefined && (typeof pipeline !== 'object' || Array.isArray(pipeline))) {
    throw new Error(`${ResourceTypes.SERVICE} property ${ServiceProperties.PIPELINE_SPEC}: a JSON object of inputs is required, got ${JSON.stringify(pipeline)}`);
  }
  return {
    name: p.string(ServiceProperties.SERVICE_NAME),
    templateName: p.string(ServiceProperties.TEMPLATE_NAME),
    version: { major: p.string(ServiceProperties.TEMPLATE_MAJOR_VERSION), minor: p.string(ServiceProperties.TEMPLATE_MINOR_VERSION) },
    instances: instances.map((i: any) => ({ name: i.name, environment: i.environment, spec: i.spec ?? {} })),
    pipeline: pipeline as SpecInputs | undefined,
    repositoryConnectionArn: p.optionalString(ServiceProperties.REPOSITORY_CONNECTION_ARN),
    repositoryId: p.optionalString(ServiceProperties.REPOSITORY_ID),
    branchName: p.optionalString(ServiceProperties.BRANCH_NAME),
    description: p.optionalString(ServiceProperties.DESCRIPTION),
    tags: readTags(p, ServiceProperties.TAGS),
    outputAttributes: p.stringList(ServiceProperties.OUTPUT_KEYS) ?? [],
    removedInstances: [],
  };
}

const what = (name: string) => `service '${name}'`;
const instanceWhat = (service: string, instance: string) => `service instance '${instance}' of service '${service}'`;

const SERVICE_BUSY = new Set([
  'CREATE_IN_PROGRESS', 'CREATE_FAILED_CLEANUP_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'UPDATE_FAILED_CLEANUP_IN_PROGRESS', 'DELETE_IN_PROGRESS',
]);
const CREATE_FAILED = new Set(['CREATE_FAILED', 'CREATE_FAILED_CLEANUP_COMPLETE', 'CREATE_FAILED_CLEANUP_FAILED']);
const UPDATE_FAILED = new Set(['UPDATE_FAILED', 'UPDATE_FAILED_CLEANUP_COMPLETE', 'UPDATE_FAILED_CLEANUP_FAILED']);

async function getService(client: ProtonClient, name: string): Promise<Service | undefined> {
  try {
    return (await client.send(new GetServiceCommand({ name }))).service;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function getInstance(client: ProtonClient, serviceName: string, name: string): Promise<ServiceInstance | undefined> {
  try {
    return (await client.send(new GetServiceInstanceCommand({ serviceName, name }))).serviceInstance;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function create(client: ProtonClient, desired: DesiredService): Promise<void> {
  try {
    await client.send(new CreateServiceCommand({
      name: desired.name,
      templateName: desired.templateName,
      templateMajorVersion: desired.version.major,
      templateMinorVersion: desired.version.minor,
      spec: renderServiceSpec({ pipeline: desired.pipeline, instances: desired.instances }),
      repositoryConnectionArn: desired.repositoryConnectionArn,
      repositoryId: desired.repositoryId,
      branchName: desired.branchName,
      description: desired.description,
      tags: desired.tags.length > 0 ? desired.tags : undefined,
    }));
  } catch (error) {
    // CreateService is idempotent by name: the same request again succeeds, so only another service fails here.
    if (isIdempotentParameterMismatch(error) || isConflict(error)) {
      throw new Error(`${what(desired.name)} already exists with other settings: choose another serviceName (${(error as Error).message})`);
    }
    throw error;
  }
}

/** The inputs of one instance, as a service spec lists it. */
function inputsIn(specText: string | undefined, instanceName: string): SpecInputs | undefined {
  return serviceSpecParts(specText).instances.find(i => i.name === instanceName)?.spec;
}

/**
 * One reconciliation pass over the service, its instances and its pipeline.
 *
 * @param retryFailed true in onEvent: something that failed with these very settings is deployed again; in isComplete
 * such a failure is the outcome of this request and fails the resource.
 */
async function advance(
  client: ProtonClient, source: TokenSource, desired: DesiredService, previous: DesiredService | undefined, retryFailed: boolean,
): Promise<Progress> {
  const name = desired.name;
  const service = await getService(client, name);
  if (!service) {
    throw new Error(`${what(name)} does not exist (it was deleted outside this stack?)`);
  }
  const status = service.status!;
  if (SERVICE_BUSY.has(status)) {
    return pending(`${what(name)} is ${status}`);
  }
  if (CREATE_FAILED.has(status) || status === 'DELETE_FAILED') {
    throw new Error(`${what(name)} is ${status}: ${service.statusMessage ?? 'Proton gave no reason'}`);
  }
  if (service.templateName !== desired.templateName) {
    throw new Error(`${what(name)} uses template '${service.templateName}' and Proton can't move it to template '${desired.templateName}': `
      + 'give the service a new name (serviceName) to replace it');
  }
  const repositoryChanged = (['repositoryConnectionArn', 'repositoryId', 'branchName'] as const)
    .some(field => (desired[field] ?? undefined) !== (service[field] ?? undefined));
  if (repositoryChanged) {
    throw new Error(`${what(name)} builds from ${service.repositoryId ?? 'no repository'} (${service.branchName ?? '-'}); Proton can't change `
      + 'a service\'s repository: give the service a new name (serviceName) to replace it');
  }

  const instanceSet = await advanceInstanceSet(client, source, service, desired, status, retryFailed);
  if (!instanceSet.done) return instanceSet;
  for (const instance of desired.instances) {
    const progress = await advanceInstance(client, source, service, desired, instance, retryFailed);
    if (!progress.done) return progress;
  }
  const pipeline = await advancePipeline(client, service, desired, retryFailed);
  if (!pipeline.done) return pipeline;
  if (desired.description !== undefined && desired.description !== (service.description ?? '')) {
    return whenFree(`updating the description of ${what(name)}`, () => client.send(new UpdateServiceCommand({ name, description: desired.description })));
  }
  return syncTags(client, service.arn!, desired.tags, previous?.tags ?? []);
}

/**
 * Adds instances, one per pass, with CreateServiceInstance on the desired template version (UpdateService would add
 * them on a version the API does not show, which may have been deleted since), then removes instances with
 * UpdateService (Proton has no other way), whose spec keeps every remaining instance and the pipeline exactly as they
 * are: UpdateService must not edit them, their own steps follow.
 */
async function advanceInstanceSet(
  client: ProtonClient, source: TokenSource, service: Service, desired: DesiredService, status: string, retryFailed: boolean,
): Promise<Progress> {
  const name = desired.name;
  const current = serviceSpecParts(service.spec);
  for (const instance of desired.instances) {
    const existing = current.instances.find(i => i.name === instance.name);
    if (existing && existing.environment !== instance.environment) {
      throw new Error(`${instanceWhat(name, instance.name)} runs in environment '${existing.environment}' and Proton can't move it to `
        + `'${instance.environment}': give the instance a new name to replace it`);
    }
  }
  const added = desired.instances.find(i => !current.instances.some(c => c.name === i.name));
  if (added) {
    return whenFree(`adding ${instanceWhat(name, added.name)}`, () => client.send(new CreateServiceInstanceCommand({
      serviceName: name,
      name: added.name,
      spec: renderServiceSpec({ instances: [added] }),
      templateMajorVersion: desired.version.major,
      templateMinorVersion: desired.version.minor,
      clientToken: clientToken(source, `CreateServiceInstance|${added.name}`),
    })));
  }
  const removed = current.instances.filter(c => !desired.instances.some(i => i.name === c.name));
  if (removed.length > 0) {
    if (UPDATE_FAILED.has(status) && !retryFailed) {
      throw new Error(`${what(name)} failed to update its instances (${status}): ${service.statusMessage ?? 'Proton gave no reason'}`);
    }
    const spec = renderServiceSpec({ pipeline: current.pipeline, instances: current.instances.filter(c => !removed.includes(c)) });
    return whenFree(`removing ${listOf(removed.map(i => `instance '${i.name}'`))} from ${what(name)}`,
      () => client.send(new UpdateServiceCommand({ name, spec })));
  }
  // Instances removed by an earlier pass disappear once Proton has deprovisioned them.
  for (const instanceName of desired.removedInstances) {
    const instance = await getInstance(client, name, instanceName);
    if (!instance) continue;
    if (instance.deploymentStatus === 'DELETE_FAILED') {
      throw new Error(`${instanceWhat(name, instanceName)} failed to delete: ${instance.deploymentStatusMessage ?? 'Proton gave no reason'}`);
    }
    return pending(`${instanceWhat(name, instanceName)} is ${instance.deploymentStatus}`);
  }
  return DONE;
}

async function advanceInstance(
  client: ProtonClient, source: TokenSource, service: Service, desired: DesiredService, wanted: InstanceSpec, retryFailed: boolean,
): Promise<Progress> {
  const name = wanted.name;
  const label = instanceWhat(desired.name, name);
  const instance = await getInstance(client, desired.name, name);
  if (!instance) {
    return pending(`${label} is not there yet`);
  }
  const status = instance.deploymentStatus;
  if (isBusy(status)) {
    return pending(`${label} is ${status}`);
  }
  const current = { major: instance.templateMajorVersion!, minor: instance.templateMinorVersion! };
  const deployed = sameVersion(current, desired.version) && sameInputs(inputsIn(instance.spec, name) ?? inputsIn(service.spec, name), wanted.spec);
  if (!deployed || (status === 'FAILED' && retryFailed)) {
    const move = versionMove(label, current, desired.version);
    const spec = renderServiceSpec({ instances: [wanted] });
    return whenFree(`deploying ${label} (${move.deploymentType})`, () => client.send(new UpdateServiceInstanceCommand({
      serviceName: desired.name,
      name,
      ...move,
      spec,
      clientToken: clientToken(source, `UpdateServiceInstance|${name}|${move.deploymentType}|${desired.version.major}.${desired.version.minor}`),
    })));
  }
  if (status === 'FAILED') {
    throw new Error(`${label} failed to deploy: ${instance.deploymentStatusMessage ?? 'Proton gave no reason'}`);
  }
  return DONE;
}

async function advancePipeline(client: ProtonClient, service: Service, desired: DesiredService, retryFailed: boolean): Promise<Progress> {
  const pipeline = service.pipeline;
  if (!desired.pipeline || !pipeline) return DONE;
  const label = `the pipeline of ${what(desired.name)}`;
  const status = pipeline.deploymentStatus;
  if (isBusy(status)) {
    return pending(`${label} is ${status}`);
  }
  const current = { major: pipeline.templateMajorVersion!, minor: pipeline.templateMinorVersion! };
  const deployed = sameVersion(current, desired.version) && sameInputs(serviceSpecParts(pipeline.spec).pipeline, desired.pipeline);
  if (!deployed || (status === 'FAILED' && retryFailed)) {
    const move = versionMove(label, current, desired.version);
    const spec = renderServiceSpec({ pipeline: desired.pipeline, instances: desired.instances });
    return whenFree(`deploying ${label} (${move.deploymentType})`, () => client.send(new UpdateServicePipelineCommand({
      serviceName: desired.name, ...move, spec,
    })));
  }
  if (status === 'FAILED') {
    throw new Error(`${label} failed to deploy: ${pipeline.deploymentStatusMessage ?? 'Proton gave no reason'}`);
  }
  return DONE;
}

const INSTANCE_OUTPUT = /^Instances\.([^.]+)\.Outputs\./;

function data(client: ProtonClient, desired: DesiredService): Promise<{ [attribute: string]: string }> {
  const serviceName = desired.name;
  return outputData(desired.outputAttributes, attribute => {
    if (attribute.startsWith(OutputAttributes.PIPELINE)) {
      return {
        prefix: OutputAttributes.PIPELINE,
        owner: `the pipeline of ${what(serviceName)}`,
        list: async () => (await client.send(new ListServicePipelineOutputsCommand({ serviceName }))).outputs ?? [],
      };
    }
    const instance = attribute.match(INSTANCE_OUTPUT)?.[1];
    if (instance === undefined) {
      throw new Error(`${ResourceTypes.SERVICE} property ${ServiceProperties.OUTPUT_KEYS}: ${JSON.stringify(attribute)} is not an output attribute `
        + `(${OutputAttributes.instance('<instance>')}<key> or ${OutputAttributes.PIPELINE}<key>)`);
    }
    return {
      prefix: OutputAttributes.instance(instance),
      owner: instanceWhat(serviceName, instance),
      list: async () => (await client.send(new ListServiceInstanceOutputsCommand({ serviceName, serviceInstanceName: instance }))).outputs ?? [],
    };
  });
}

/**
 * One step of deletion: deployments in progress are cancelled first (one per pass), then the service is deleted with
 * its instances and pipeline, then the handler waits for it to disappear.
 *
 * @param retryFailed true in onEvent: a DELETE_FAILED service is deleted again; in isComplete it fails.
 */
async function advanceDeletion(client: ProtonClient, name: string, retryFailed: boolean): Promise<Progress> {
  const service = await getService(client, name);
  if (!service) return DONE;
  const status = service.status!;
  if (status === 'DELETE_IN_PROGRESS') {
    return pending(`${what(name)} is ${status}`);
  }
  if (status === 'DELETE_FAILED' && !retryFailed) {
    throw new Error(`${what(name)} failed to delete: ${service.statusMessage ?? 'Proton gave no reason'}`);
  }
  if (service.pipeline?.deploymentStatus === 'IN_PROGRESS') {
    return cancel(`the pipeline of ${what(name)}`, () => client.send(new CancelServicePipelineDeploymentCommand({ serviceName: name })));
  }
  for (const instance of serviceSpecParts(service.spec).instances) {
    const current = await getInstance(client, name, instance.name);
    if (current?.deploymentStatus === 'IN_PROGRESS') {
      return cancel(instanceWhat(name, instance.name), () => client.send(new CancelServiceInstanceDeploymentCommand({
        serviceName: name, serviceInstanceName: instance.name,
      })));
    }
    if (current?.deploymentStatus === 'CANCELLING') {
      return pending(`${instanceWhat(name, instance.name)} is CANCELLING`);
    }
  }
  if (service.pipeline?.deploymentStatus === 'CANCELLING') {
    return pending(`the pipeline of ${what(name)} is CANCELLING`);
  }
  if (SERVICE_BUSY.has(status)) {
    return pending(`${what(name)} is ${status}`);
  }
  return whenFree(`deleting ${what(name)}`, async () => {
    try {
      await client.send(new DeleteServiceCommand({ name }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  });
}

/** Cancels a deployment before deleting; one Proton can't cancel (a create, one just finishing) is waited for. */
async function cancel(label: string, call: () => Promise<unknown>): Promise<Progress> {
  try {
    await call();
    return pending(`cancelling the deployment of ${label} before deleting the service`);
  } catch (error) {
    if (!isNotFound(error) && !isConflict(error) && errorName(error) !== 'ValidationException') throw error;
    return pending(`waiting for the deployment of ${label} to finish before deleting the service (${errorName(error)})`);
  }
}

/** The desired service, with the instances the previous properties had and these no longer list. */
function readUpdate(event: OnEventRequest | IsCompleteRequest): { desired: DesiredService; previous?: DesiredService } {
  const desired = readService(event.ResourceProperties);
  if (event.RequestType !== 'Update') return { desired };
  const previous = readService(event.OldResourceProperties);
  if (previous.name !== desired.name) return { desired };
  const removedInstances = previous.instances.map(i => i.name).filter(n => !desired.instances.some(i => i.name === n));
  return { desired: { ...desired, removedInstances }, previous };
}

export const serviceHandler: ResourceHandler = namedWorkloadHandler<DesiredService>({
  read: readUpdate,
  create,
  advance,
  advanceDeletion,
  data,
});
