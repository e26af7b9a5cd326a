/**
 * Services, their instances and their pipeline. A service's status follows its instances' and pipeline's
 * deployments (settleServices); instances are added and removed only through UpdateService's spec (or
 * CreateServiceInstance), and the pipeline lives and dies with the service.
 */
import { isDeepStrictEqual } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  cancelDeployment, checkInputs, checkUpdatable, DeployableRecord, DeploymentType, isBusy, keepCurrentValues, outputsFor,
  parseSpec, provisionedResourcesOf, registerTargetAccess, resolveTemplateVersion, ResolvedTemplateVersion, startDeletion, startDeployment,
  versionForUpdate,
} from './deployments';
import type { EnvironmentRecord } from './environments';
import { instancePlan, pipelinePlan } from './rendering';
import { canonicalJson, repeatsCreate, PageInput, paginate, protonArn, rememberClientToken, replayClientToken, toDate } from './shared';
import type { EmulatorState } from './state';
import { blockSyncAfterManualChange, dropSyncBlockers } from './sync';
import { dropTags, initTags, Tag } from './tags';
import { conflict, notFound, OperationContext, OperationTable, quotaExceeded, Settler, validation } from './types';
import { resourceNameProblem } from '../../private/spec';

const MAX_SERVICES = 1000;
const MAX_INSTANCES_PER_SERVICE = 20;

export type ServiceStatus =
  'CREATE_IN_PROGRESS' | 'CREATE_FAILED_CLEANUP_IN_PROGRESS' | 'CREATE_FAILED_CLEANUP_COMPLETE' | 'CREATE_FAILED_CLEANUP_FAILED'
  | 'CREATE_FAILED' | 'ACTIVE' | 'DELETE_IN_PROGRESS' | 'DELETE_FAILED' | 'UPDATE_IN_PROGRESS' | 'UPDATE_FAILED_CLEANUP_IN_PROGRESS'
  | 'UPDATE_FAILED_CLEANUP_COMPLETE' | 'UPDATE_FAILED_CLEANUP_FAILED' | 'UPDATE_FAILED' | 'UPDATE_COMPLETE_CLEANUP_FAILED';

export interface ServiceInstanceRecord extends DeployableRecord {
  readonly name: string;
  readonly serviceName: string;
  readonly environmentName: string;
  templateName: string;
  templateMajorVersion: string;
  templateMinorVersion: string;
  /** The instance's own inputs as given (the `spec:` of its `instances:` entry), as YAML. */
  spec: string;
  lastClientRequestToken?: string;
}

export interface ServicePipelineRecord extends DeployableRecord {
  templateName: string;
  templateMajorVersion: string;
  templateMinorVersion: string;
  /** The pipeline's inputs as given (the spec's `pipeline:` section), as YAML. */
  spec: string;
}

export interface ServiceRecord {
  readonly name: string;
  readonly arn: string;
  description?: string;
  readonly templateName: string;
  /** The version the service was created with: instances added by UpdateService get it. */
  readonly templateMajorVersion: string;
  readonly templateMinorVersion: string;
  readonly createdAt: number;
  lastModifiedAt: number;
  status: ServiceStatus;
  statusMessage?: string;
  readonly repositoryConnectionArn?: string;
  readonly repositoryId?: string;
  readonly branchName?: string;
  instances: ServiceInstanceRecord[];
  pipeline?: ServicePipelineRecord;
  /** The instances an UpdateService in progress adds and removes: a failed addition is rolled back. */
  update?: { readonly added: string[]; readonly removed: string[] };
  /** Canonical JSON of the create input, for idempotent creates by name. */
  readonly createRequest: string;
  modified: boolean;
}

interface InstanceEntry {
  readonly name: string;
  readonly environment: string;
  readonly spec: unknown;
}

interface CreateServiceInput {
  readonly name: string;
  readonly description?: string;
  readonly templateName: string;
  readonly templateMajorVersion: string;
  readonly templateMinorVersion?: string;
  readonly spec: string;
  readonly repositoryConnectionArn?: string;
  readonly repositoryId?: string;
  readonly branchName?: string;
  readonly tags?: Tag[];
}

const BUSY_SERVICE: ServiceStatus[] = ['CREATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'DELETE_IN_PROGRESS'];
const REMOVED: string[] = ['DELETE_IN_PROGRESS', 'DELETE_FAILED'];

export function serviceOf(state: EmulatorState, name: string): ServiceRecord {
  const service = state.services[name] as ServiceRecord | undefined;
  if (!service) {
    throw notFound(`The requested service does not exist: ${name}`);
  }
  return service;
}

export function instanceOf(state: EmulatorState, serviceName: string, name: string): ServiceInstanceRecord {
  const instance = serviceOf(state, serviceName).instances.find(i => i.name === name);
  if (!instance) {
    throw notFound(`The requested service instance does not exist: ${serviceName}/${name}`);
  }
  return instance;
}

function pipelineOf(state: EmulatorState, serviceName: string): ServicePipelineRecord {
  const pipeline = serviceOf(state, serviceName).pipeline;
  if (!pipeline) {
    throw validation(`service '${serviceName}' has no pipeline: its service template has pipelineProvisioning CUSTOMER_MANAGED`);
  }
  return pipeline;
}

function instanceTarget(instance: ServiceInstanceRecord) {
  return {
    record: instance,
    type: 'SERVICE_INSTANCE' as const,
    environmentName: instance.environmentName,
    serviceName: instance.serviceName,
    serviceInstanceName: instance.name,
  };
}

/** A pipeline's deployments are recorded against the environment of the service's first instance. */
function pipelineTarget(service: ServiceRecord, pipeline: ServicePipelineRecord) {
  return { record: pipeline, type: 'SERVICE_PIPELINE' as const, environmentName: service.instances[0]?.environmentName ?? '', serviceName: service.name };
}

registerTargetAccess('SERVICE_INSTANCE', {
  find: (state, names) =>
    (state.services[names.serviceName!] as ServiceRecord | undefined)?.instances.find(i => i.name === names.serviceInstanceName),
  remove: (state, names) => {
    const service = state.services[names.serviceName!] as ServiceRecord | undefined;
    if (service) {
      service.instances = service.instances.filter(i => i.name !== names.serviceInstanceName);
    }
  },
});

registerTargetAccess('SERVICE_PIPELINE', {
  find: (state, names) => (state.services[names.serviceName!] as ServiceRecord | undefined)?.pipeline,
  remove: (state, names) => {
    const service = state.services[names.serviceName!] as ServiceRecord | undefined;
    if (service) {
      service.pipeline = undefined;
    }
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Specs

const parseInputs = (yaml: string) => parseYaml(yaml) ?? {};
/** An instance's inputs as the pipeline renders them (defaults are applied by the renderer). */
const instanceInputs = (instance: ServiceInstanceRecord) => parseInputs(instance.spec);

/** The whole service spec, re-serialised: the pipeline's inputs and every instance not being removed. */
function serviceSpec(service: ServiceRecord): string {
  return stringifyYaml({
    proton: 'ServiceSpec',
    ...(service.pipeline ? { pipeline: parseInputs(service.pipeline.spec) } : {}),
    instances: service.instances.filter(i => !REMOVED.includes(i.deploymentStatus))
      .map(i => ({ name: i.name, environment: i.environmentName, spec: parseInputs(i.spec) })),
  });
}

/** The `instances:` entries of a service spec, checked for shape and unique names. */
function instanceEntries(document: { [key: string]: any }): InstanceEntry[] {
  const instances = document.instances ?? [];
  if (!Array.isArray(instances)) {
    throw validation('spec: instances must be a list of {name, environment, spec} entries');
  }
  const seen = new Set<string>();
  return instances.map((entry: any, i: number) => {
    const where = `spec: instances[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw validation(`${where} must be a mapping with name, environment and spec`);
    }
    const { name, environment, spec } = entry;
    if (typeof name !== 'string') {
      throw validation(`${where}.name must be the instance's name, got ${JSON.stringify(name)}`);
    }
    const problem = resourceNameProblem(name);
    if (problem) {
      throw validation(`${where}.name "${name}" ${problem}`);
    }
    if (typeof environment !== 'string' || environment.length === 0) {
      throw validation(`${where}.environment must name the environment of instance '${name}', got ${JSON.stringify(environment)}`);
    }
    if (seen.has(name)) {
      throw validation(`spec: instance name '${name}' is listed more than once`);
    }
    seen.add(name);
    return { name, environment, spec: spec ?? {} };
  });
}

/** Checks that an instance can run on the environment with this template version; returns its inputs with defaults. */
function planInstance(ctx: OperationContext, resolved: ResolvedTemplateVersion, entry: InstanceEntry) {
  const where = `spec: instance '${entry.name}'`;
  const environment = ctx.state.environments[entry.environment] as EnvironmentRecord | undefined;
  if (!environment) {
    throw notFound(`${where}: the requested environment does not exist: ${entry.environment}`);
  }
  if (REMOVED.includes(environment.deploymentStatus)) {
    throw conflict(`${where}: environment '${entry.environment}' is ${environment.deploymentStatus}`);
  }
  checkCompatible(resolved, environment, where);
  return checkInputs(resolved.schema, 'serviceInputType', entry.spec, where);
}

function checkCompatible(resolved: ResolvedTemplateVersion, environment: EnvironmentRecord, where: string): void {
  const compatible = resolved.version.compatibleEnvironmentTemplates ?? [];
  if (!compatible.some(c => c.templateName === environment.templateName && c.majorVersion === environment.templateMajorVersion)) {
    const { templateName, majorVersion, minorVersion } = resolved.version;
    throw validation(`${where}: environment '${environment.name}' runs environment template ${environment.templateName}:`
      + `${environment.templateMajorVersion}, which service template version ${templateName}:${majorVersion}.${minorVersion} is not `
      + `compatible with (compatibleEnvironmentTemplates: ${compatible.map(c => `${c.templateName}:${c.majorVersion}`).join(', ')})`);
  }
}

function checkInstanceCount(count: number, serviceName: string): void {
  if (count < 1) {
    throw validation(`spec: service '${serviceName}' needs at least 1 instance under instances:`);
  }
  if (count > MAX_INSTANCES_PER_SERVICE) {
    throw quotaExceeded(`spec: service '${serviceName}' would have ${count} instances; a service can have at most ${MAX_INSTANCES_PER_SERVICE} `
      + '(DELETE_FAILED instances count)');
  }
}

function addInstance(
  ctx: OperationContext, service: ServiceRecord, entry: InstanceEntry, resolved: ResolvedTemplateVersion, inputs: { [name: string]: unknown },
  tags?: Tag[],
): ServiceInstanceRecord {
  const now = ctx.clock.now();
  const instance: ServiceInstanceRecord = {
    name: entry.name,
    serviceName: service.name,
    environmentName: entry.environment,
    arn: protonArn(ctx, `service/${service.name}/service-instance/${entry.name}`),
    templateName: service.templateName,
    templateMajorVersion: resolved.version.majorVersion,
    templateMinorVersion: resolved.version.minorVersion,
    spec: stringifyYaml(entry.spec),
    createdAt: now,
    lastModifiedAt: now,
    lastDeploymentAttemptedAt: now,
    deploymentStatus: 'IN_PROGRESS',
    outputs: [],
  };
  initTags(ctx, instance.arn, tags);
  service.instances.push(instance);
  startDeployment(ctx, instanceTarget(instance), {}, instancePlan(ctx, resolved, service, instance, inputs));
  return instance;
}

function attachedComponents(state: EmulatorState, serviceName: string, instanceName?: string): string[] {
  return Object.values(state.components)
    .filter((c: any) => c.serviceName === serviceName && (instanceName === undefined || c.serviceInstanceName === instanceName))
    .map((c: any) => `component '${c.name}' (attached to instance '${c.serviceInstanceName}')`);
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs

function serviceSummary(s: ServiceRecord) {
  return {
    name: s.name,
    description: s.description,
    arn: s.arn,
    templateName: s.templateName,
    createdAt: toDate(s.createdAt),
    lastModifiedAt: toDate(s.lastModifiedAt),
    status: s.status,
    statusMessage: s.statusMessage,
  };
}

function deployableOutput(r: DeployableRecord) {
  return {
    arn: r.arn,
    createdAt: toDate(r.createdAt),
    lastDeploymentAttemptedAt: toDate(r.lastDeploymentAttemptedAt),
    lastDeploymentSucceededAt: toDate(r.lastDeploymentSucceededAt),
    templateName: r.templateName,
    templateMajorVersion: r.templateMajorVersion,
    templateMinorVersion: r.templateMinorVersion,
    deploymentStatus: r.deploymentStatus,
    deploymentStatusMessage: r.deploymentStatusMessage,
    lastAttemptedDeploymentId: r.lastAttemptedDeploymentId,
    lastSucceededDeploymentId: r.lastSucceededDeploymentId,
  };
}

function pipelineOutput(service: ServiceRecord, pipeline: ServicePipelineRecord) {
  return { ...deployableOutput(pipeline), spec: serviceSpec(service) };
}

function serviceOutput(s: ServiceRecord) {
  return {
    ...serviceSummary(s),
    spec: serviceSpec(s),
    pipeline: s.pipeline && pipelineOutput(s, s.pipeline),
    repositoryConnectionArn: s.repositoryConnectionArn,
    repositoryId: s.repositoryId,
    branchName: s.branchName,
  };
}

function instanceSummary(i: ServiceInstanceRecord) {
  return { ...deployableOutput(i), name: i.name, serviceName: i.serviceName, environmentName: i.environmentName };
}

function instanceOutput(state: EmulatorState, i: ServiceInstanceRecord) {
  return { ...instanceSummary(i), spec: serviceSpec(serviceOf(state, i.serviceName)), lastClientRequestToken: i.lastClientRequestToken };
}

// ---------------------------------------------------------------------------------------------------------------
// Service status

/**
 * Moves services whose instances and pipeline finished deploying or deleting to their resulting status. A busy
 * service is looked at whenever it (its instances and pipeline included) changed.
 */
export const serviceSettler: Settler = {
  collection: 'services',
  dueAt: (service: ServiceRecord) => BUSY_SERVICE.includes(service.status) ? 0 : undefined,
  settle: (ctx, names) => settleServices(ctx, names),
};

function settleServices(ctx: OperationContext, names: readonly string[]): void {
  for (const name of names) {
    const service = ctx.state.services[name] as ServiceRecord | undefined;
    if (!service) {
      continue;
    }
    const children: DeployableRecord[] = [...service.instances, ...(service.pipeline ? [service.pipeline] : [])];
    if (!BUSY_SERVICE.includes(service.status) || children.some(isBusy)) {
      continue;
    }
    const failedNames = (records: ServiceInstanceRecord[]) => records.map(i => `'${i.name}'`).join(', ');
    const now = ctx.clock.now();
    service.lastModifiedAt = now;
    switch (service.status) {
      case 'CREATE_IN_PROGRESS': {
        const failed = children.filter(c => c.deploymentStatus !== 'SUCCEEDED');
        const failedOnDemand = !service.pipeline && ctx.settings.failDeploymentsFor.has(service.name);
        if (failed.length || failedOnDemand) {
          service.status = 'CREATE_FAILED';
          service.statusMessage = failed.length
            ? `Service creation failed: ${failed.map(c => `${c === service.pipeline ? 'the pipeline' : `instance '${(c as ServiceInstanceRecord).name}'`} `
              + `ended ${c.deploymentStatus}${c.deploymentStatusMessage ? ` (${c.deploymentStatusMessage})` : ''}`).join('; ')}`
            : `Service creation of '${service.name}' failed on demand (proton-local failDeploymentsFor)`;
        } else {
          service.status = 'ACTIVE';
        }
        break;
      }
      case 'UPDATE_IN_PROGRESS': {
        const { added, removed } = service.update ?? { added: [], removed: [] };
        const failedAdds = service.instances.filter(i => added.includes(i.name) && i.deploymentStatus !== 'SUCCEEDED');
        const stuck = service.instances.filter(i => removed.includes(i.name));
        if (failedAdds.length) {
          // Proton de-provisions the instances it failed to add and reverts the spec.
          service.instances = service.instances.filter(i => !failedAdds.includes(i));
          failedAdds.forEach(i => dropTags(ctx, i.arn));
          service.status = 'UPDATE_FAILED_CLEANUP_COMPLETE';
          service.statusMessage = `Adding instances ${failedNames(failedAdds)} failed; they were removed and the spec reverted`;
        } else if (stuck.length) {
          service.status = 'UPDATE_COMPLETE_CLEANUP_FAILED';
          service.statusMessage = `Instances ${failedNames(stuck)} could not be deleted (DELETE_FAILED); the next UpdateService retries them`;
        } else {
          service.status = 'ACTIVE';
          service.statusMessage = undefined;
        }
        service.update = undefined;
        break;
      }
      case 'DELETE_IN_PROGRESS':
        if (children.length) {
          service.status = 'DELETE_FAILED';
          service.statusMessage = `Deleting ${children.map(c => c === service.pipeline ? 'the pipeline' : `instance '${(c as ServiceInstanceRecord).name}'`).join(', ')} failed`;
        } else {
          delete ctx.state.services[service.name];
          dropTags(ctx, service.arn);
          dropSyncBlockers(ctx, service.name);
        }
        break;
      default:
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Operations

function checkServiceEditable(service: ServiceRecord): void {
  if (BUSY_SERVICE.includes(service.status) || service.status.startsWith('CREATE_FAILED') || service.status === 'DELETE_FAILED') {
    throw conflict(`service '${service.name}' can't be updated while its status is ${service.status}`);
  }
  if (service.pipeline && isBusy(service.pipeline)) {
    throw conflict(`service '${service.name}' can't be updated while its pipeline's deployment status is ${service.pipeline.deploymentStatus}`);
  }
}

function hasPipeline(resolved: ResolvedTemplateVersion): boolean {
  return resolved.template.pipelineProvisioning !== 'CUSTOMER_MANAGED';
}

function checkPipelineParameters(ctx: OperationContext, input: CreateServiceInput, resolved: ResolvedTemplateVersion, document: any): void {
  const repository = ['repositoryConnectionArn', 'repositoryId', 'branchName'] as const;
  if (hasPipeline(resolved)) {
    const missing = repository.filter(key => input[key] === undefined);
    if (missing.length) {
      throw validation(`service template ${input.templateName} has a pipeline: CreateService needs ${missing.join(', ')}`);
    }
    if (document.pipeline === undefined) {
      throw validation(`spec: service template ${input.templateName} has a pipeline: the spec needs a pipeline: section`);
    }
    const settings = ctx.state.accountSettings;
    if (!settings.pipelineServiceRoleArn && !settings.pipelineCodebuildRoleArn && !settings.pipelineProvisioningRepository) {
      throw validation(`service template ${input.templateName} has a pipeline: set the account's pipelineServiceRoleArn, `
        + 'pipelineCodebuildRoleArn or pipelineProvisioningRepository with UpdateAccountSettings first');
    }
  } else {
    const given = repository.filter(key => input[key] !== undefined);
    if (given.length) {
      throw validation(`service template ${input.templateName} has no pipeline (pipelineProvisioning CUSTOMER_MANAGED): omit ${given.join(', ')}`);
    }
    if (document.pipeline !== undefined) {
      throw validation(`spec: service template ${input.templateName} has no pipeline (pipelineProvisioning CUSTOMER_MANAGED): remove the pipeline: section`);
    }
  }
}

function parseTime(value: string, key: string): number {
  const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (Number.isNaN(ms)) {
    throw validation(`filter ${key}: ${JSON.stringify(value)} is not a timestamp (ISO 8601 or epoch seconds)`);
  }
  return ms;
}

type InstanceFilter = (i: ServiceInstanceRecord, value: string) => boolean;

const INSTANCE_FILTERS: { [key: string]: InstanceFilter } = {
  name: (i, v) => i.name === v,
  deploymentStatus: (i, v) => i.deploymentStatus === v,
  templateName: (i, v) => i.templateName === v,
  serviceName: (i, v) => i.serviceName === v,
  environmentName: (i, v) => i.environmentName === v,
  createdAtBefore: (i, v) => i.createdAt < parseTime(v, 'createdAtBefore'),
  createdAtAfter: (i, v) => i.createdAt > parseTime(v, 'createdAtAfter'),
  lastDeploymentAttemptedAtBefore: (i, v) => i.lastDeploymentAttemptedAt < parseTime(v, 'lastDeploymentAttemptedAtBefore'),
  lastDeploymentAttemptedAtAfter: (i, v) => i.lastDeploymentAttemptedAt > parseTime(v, 'lastDeploymentAttemptedAtAfter'),
};

const INSTANCE_SORT_KEYS: { [key: string]: (i: ServiceInstanceRecord) => string | number } = {
  name: i => i.name,
  deploymentStatus: i => i.deploymentStatus,
  templateName: i => i.templateName,
  serviceName: i => i.serviceName,
  environmentName: i => i.environmentName,
  createdAt: i => i.createdAt,
  lastDeploymentAttemptedAt: i => i.lastDeploymentAttemptedAt,
};

function compare(a: string | number, b: string | number): number {
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
}

export const serviceOperations: OperationTable = {
  CreateService(ctx, input: CreateServiceInput) {
    const existing = ctx.state.services[input.name] as ServiceRecord | undefined;
    if (repeatsCreate(existing, input, `service '${input.name}'`, existing?.modified ?? false)) {
      return { service: serviceOutput(existing!) };
    }
    if (Object.keys(ctx.state.services).length >= MAX_SERVICES) {
      throw quotaExceeded(`an account can have at most ${MAX_SERVICES} services`);
    }
    const resolved = resolveTemplateVersion(ctx, 'SERVICE', input.templateName, input.templateMajorVersion, input.templateMinorVersion);
    const document = parseSpec(input.spec, 'spec', 'ServiceSpec');
    checkPipelineParameters(ctx, input, resolved, document);
    const entries = instanceEntries(document);
    checkInstanceCount(entries.length, input.name);
    const plans = entries.map(entry => ({ entry, inputs: planInstance(ctx, resolved, entry) }));
    const pipelineInputs = hasPipeline(resolved) ? checkInputs(resolved.schema, 'pipelineInputType', document.pipeline, 'spec: pipeline') : undefined;
    const now = ctx.clock.now();
    const service: ServiceRecord = {
      name: input.name,
      arn: protonArn(ctx, `service/${input.name}`),
      description: input.description,
      templateName: input.templateName,
      templateMajorVersion: resolved.version.majorVersion,
      templateMinorVersion: resolved.version.minorVersion,
      createdAt: now,
      lastModifiedAt: now,
      status: 'CREATE_IN_PROGRESS',
      repositoryConnectionArn: input.repositoryConnectionArn,
      repositoryId: input.repositoryId,
      branchName: input.branchName,
      instances: [],
      createRequest: canonicalJson(input),
      modified: false,
    };
    initTags(ctx, service.arn, input.tags);
    ctx.state.services[input.name] = service;
    for (const { entry, inputs } of plans) {
      addInstance(ctx, service, entry, resolved, inputs);
    }
    if (pipelineInputs) {
      const pipeline: ServicePipelineRecord = {
        arn: protonArn(ctx, `service/${input.name}/pipeline`),
        templateName: input.templateName,
        templateMajorVersion: resolved.version.majorVersion,
        templateMinorVersion: resolved.version.minorVersion,
        spec: stringifyYaml(document.pipeline),
        createdAt: now,
        lastModifiedAt: now,
        lastDeploymentAttemptedAt: now,
        deploymentStatus: 'IN_PROGRESS',
        outputs: [],
      };
      service.pipeline = pipeline;
      startDeployment(ctx, pipelineTarget(service, pipeline), {}, pipelinePlan(ctx, resolved, service, pipelineInputs, instanceInputs));
    }
    return { service: serviceOutput(service) };
  },

  GetService(ctx, input: { name: string }) {
    return { service: serviceOutput(serviceOf(ctx.state, input.name)) };
  },

  ListServices(ctx, input: PageInput) {
    const services = (Object.values(ctx.state.services) as ServiceRecord[]).sort((a, b) => a.name.localeCompare(b.name));
    const page = paginate(services, input);
    return { services: page.items.map(serviceSummary), nextToken: page.nextToken };
  },

  UpdateService(ctx, input: { name: string; description?: string; spec?: string }) {
    const service = serviceOf(ctx.state, input.name);
    checkServiceEditable(service);
    if (input.spec !== undefined) {
      const document = parseSpec(input.spec, 'spec', 'ServiceSpec');
      if (document.pipeline !== undefined) {
        if (!service.pipeline) {
          throw validation(`spec: service '${input.name}' has no pipeline: remove the pipeline: section`);
        }
        const current = parseInputs(service.pipeline.spec);
        if (!isDeepStrictEqual(keepCurrentValues(document.pipeline, current, 'pipeline'), current)) {
          throw validation('spec: UpdateService can\'t change the pipeline: use UpdateServicePipeline');
        }
      }
      const entries = instanceEntries(document);
      const added: InstanceEntry[] = [];
      for (const entry of entries) {
        const current = service.instances.find(i => i.name === entry.name);
        if (!current) {
          added.push(entry);
          continue;
        }
        const currentInputs = parseInputs(current.spec);
        if (entry.environment !== current.environmentName
          || !isDeepStrictEqual(keepCurrentValues(entry.spec, currentInputs, `instances.${entry.name}.spec`), currentInputs)) {
          throw validation(`spec: UpdateService can't change existing instance '${entry.name}' (its environment or spec): use UpdateServiceInstance`);
        }
      }
      const removed = service.instances.filter(i => !entries.some(e => e.name === i.name));
      checkInstanceCount(entries.length, input.name);
      checkInstanceCount(entries.length + removed.filter(i => i.deploymentStatus === 'DELETE_FAILED').length, input.name);
      for (const instance of removed) {
        const components = attachedComponents(ctx.state, service.name, instance.name);
        if (components.length) {
          throw conflict(`spec: instance '${instance.name}' can't be removed while ${components.join(', ')} is attached: detach it first`);
        }
        if (isBusy(instance) && instance.deploymentStatus !== 'DELETE_IN_PROGRESS') {
          throw conflict(`spec: instance '${instance.name}' can't be removed while its deployment status is ${instance.deploymentStatus}`);
        }
      }
      const resolved = added.length
        ? resolveTemplateVersion(ctx, 'SERVICE', service.templateName, service.templateMajorVersion, service.templateMinorVersion) : undefined;
      const plans = added.map(entry => ({ entry, inputs: planInstance(ctx, resolved!, entry) }));
      if (plans.length || removed.length) {
        for (const { entry, inputs } of plans) {
          addInstance(ctx, service, entry, resolved!, inputs);
        }
        for (const instance of removed.filter(i => i.deploymentStatus !== 'DELETE_IN_PROGRESS')) {
          startDeletion(ctx, instanceTarget(instance));
          blockSyncAfterManualChange(ctx, service.name, instance.name, 'Deletion');
        }
        service.status = 'UPDATE_IN_PROGRESS';
        service.statusMessage = undefined;
        service.update = { added: added.map(e => e.name), removed: removed.map(i => i.name) };
      }
    }
    service.description = input.description ?? service.description;
    service.modified = true;
    service.lastModifiedAt = ctx.clock.now();
    return { service: serviceOutput(service) };
  },

  DeleteService(ctx, input: { name: string }) {
    const service = ctx.state.services[input.name] as ServiceRecord | undefined;
    if (!service) {
      return {};
    }
    if (service.status === 'DELETE_IN_PROGRESS') {
      return { service: serviceOutput(service) };
    }
    const children: DeployableRecord[] = [...service.instances, ...(service.pipeline ? [service.pipeline] : [])];
    if (BUSY_SERVICE.includes(service.status) || children.some(isBusy)) {
      throw conflict(`service '${input.name}' can't be deleted while it is being deployed (status ${service.status})`);
    }
    const components = attachedComponents(ctx.state, service.name);
    if (components.length) {
      throw conflict(`service '${input.name}' can't be deleted while ${components.join(', ')} is attached: detach or delete it first`);
    }
    for (const instance of service.instances) {
      startDeletion(ctx, instanceTarget(instance));
    }
    if (service.pipeline) {
      startDeletion(ctx, pipelineTarget(service, service.pipeline));
    }
    service.status = 'DELETE_IN_PROGRESS';
    service.statusMessage = undefined;
    service.modified = true;
    service.lastModifiedAt = ctx.clock.now();
    return { service: serviceOutput(service) };
  },

  GetServiceInstance(ctx, input: { name: string; serviceName: string }) {
    return { serviceInstance: instanceOutput(ctx.state, instanceOf(ctx.state, input.serviceName, input.name)) };
  },

  ListServiceInstances(ctx, input: PageInput & {
    serviceName?: string; filters?: Array<{ key?: string; value?: string }>; sortBy?: string; sortOrder?: string;
  }) {
    if (input.serviceName !== undefined) {
      serviceOf(ctx.state, input.serviceName);
    }
    const byKey = new Map<string, string[]>();
    for (const { key, value } of input.filters ?? []) {
      if (key === undefined || value === undefined) {
        throw validation('filters: each filter needs a key and a value');
      }
      if (!INSTANCE_FILTERS[key]) {
        throw validation(`filters: key ${key} is not supported by proton-local (supported: ${Object.keys(INSTANCE_FILTERS).join(', ')})`);
      }
      byKey.set(key, [...byKey.get(key) ?? [], value]);
    }
    const sortKey = INSTANCE_SORT_KEYS[input.sortBy ?? 'serviceName'];
    const direction = input.sortOrder === 'DESCENDING' ? -1 : 1;
    const instances = (Object.values(ctx.state.services) as ServiceRecord[])
      .filter(s => input.serviceName === undefined || s.name === input.serviceName)
      .flatMap(s => s.instances)
      .filter(i => [...byKey].every(([key, values]) => values.some(v => INSTANCE_FILTERS[key](i, v))))
      .sort((a, b) => direction * compare(sortKey(a), sortKey(b)) || compare(a.serviceName, b.serviceName) || compare(a.name, b.name));
    const page = paginate(instances, input);
    return { serviceInstances: page.items.map(instanceSummary), nextToken: page.nextToken };
  },

  CreateServiceInstance(ctx, input: {
    name: string; serviceName: string; spec: string; templateMajorVersion?: string; templateMinorVersion?: string; tags?: Tag[]; clientToken?: string;
  }) {
    const service = serviceOf(ctx.state, input.serviceName);
    const replayed = replayClientToken(ctx, 'CreateServiceInstance', input);
    const original = replayed === undefined ? undefined : service.instances.find(i => i.arn === replayed);
    if (original) {
      return { serviceInstance: instanceOutput(ctx.state, original) };
    }
    checkServiceEditable(service);
    if (service.instances.some(i => i.name === input.name)) {
      throw conflict(`service instance '${input.name}' already exists in service '${input.serviceName}'`);
    }
    checkInstanceCount(service.instances.length + 1, input.serviceName);
    const entry = instanceEntries(parseSpec(input.spec, 'spec', 'ServiceSpec')).find(e => e.name === input.name);
    if (!entry) {
      throw validation(`spec: the spec must list instance '${input.name}' under instances: with its environment and spec`);
    }
    const resolved = resolveTemplateVersion(ctx, 'SERVICE', service.templateName,
      input.templateMajorVersion ?? service.templateMajorVersion, input.templateMinorVersion);
    const instance = addInstance(ctx, service, entry, resolved, planInstance(ctx, resolved, entry), input.tags);
    instance.lastClientRequestToken = input.clientToken;
    rememberClientToken(ctx, 'CreateServiceInstance', input, instance.arn);
    return { serviceInstance: instanceOutput(ctx.state, instance) };
  },

  UpdateServiceInstance(ctx, input: {
    name: string;
    serviceName: string;
    deploymentType: DeploymentType;
    spec?: string;
    templateMajorVersion?: string;
    templateMinorVersion?: string;
    clientToken?: string;
  }) {
    const instance = instanceOf(ctx.state, input.serviceName, input.name);
    if (replayClientToken(ctx, 'UpdateServiceInstance', input) === instance.arn) {
      return { serviceInstance: instanceOutput(ctx.state, instance) };
    }
    const what = `service instance '${input.serviceName}/${input.name}'`;
    checkUpdatable(instance, what);
    const busyComponent = Object.values(ctx.state.components).find((c: any) =>
      c.serviceName === input.serviceName && c.serviceInstanceName === input.name && isBusy(c));
    if (busyComponent) {
      throw conflict(`${what} can't be updated while its attached component '${busyComponent.name}' is ${busyComponent.deploymentStatus}`);
    }
    if (input.deploymentType === 'NONE' && input.spec !== undefined) {
      throw validation('deploymentType NONE deploys nothing: to change the spec use CURRENT_VERSION, MINOR_VERSION or MAJOR_VERSION');
    }
    const resolved = versionForUpdate(ctx, 'SERVICE', instance, input.deploymentType, input.templateMajorVersion, input.templateMinorVersion);
    if (input.deploymentType !== 'NONE') {
      const current = parseInputs(instance.spec);
      let given: unknown = current;
      if (input.spec !== undefined) {
        const entry = instanceEntries(parseSpec(input.spec, 'spec', 'ServiceSpec')).find(e => e.name === input.name);
        if (!entry) {
          throw validation(`spec: the spec must list instance '${input.name}' under instances:`);
        }
        if (entry.environment !== instance.environmentName) {
          throw validation(`spec: instance '${input.name}' runs in environment '${instance.environmentName}' and can't move to '${entry.environment}'`);
        }
        given = keepCurrentValues(entry.spec, current, '');
      }
      checkCompatible(resolved, ctx.state.environments[instance.environmentName], `spec: instance '${input.name}'`);
      const inputs = checkInputs(resolved.schema, 'serviceInputType', given, `spec: instance '${input.name}'`);
      startDeployment(ctx, instanceTarget(instance), {
        templateMajorVersion: resolved.version.majorVersion,
        templateMinorVersion: resolved.version.minorVersion,
        spec: stringifyYaml(given),
      }, instancePlan(ctx, resolved, serviceOf(ctx.state, input.serviceName), instance, inputs));
      blockSyncAfterManualChange(ctx, input.serviceName, input.name, 'Update');
    }
    instance.lastClientRequestToken = input.clientToken;
    rememberClientToken(ctx, 'UpdateServiceInstance', input, instance.arn);
    return { serviceInstance: instanceOutput(ctx.state, instance) };
  },

  CancelServiceInstanceDeployment(ctx, input: { serviceName: string; serviceInstanceName: string }) {
    const instance = instanceOf(ctx.state, input.serviceName, input.serviceInstanceName);
    cancelDeployment(ctx, instance, `service instance '${input.serviceName}/${input.serviceInstanceName}'`);
    return { serviceInstance: instanceOutput(ctx.state, instance) };
  },

  ListServiceInstanceOutputs(ctx, input: { serviceName: string; serviceInstanceName: string; deploymentId?: string }) {
    const instance = instanceOf(ctx.state, input.serviceName, input.serviceInstanceName);
    return { outputs: outputsFor(ctx, instance, input.deploymentId) };
  },

  ListServiceInstanceProvisionedResources(ctx, input: { serviceName: string; serviceInstanceName: string }) {
    const instance = instanceOf(ctx.state, input.serviceName, input.serviceInstanceName);
    return { provisionedResources: provisionedResourcesOf(instance, `${instance.serviceName}-${instance.name}`, 'CLOUDFORMATION') };
  },

  UpdateServicePipeline(ctx, input: {
    serviceName: string; spec: string; deploymentType: DeploymentType; templateMajorVersion?: string; templateMinorVersion?: string;
  }) {
    const service = serviceOf(ctx.state, input.serviceName);
    const pipeline = pipelineOf(ctx.state, input.serviceName);
    checkUpdatable(pipeline, `the pipeline of service '${input.serviceName}'`);
    const document = parseSpec(input.spec, 'spec', 'ServiceSpec');
    const resolved = versionForUpdate(ctx, 'SERVICE', pipeline, input.deploymentType, input.templateMajorVersion, input.templateMinorVersion);
    if (input.deploymentType !== 'NONE') {
      const given = keepCurrentValues(document.pipeline ?? {}, parseInputs(pipeline.spec), 'pipeline');
      const inputs = checkInputs(resolved.schema, 'pipelineInputType', given, 'spec: pipeline');
      startDeployment(ctx, pipelineTarget(service, pipeline), {
        templateMajorVersion: resolved.version.majorVersion,
        templateMinorVersion: resolved.version.minorVersion,
        spec: stringifyYaml(given),
      }, pipelinePlan(ctx, resolved, service, inputs, instanceInputs));
    }
    return { pipeline: pipelineOutput(service, pipeline) };
  },

  CancelServicePipelineDeployment(ctx, input: { serviceName: string }) {
    const service = serviceOf(ctx.state, input.serviceName);
    const pipeline = pipelineOf(ctx.state, input.serviceName);
    cancelDeployment(ctx, pipeline, `the pipeline of service '${input.serviceName}'`);
    return { pipeline: pipelineOutput(service, pipeline) };
  },

  ListServicePipelineOutputs(ctx, input: { serviceName: string; deploymentId?: string }) {
    return { outputs: outputsFor(ctx, pipelineOf(ctx.state, input.serviceName), input.deploymentId) };
  },

  ListServicePipelineProvisionedResources(ctx, input: { serviceName: string }) {
    const pipeline = pipelineOf(ctx.state, input.serviceName);
    return { provisionedResources: provisionedResourcesOf(pipeline, `${input.serviceName}-pipeline`, 'CLOUDFORMATION') };
  },
};

/** The service instance or pipeline that uses a service template version, if any. */
export function serviceWorkloadOnVersion(state: EmulatorState, templateName: string, major: string, minor: string): string | undefined {
  const on = (r: DeployableRecord) => r.templateName === templateName && r.templateMajorVersion === major && r.templateMinorVersion === minor;
  for (const service of Object.values(state.services) as ServiceRecord[]) {
    const instance = service.instances.find(on);
    if (instance) {
      return `service instance '${service.name}/${instance.name}'`;
    }
    if (service.pipeline && on(service.pipeline)) {
      return `the pipeline of service '${service.name}'`;
    }
  }
  return undefined;
}
