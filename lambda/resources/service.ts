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
  DeleteServiceCommand, GetServiceCommand, GetServiceInstanceCommand, Output, paginateListServiceInstanceOutputs,
  paginateListServicePipelineOutputs, ProtonClient, Service, ServiceInstance, UpdateServiceCommand, UpdateServiceInstanceCommand,
  UpdateServicePipelineCommand,
} from '@aws-sdk/client-proton';
import { isBusy, listOf, outputData, sameVersion, TemplateVersion, versionMove } from './workload';
import { OutputAttributes, ResourceTypes, ServiceProperties } from '../../src/private/properties';
import { InstanceSpec, renderServiceSpec, sameInputs, serviceSpecParts, SpecInputs } from '../../src/private/spec';
import { errorName, ignoreNotFound, isConflict, isIdempotentParameterMismatch, isNotFound } from '../shared/errors';
import { DONE, lifecycle, pending, Progress, StepContext } from '../shared/lifecycle';
import { PropertyReader } from '../shared/properties';
import { specValues } from '../shared/redact';
import { checkOwnership, ownerTag, readTags, syncTags, Tag, whenFree, whenFreeStarting } from '../shared/tags';
import { SERVICE_TEMPLATES } from '../shared/template-api';
import { clientToken, TokenSource } from '../shared/tokens';
import type { ResourceHandler, ResourceProperties } from '../shared/types';
import { collectSupersededVersions, resolveVersion, VersionSelector } from '../shared/versions';

/** The service the properties describe. */
interface DesiredService {
  readonly name: string;
  readonly templateName: string;
  readonly selector: VersionSelector;
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
  readonly adoptExisting: boolean;
}

function readService(properties: ResourceProperties | undefined): DesiredService {
  const p = new PropertyReader(properties, ResourceTypes.SERVICE);
  const instances = p.json(ServiceProperties.INSTANCES);
  const isInstance = (i: any) => i && typeof i.name === 'string' && typeof i.environment === 'string'
    && (i.spec === undefined || (typeof i.spec === 'object' && !Array.isArray(i.spec)));
  if (!Array.isArray(instances) || instances.length === 0 || !instances.every(isInstance)) {
    throw new Error(`${ResourceTypes.SERVICE} property ${ServiceProperties.INSTANCES}: a non-empty JSON list of `
      + `{ name, environment, spec } is required, got a ${Array.isArray(instances) ? 'list' : typeof instances} (values not shown: specs may hold secrets)`);
  }
  const pipeline = p.json(ServiceProperties.PIPELINE_SPEC);
  if (pipeline !== undefined && (typeof pipeline !== 'object' || Array.isArray(pipeline))) {
    throw new Error(`${ResourceTypes.SERVICE} property ${ServiceProperties.PIPELINE_SPEC}: a JSON object of inputs is required, got a ${Array.isArray(pipeline) ? 'list' : typeof pipeline} (values not shown: specs may hold secrets)`);
  }
  return {
    name: p.string(ServiceProperties.SERVICE_NAME),
    templateName: p.string(ServiceProperties.TEMPLATE_NAME),
    selector: {
      templateName: p.string(ServiceProperties.TEMPLATE_NAME),
      majorVersion: p.string(ServiceProperties.TEMPLATE_MAJOR_VERSION),
      minorVersion: p.optionalString(ServiceProperties.TEMPLATE_MINOR_VERSION),
      bundleHash: p.optionalString(ServiceProperties.TEMPLATE_BUNDLE_HASH),
    },
    instances: instances.map((i: any) => ({ name: i.name, environment: i.environment, spec: i.spec ?? {} })),
    pipeline: pipeline as SpecInputs | undefined,
    repositoryConnectionArn: p.optionalString(ServiceProperties.REPOSITORY_CONNECTION_ARN),
    repositoryId: p.optionalString(ServiceProperties.REPOSITORY_ID),
    branchName: p.optionalString(ServiceProperties.BRANCH_NAME),
    description: p.optionalString(ServiceProperties.DESCRIPTION),
    tags: readTags(p, ServiceProperties.TAGS),
    outputAttributes: p.stringList(ServiceProperties.OUTPUT_KEYS) ?? [],
    removedInstances: [],
    adoptExisting: p.boolean(ServiceProperties.ADOPT_EXISTING, false),
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
  return ignoreNotFound(async () => (await client.send(new GetServiceCommand({ name }))).service);
}

async function getInstance(client: ProtonClient, serviceName: string, name: string): Promise<ServiceInstance | undefined> {
  return ignoreNotFound(async () => (await client.send(new GetServiceInstanceCommand({ serviceName, name }))).serviceInstance);
}

const VERSION_KEY = 'ServiceVersion';
const CREATE_DEFERRED = 'CreateDeferred';

/**
 * Creates the service once its template version can be resolved (a version still registering defers the create to
 * isComplete). A service of that name that this resource created is this one again; see checkOwnership.
 */
async function create(ctx: StepContext, desired: DesiredService): Promise<Progress> {
  const existing = await getService(ctx.client, desired.name);
  if (existing) {
    await checkOwnership(ctx, existing.arn!, what(desired.name), desired.adoptExisting);
    return DONE;
  }
  const resolved = await resolveVersion(ctx, SERVICE_TEMPLATES, desired.selector, VERSION_KEY);
  if ('waiting' in resolved) {
    ctx.remember(CREATE_DEFERRED, 'true');
    return pending(`waiting to create ${what(desired.name)}: ${resolved.waiting}`);
  }
  try {
    await ctx.client.send(new CreateServiceCommand({
      name: desired.name,
      templateName: desired.templateName,
      templateMajorVersion: resolved.version.major,
      templateMinorVersion: resolved.version.minor,
      spec: renderServiceSpec({ pipeline: desired.pipeline, instances: desired.instances }),
      repositoryConnectionArn: desired.repositoryConnectionArn,
      repositoryId: desired.repositoryId,
      branchName: desired.branchName,
      description: desired.description,
      tags: [ownerTag(ctx), ...desired.tags],
    }));
    ctx.tagsSent();
  } catch (error) {
    // CreateService is idempotent by name: only a service created in between with other settings fails here.
    if (!isIdempotentParameterMismatch(error) && !isConflict(error)) throw error;
    const other = await getService(ctx.client, desired.name);
    if (!other) throw error;
    await checkOwnership(ctx, other.arn!, what(desired.name), desired.adoptExisting);
  }
  return pending(`creating ${what(desired.name)}`);
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
  ctx: StepContext, desired: DesiredService, previous: DesiredService | undefined, retryFailed: boolean,
): Promise<Progress> {
  const client = ctx.client;
  const source: TokenSource = ctx.event;
  const name = desired.name;
  const service = await getService(client, name);
  if (!service) {
    if (ctx.recall(CREATE_DEFERRED) === 'true') return create(ctx, desired);
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

  const resolved = await resolveVersion(ctx, SERVICE_TEMPLATES, desired.selector, VERSION_KEY);
  if ('waiting' in resolved) return pending(resolved.waiting);
  const version = resolved.version;
  const instanceSet = await advanceInstanceSet(client, source, service, desired, version, status, retryFailed);
  if (!instanceSet.done) return instanceSet;
  for (const instance of desired.instances) {
    const progress = await advanceInstance(client, source, service, desired, version, instance, retryFailed);
    if (!progress.done) return progress;
  }
  const pipeline = await advancePipeline(client, service, desired, version, retryFailed);
  if (!pipeline.done) return pipeline;
  if (desired.description !== undefined && desired.description !== (service.description ?? '')) {
    return whenFree(`updating the description of ${what(name)}`, () => client.send(new UpdateServiceCommand({ name, description: desired.description })));
  }
  // Superseded versions it left are collected by the stack's Custom::ProtonSupersededVersions, once nothing can roll back.
  return syncTags(ctx, service.arn!, desired.tags, previous?.tags ?? []);
}

/**
 * Adds instances, one per pass, with CreateServiceInstance on the desired template version (UpdateService would add
 * them on a version the API does not show, which may have been deleted since), then removes instances with
 * UpdateService (Proton has no other way), whose spec keeps every remaining instance and the pipeline exactly as they
 * are: UpdateService must not edit them, their own steps follow.
 */
async function advanceInstanceSet(
  client: ProtonClient, source: TokenSource, service: Service, desired: DesiredService, version: TemplateVersion, status: string,
  retryFailed: boolean,
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
    return whenFreeStarting(`adding ${instanceWhat(name, added.name)}`, () => client.send(new CreateServiceInstanceCommand({
      serviceName: name,
      name: added.name,
      spec: renderServiceSpec({ instances: [added] }),
      templateMajorVersion: version.major,
      templateMinorVersion: version.minor,
      clientToken: clientToken(source, `CreateServiceInstance|${added.name}`),
    })));
  }
  const removed = current.instances.filter(c => !desired.instances.some(i => i.name === c.name));
  if (removed.length > 0) {
    if (UPDATE_FAILED.has(status) && !retryFailed) {
      throw new Error(`${what(name)} failed to update its instances (${status}): ${service.statusMessage ?? 'Proton gave no reason'}`);
    }
    const spec = renderServiceSpec({ pipeline: current.pipeline, instances: current.instances.filter(c => !removed.includes(c)) });
    return whenFreeStarting(`removing ${listOf(removed.map(i => `instance '${i.name}'`))} from ${what(name)}`,
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
  client: ProtonClient, source: TokenSource, service: Service, desired: DesiredService, version: TemplateVersion, wanted: InstanceSpec,
  retryFailed: boolean,
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
  const deployed = sameVersion(current, version) && sameInputs(inputsIn(instance.spec, name) ?? inputsIn(service.spec, name), wanted.spec);
  if (!deployed || (status === 'FAILED' && retryFailed)) {
    const move = versionMove(label, current, version);
    const spec = renderServiceSpec({ instances: [wanted] });
    return whenFreeStarting(`deploying ${label} (${move.deploymentType})`, () => client.send(new UpdateServiceInstanceCommand({
      serviceName: desired.name,
      name,
      ...move,
      spec,
      clientToken: clientToken(source, `UpdateServiceInstance|${name}|${move.deploymentType}|${version.major}.${version.minor}`),
    })));
  }
  if (status === 'FAILED') {
    throw new Error(`${label} failed to deploy: ${instance.deploymentStatusMessage ?? 'Proton gave no reason'}`);
  }
  return DONE;
}

async function advancePipeline(
  client: ProtonClient, service: Service, desired: DesiredService, version: TemplateVersion, retryFailed: boolean,
): Promise<Progress> {
  const pipeline = service.pipeline;
  if (!desired.pipeline || !pipeline) return DONE;
  const label = `the pipeline of ${what(desired.name)}`;
  const status = pipeline.deploymentStatus;
  if (isBusy(status)) {
    return pending(`${label} is ${status}`);
  }
  const current = { major: pipeline.templateMajorVersion!, minor: pipeline.templateMinorVersion! };
  const deployed = sameVersion(current, version) && sameInputs(serviceSpecParts(pipeline.spec).pipeline, desired.pipeline);
  if (!deployed || (status === 'FAILED' && retryFailed)) {
    const move = versionMove(label, current, version);
    const spec = renderServiceSpec({ pipeline: desired.pipeline, instances: desired.instances });
    return whenFreeStarting(`deploying ${label} (${move.deploymentType})`, () => client.send(new UpdateServicePipelineCommand({
      serviceName: desired.name, ...move, spec,
    })));
  }
  if (status === 'FAILED') {
    throw new Error(`${label} failed to deploy: ${pipeline.deploymentStatusMessage ?? 'Proton gave no reason'}`);
  }
  return DONE;
}

const INSTANCE_OUTPUT = /^Instances\.([^.]+)\.Outputs\./;

async function allOutputs(pages: AsyncIterable<{ outputs?: Output[] }>): Promise<Output[]> {
  const outputs: Output[] = [];
  for await (const page of pages) outputs.push(...page.outputs ?? []);
  return outputs;
}

function data(client: ProtonClient, desired: DesiredService): Promise<{ [attribute: string]: string }> {
  const serviceName = desired.name;
  return outputData(desired.outputAttributes, attribute => {
    if (attribute.startsWith(OutputAttributes.PIPELINE)) {
      return {
        prefix: OutputAttributes.PIPELINE,
        owner: `the pipeline of ${what(serviceName)}`,
        list: () => allOutputs(paginateListServicePipelineOutputs({ client }, { serviceName })),
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
      list: () => allOutputs(paginateListServiceInstanceOutputs({ client }, { serviceName, serviceInstanceName: instance })),
    };
  });
}

/**
 * One step of deletion: deployments in progress are cancelled first (one per pass), then the service is deleted with
 * its instances and pipeline, then the handler waits for it to disappear.
 *
 * @param retryFailed true in onEvent: a DELETE_FAILED service is deleted again; in isComplete it fails.
 */
async function advanceDeletion(ctx: StepContext, name: string, properties: DesiredService | undefined, retryFailed: boolean): Promise<Progress> {
  const client = ctx.client;
  const service = await getService(client, name);
  if (!service) {
    // Gone: the versions its instances and pipeline ran on may be free now.
    if (properties && !retryFailed) await collectSupersededVersions(ctx, SERVICE_TEMPLATES, properties.templateName);
    return DONE;
  }
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
  if (!SERVICE_BUSY.has(status) && service.pipeline?.deploymentStatus !== 'CANCELLING') {
    // Deleted straight away in the usual case (nothing deploying), without reading each instance first: Proton's
    // refusal (an instance deploying) sends the step on to the instances, whose deployments are cancelled first.
    try {
      await client.send(new DeleteServiceCommand({ name }));
      return pending(`deleting ${what(name)}`);
    } catch (error) {
      if (isNotFound(error)) return pending(`deleting ${what(name)}`);
      if (!isConflict(error)) throw error;
    }
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
  return whenFreeStarting(`deleting ${what(name)}`, async () => {
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
function withRemovedInstances(desired: DesiredService, previous: DesiredService | undefined): DesiredService {
  if (!previous || previous.name !== desired.name) return desired;
  const removedInstances = previous.instances.map(i => i.name).filter(n => !desired.instances.some(i => i.name === n));
  return { ...desired, removedInstances };
}

export const serviceHandler: ResourceHandler = lifecycle<DesiredService>({
  resourceType: ResourceTypes.SERVICE,
  decode: readService,
  secrets: desired => [...desired.instances.flatMap(i => specValues(i.spec)), ...specValues(desired.pipeline)],
  needsNewResource: (previous, desired) => previous.name !== desired.name,
  async create(ctx, desired) {
    await create(ctx, desired);
    return desired.name;
  },
  advance: (ctx, _name, desired, previous, firstStep) => advance(ctx, withRemovedInstances(desired, previous), previous, firstStep),
  advanceDeletion: (ctx, name, properties, firstStep) => advanceDeletion(ctx, name, properties, firstStep),
  data: (ctx, _name, desired) => data(ctx.client, desired),
});
