/**
 * The deployment engine shared by environments, service instances, service pipelines and components, the
 * deployment records (GetDeployment, ListDeployments, DeleteDeployment), and the helpers every workload
 * operation uses: template version resolution, spec parsing and input validation (outputs come from rendering.ts).
 *
 * A deployment is stored with the time its current phase ends (`completesAt`); settleDeployments applies the
 * phases that are due, so a ManualClock drives them and a reloaded state resumes them.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { DeploymentPlan } from './rendering';
import { paginate, protonArn, toDate } from './shared';
import type { EmulatorState, TemplateRecord, TemplateVersionRecord } from './state';
import { dropTags } from './tags';
import { recommendedMinorVersionOf, recommendedVersionOf } from './templates';
import { conflict, internal, notFound, OperationContext, OperationTable, Settler, validation } from './types';
import type { TemplateKind } from '../../private/bundle';
import { parseTemplateSchema, SchemaError, TemplateSchema, validateInputs } from '../../private/schema';

export type DeploymentStatus =
  'IN_PROGRESS' | 'FAILED' | 'SUCCEEDED' | 'DELETE_IN_PROGRESS' | 'DELETE_FAILED' | 'DELETE_COMPLETE' | 'CANCELLING' | 'CANCELLED';
export type DeploymentTargetType = 'ENVIRONMENT' | 'SERVICE_PIPELINE' | 'SERVICE_INSTANCE' | 'COMPONENT';
export type DeploymentType = 'NONE' | 'CURRENT_VERSION' | 'MINOR_VERSION' | 'MAJOR_VERSION';

export interface OutputRecord {
  readonly key: string;
  readonly valueString: string;
}

/** What a deployment puts in place: the fields it sets on its target (a deployment's initialState and targetState). */
export interface DeployedState {
  templateName?: string;
  templateMajorVersion?: string;
  templateMinorVersion?: string;
  spec?: string;
  /** Components only. */
  serviceName?: string;
  serviceInstanceName?: string;
  serviceSpec?: string;
  templateFile?: string;
}

const DEPLOYED_STATE_KEYS: Array<keyof DeployedState> = [
  'templateName', 'templateMajorVersion', 'templateMinorVersion', 'spec', 'serviceName', 'serviceInstanceName', 'serviceSpec', 'templateFile',
];

/** The fields every deployable resource (environment, service instance, pipeline, component) has. */
export interface DeployableRecord extends DeployedState {
  readonly arn: string;
  readonly createdAt: number;
  lastModifiedAt: number;
  lastDeploymentAttemptedAt: number;
  lastDeploymentSucceededAt?: number;
  deploymentStatus: DeploymentStatus;
  deploymentStatusMessage?: string;
  lastAttemptedDeploymentId?: string;
  lastSucceededDeploymentId?: string;
  /** The outputs of the last successful deployment. */
  outputs: OutputRecord[];
}

/** Names locating a deployment's target in the state. */
export interface TargetNames {
  readonly environmentName: string;
  readonly serviceName?: string;
  readonly serviceInstanceName?: string;
  readonly componentName?: string;
}

export interface DeploymentRecord extends TargetNames {
  readonly id: string;
  readonly arn: string;
  readonly targetArn: string;
  readonly targetResourceType: DeploymentTargetType;
  readonly targetResourceCreatedAt: number;
  deploymentStatus: DeploymentStatus;
  deploymentStatusMessage?: string;
  readonly createdAt: number;
  lastModifiedAt: number;
  completedAt?: number;
  /** The target's deployment ids when this deployment started. */
  readonly lastAttemptedDeploymentId?: string;
  readonly lastSucceededDeploymentId?: string;
  readonly initialState?: DeployedState;
  readonly targetState?: DeployedState;
  /** The outputs the deployment produces when it succeeds (NotifyResourceDeploymentStatusChange may replace them). */
  outputs: OutputRecord[];
  /** Why the deployment fails when its phase ends, decided when it started (its bundle did not render). */
  readonly failureMessage?: string;
  /** When the current phase (deploying, cancelling, deleting) ends; absent once the deployment is complete. */
  completesAt?: number;
  /**
   * Self-managed provisioning: the phase ends only when the provisioning engine reports it with
   * NotifyResourceDeploymentStatusChange (completesAt is then absent), as in Proton.
   */
  awaitsNotification?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Template versions

export interface ResolvedTemplateVersion {
  readonly template: TemplateRecord;
  readonly version: TemplateVersionRecord;
  readonly schema: TemplateSchema;
}

const KIND_WORDS: Record<TemplateKind, string> = { ENVIRONMENT: 'environment', SERVICE: 'service' };

function templatesOf(state: EmulatorState, kind: TemplateKind) {
  return kind === 'ENVIRONMENT' ? state.environmentTemplates : state.serviceTemplates;
}

// Parsed schemas by their text: every deployment of a version reads the same registered schema, and parsing its
// YAML again each time was most of a deployment's cost after rendering. TemplateSchema objects are only read.
const schemaCache = new Map<string, TemplateSchema>();
const MAX_CACHED_SCHEMAS = 500;

function registeredSchema(text: string): TemplateSchema {
  let schema = schemaCache.get(text);
  if (!schema) {
    schema = parseTemplateSchema(text);
    if (schemaCache.size >= MAX_CACHED_SCHEMAS) schemaCache.delete(schemaCache.keys().next().value!);
    schemaCache.set(text, schema);
  }
  return schema;
}

/**
 * Finds a PUBLISHED template version to deploy; the minor defaults to the recommended (highest published) minor of the major.
 */
export function resolveTemplateVersion(
  ctx: OperationContext, kind: TemplateKind, templateName: string, major: string, minor?: string,
): ResolvedTemplateVersion {
  const words = KIND_WORDS[kind];
  const template = templatesOf(ctx.state, kind)[templateName];
  if (!template) {
    throw notFound(`The requested ${words} template does not exist: ${templateName}`);
  }
  const chosenMinor = minor ?? recommendedMinorVersionOf(template, major);
  if (chosenMinor === undefined) {
    throw notFound(`${words} template ${templateName} has no published minor version in major version ${major}`);
  }
  const version = template.versions[`${major}.${chosenMinor}`];
  if (!version) {
    throw notFound(`The requested ${words} template version does not exist: ${template.arn}:${major}.${chosenMinor}`);
  }
  if (version.status !== 'PUBLISHED' || version.schema === undefined) {
    throw validation(`${words} template version ${templateName}:${major}.${chosenMinor} is ${version.status}: only a PUBLISHED version can be deployed`);
  }
  try {
    return { template, version, schema: registeredSchema(version.schema) };
  } catch (e) {
    if (e instanceof SchemaError) {
      throw internal(`the registered schema of ${templateName}:${major}.${chosenMinor} no longer parses: ${e.message}`);
    }
    throw e;
  }
}

/**
 * The version an update deploys, by Proton's deploymentType rules (NONE and CURRENT_VERSION keep the current
 * version and take no version parameters; MINOR_VERSION stays in the current major; MAJOR_VERSION must go up).
 */
export function versionForUpdate(
  ctx: OperationContext, kind: TemplateKind, current: Required<Pick<DeployedState, 'templateName' | 'templateMajorVersion' | 'templateMinorVersion'>>,
  deploymentType: DeploymentType, majorVersion?: string, minorVersion?: string,
): ResolvedTemplateVersion {
  const { templateName, templateMajorVersion: currentMajor, templateMinorVersion: currentMinor } = current;
  switch (deploymentType) {
    case 'NONE':
    case 'CURRENT_VERSION':
      if (majorVersion !== undefined || minorVersion !== undefined) {
        throw validation(`deploymentType ${deploymentType} deploys the current template version ${currentMajor}.${currentMinor}: `
          + 'don\'t include templateMajorVersion or templateMinorVersion');
      }
      return resolveTemplateVersion(ctx, kind, templateName, currentMajor, currentMinor);
    case 'MINOR_VERSION': {
      if (majorVersion !== undefined && majorVersion !== currentMajor) {
        throw validation(`deploymentType MINOR_VERSION stays in the current major version ${currentMajor}: `
          + `templateMajorVersion ${majorVersion} needs deploymentType MAJOR_VERSION`);
      }
      return resolveTemplateVersion(ctx, kind, templateName, currentMajor, minorVersion);
    }
    case 'MAJOR_VERSION': {
      const template = templatesOf(ctx.state, kind)[templateName];
      const major = majorVersion ?? (template && recommendedVersionOf(template)?.majorVersion) ?? currentMajor;
      if (Number(major) <= Number(currentMajor)) {
        throw validation(`deploymentType MAJOR_VERSION must move to a major version higher than the current ${currentMajor}, `
          + `got ${major}; use MINOR_VERSION or CURRENT_VERSION within major ${currentMajor}`);
      }
      return resolveTemplateVersion(ctx, kind, templateName, major, minorVersion);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Specs

// Parsed specs by kind and text: a resource is redeployed with the spec it has (an update without a spec), and
// parsing its YAML again was most of such an update's time. Callers get a copy they may change.
const specCache = new Map<string, { [key: string]: any }>();
const MAX_CACHED_SPECS = 200;

/** Parses a spec document and checks its `proton:` kind; returns the parsed mapping. */
export function parseSpec(text: string, field: string, kind: 'EnvironmentSpec' | 'ServiceSpec'): { [key: string]: any } {
  const key = `${kind}\u0000${text}`;
  let parsed = specCache.get(key);
  if (!parsed) {
    parsed = parseSpecText(text, field, kind);
    if (specCache.size >= MAX_CACHED_SPECS) specCache.delete(specCache.keys().next().value!);
    specCache.set(key, parsed);
  }
  return structuredClone(parsed);
}

function parseSpecText(text: string, field: string, kind: 'EnvironmentSpec' | 'ServiceSpec'): { [key: string]: any } {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (e) {
    throw validation(`${field} is not valid YAML: ${(e as Error).message}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw validation(`${field} must be a YAML mapping starting with "proton: ${kind}"`);
  }
  const proton = (document as any).proton;
  if (proton !== kind) {
    throw validation(`${field} must declare "proton: ${kind}", got proton: ${JSON.stringify(proton)}`);
  }
  return document as { [key: string]: any };
}

/** Validates inputs against one of the schema's input types; returns them with defaults applied. */
export function checkInputs(
  schema: TemplateSchema, typeField: 'environmentInputType' | 'serviceInputType' | 'pipelineInputType', inputs: unknown, where: string,
): { [name: string]: unknown } {
  const typeName = schema[typeField];
  if (typeName === undefined) {
    throw validation(`${where}: the template version's schema declares no ${typeField.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`)}`);
  }
  // Proton accepts inputs the schema does not declare: AWS's own lambda-multi-svc sample spec passes one.
  const result = validateInputs(schema, typeName, inputs, { allowUnknownInputs: true });
  if (result.errors.length) {
    throw validation(`${where} does not match the template schema (${typeName}): ${result.errors.map(e => e.message).join('; ')}`);
  }
  return result.inputs;
}

export const CURRENT_VALUE = '${Proton::CURRENT_VAL}';

/** Replaces every `${Proton::CURRENT_VAL}` in `inputs` with the value at the same place in `current`. */
export function keepCurrentValues(inputs: unknown, current: unknown, where: string): unknown {
  if (inputs === CURRENT_VALUE) {
    if (current === undefined) {
      throw validation(`${where} is ${CURRENT_VALUE} but has no current value`);
    }
    return current;
  }
  if (Array.isArray(inputs)) {
    return inputs.map((item, i) => keepCurrentValues(item, Array.isArray(current) ? current[i] : undefined, `${where}[${i}]`));
  }
  if (typeof inputs === 'object' && inputs !== null) {
    return Object.fromEntries(Object.entries(inputs).map(([key, value]) =>
      [key, keepCurrentValues(value, (current as any)?.[key], where ? `${where}.${key}` : key)]));
  }
  return inputs;
}

/**
 * One output per input (defaults applied), the value as a string: the outputs of a CUSTOMER_MANAGED environment, whose
 * spec describes infrastructure provisioned outside Proton. Deployments Proton provisions render their bundle (rendering.ts).
 */
export function outputsOf(inputs: { [name: string]: unknown }): OutputRecord[] {
  return Object.entries(inputs).map(([key, value]) => ({ key, valueString: typeof value === 'string' ? value : JSON.stringify(value) }));
}

// ---------------------------------------------------------------------------------------------------------------
// Deployment lifecycle

export interface DeploymentTarget extends TargetNames {
  readonly record: DeployableRecord;
  readonly type: DeploymentTargetType;
}

function stateOf(record: DeployedState): DeployedState {
  return Object.fromEntries(DEPLOYED_STATE_KEYS.filter(k => record[k] !== undefined).map(k => [k, record[k]]));
}

/**
 * Self-managed provisioning ("Self-managed provisioning" in the Proton User Guide): an environment with a
 * provisioningRepository, the service instances deployed to it, and the pipelines of their services when the account
 * has a pipelineProvisioningRepository. Proton renders their IaC into a pull request of
 * that repository and leaves the deployment IN_PROGRESS (or DELETE_IN_PROGRESS) until the customer's automation
 * calls NotifyResourceDeploymentStatusChange. CUSTOMER_MANAGED environments are not self-managed: they provision
 * nothing and take their outputs from the spec.
 */
export function isSelfManaged(ctx: OperationContext, target: DeploymentTarget): boolean {
  switch (target.type) {
    case 'ENVIRONMENT':
      return (target.record as { provisioningRepository?: unknown }).provisioningRepository !== undefined;
    case 'SERVICE_INSTANCE':
      return ctx.state.environments[target.environmentName]?.provisioningRepository !== undefined;
    case 'SERVICE_PIPELINE':
      // UpdateAccountSettings: pipelineProvisioningRepository is the repository "for pipeline provisioning ... if you have
      // environments configured for self-managed provisioning with services that include pipelines". A pipeline's
      // deployments are recorded against the environment of the service's first instance.
      return ctx.state.accountSettings.pipelineProvisioningRepository !== undefined
        && ctx.state.environments[target.environmentName]?.provisioningRepository !== undefined;
    default:
      return false;
  }
}

/** Whether the deployment waits for NotifyResourceDeploymentStatusChange (unless proton-local auto-completes it). */
function awaitsNotification(ctx: OperationContext, target: DeploymentTarget, failureMessage: string | undefined): boolean {
  // A bundle that doesn't render fails before anything reaches the repository.
  return failureMessage === undefined && !ctx.settings.autoCompleteSelfManaged && isSelfManaged(ctx, target);
}

function newDeployment(
  ctx: OperationContext, target: DeploymentTarget, status: DeploymentStatus, fields: Partial<DeploymentRecord>,
): DeploymentRecord {
  const now = ctx.clock.now();
  const waits = awaitsNotification(ctx, target, fields.failureMessage);
  const id = randomUUID();
  const { record, type, environmentName, serviceName, serviceInstanceName, componentName } = target;
  const deployment: DeploymentRecord = {
    id,
    arn: protonArn(ctx, `deployment/${id}`),
    targetArn: record.arn,
    targetResourceType: type,
    targetResourceCreatedAt: record.createdAt,
    environmentName,
    serviceName,
    serviceInstanceName,
    componentName,
    deploymentStatus: status,
    createdAt: now,
    lastModifiedAt: now,
    lastAttemptedDeploymentId: record.lastAttemptedDeploymentId,
    lastSucceededDeploymentId: record.lastSucceededDeploymentId,
    ...fields,
    // Awaited deployments get their outputs from the notification: the IaC runs outside Proton.
    outputs: waits ? [] : fields.outputs ?? [],
    ...waits ? { awaitsNotification: true } : { completesAt: now + ctx.settings.deploymentDelayMs },
  };
  ctx.state.deployments[id] = deployment;
  record.deploymentStatus = status;
  record.deploymentStatusMessage = undefined;
  record.lastDeploymentAttemptedAt = now;
  record.lastAttemptedDeploymentId = id;
  record.lastModifiedAt = now;
  return deployment;
}

/** Puts `targetState` in place on the target and starts deploying it, to the plan's outputs or failure. */
export function startDeployment(
  ctx: OperationContext, target: DeploymentTarget, targetState: DeployedState, plan: DeploymentPlan,
): DeploymentRecord {
  const initialState = target.record.lastAttemptedDeploymentId ? stateOf(target.record) : undefined;
  Object.assign(target.record, targetState);
  return newDeployment(ctx, target, 'IN_PROGRESS', {
    initialState, targetState: stateOf(target.record), outputs: plan.outputs, failureMessage: plan.failureMessage,
  });
}

/** Starts deprovisioning the target; it disappears when the deletion completes. */
export function startDeletion(ctx: OperationContext, target: DeploymentTarget): DeploymentRecord {
  return newDeployment(ctx, target, 'DELETE_IN_PROGRESS', { initialState: stateOf(target.record) });
}

/** True while the target has a deployment or deletion running. */
export function isBusy(record: DeployableRecord): boolean {
  return ['IN_PROGRESS', 'CANCELLING', 'DELETE_IN_PROGRESS'].includes(record.deploymentStatus);
}

/** Updates wait for the running deployment; a resource whose deletion failed can only be deleted again. */
export function checkUpdatable(record: DeployableRecord, what: string): void {
  if (isBusy(record) || record.deploymentStatus === 'DELETE_FAILED') {
    throw conflict(`${what} can't be updated while its deployment status is ${record.deploymentStatus}`);
  }
}

/** IN_PROGRESS → CANCELLING now → CANCELLED (previous state restored) when the cancellation completes. */
export function cancelDeployment(ctx: OperationContext, record: DeployableRecord, what: string): void {
  const deployment = record.lastAttemptedDeploymentId ? ctx.state.deployments[record.lastAttemptedDeploymentId] as DeploymentRecord : undefined;
  if (record.deploymentStatus !== 'IN_PROGRESS' || !deployment) {
    throw conflict(`${what} has no deployment to cancel: its deployment status is ${record.deploymentStatus}, and only IN_PROGRESS deployments can be cancelled`);
  }
  const now = ctx.clock.now();
  deployment.deploymentStatus = 'CANCELLING';
  deployment.lastModifiedAt = now;
  // Self-managed provisioning cancels by closing the pull request: no notification follows.
  deployment.awaitsNotification = undefined;
  deployment.completesAt = now + ctx.settings.deploymentDelayMs;
  record.deploymentStatus = 'CANCELLING';
  record.lastModifiedAt = now;
}

/** Locates and removes deployment targets; each workload module registers its own. */
export interface TargetAccess {
  find(state: EmulatorState, names: TargetNames): DeployableRecord | undefined;
  remove(state: EmulatorState, names: TargetNames): void;
}

const targetAccess: Partial<Record<DeploymentTargetType, TargetAccess>> = {};

export function registerTargetAccess(type: DeploymentTargetType, access: TargetAccess): void {
  targetAccess[type] = access;
}

function failName(d: DeploymentRecord): string {
  switch (d.targetResourceType) {
    case 'ENVIRONMENT': return d.environmentName;
    case 'SERVICE_INSTANCE': return d.serviceInstanceName!;
    case 'SERVICE_PIPELINE': return d.serviceName!;
    case 'COMPONENT': return d.componentName!;
  }
}

/** Completes the deployment phases that are due (of the deployments given by id), in the order they fell due. */
export const deploymentSettler: Settler = {
  collection: 'deployments',
  dueAt: (d: DeploymentRecord) => d.completesAt,
  settle(ctx, ids) {
    const now = ctx.clock.now();
    const due = ids.map(id => ctx.state.deployments[id] as DeploymentRecord | undefined)
      .filter((d): d is DeploymentRecord => d !== undefined && d.completesAt !== undefined && d.completesAt <= now)
      .sort((a, b) => a.completesAt! - b.completesAt! || a.createdAt - b.createdAt);
    for (const deployment of due) {
      complete(ctx, deployment);
    }
  },
};

/** How a deployment ended when its provisioning engine reported it (NotifyResourceDeploymentStatusChange). */
interface ReportedOutcome {
  readonly failed: boolean;
  readonly message?: string;
}

/** Ends the deployment's current phase; without a reported outcome it succeeds unless its resource fails on demand. */
function complete(ctx: OperationContext, d: DeploymentRecord, reported?: ReportedOutcome): void {
  const at = d.completesAt!;
  const access = targetAccess[d.targetResourceType]!;
  const record = access.find(ctx.state, d);
  const renderingFailed = d.deploymentStatus === 'IN_PROGRESS' && d.failureMessage !== undefined;
  const fails = reported ? reported.failed : renderingFailed || ctx.settings.failDeploymentsFor.has(failName(d));
  const onDemand = `${d.targetResourceType.toLowerCase().replace('_', ' ')} '${failName(d)}' failed on demand (proton-local failDeploymentsFor)`;
  const outcomeMessage = (action: string) => {
    if (reported) return reported.message;
    if (renderingFailed) return d.failureMessage;
    return fails ? `${action} of ${onDemand}` : undefined;
  };
  let message: string | undefined;
  switch (d.deploymentStatus) {
    case 'IN_PROGRESS':
      d.deploymentStatus = fails ? 'FAILED' : 'SUCCEEDED';
      message = outcomeMessage('Deployment');
      if (record && record.lastAttemptedDeploymentId === d.id) {
        record.deploymentStatus = d.deploymentStatus;
        if (!fails) {
          record.lastDeploymentSucceededAt = at;
          record.lastSucceededDeploymentId = d.id;
          record.outputs = d.outputs;
        }
      }
      break;
    case 'CANCELLING':
      d.deploymentStatus = 'CANCELLED';
      message = 'Deployment cancelled: the previous deployment\'s state was restored';
      if (record && record.lastAttemptedDeploymentId === d.id) {
        record.deploymentStatus = 'CANCELLED';
        if (d.initialState) {
          for (const key of DEPLOYED_STATE_KEYS) {
            record[key] = d.initialState[key];
          }
        }
      }
      break;
    case 'DELETE_IN_PROGRESS':
      d.deploymentStatus = fails ? 'DELETE_FAILED' : 'DELETE_COMPLETE';
      message = outcomeMessage('Deletion');
      if (record && record.lastAttemptedDeploymentId === d.id) {
        if (fails) {
          record.deploymentStatus = 'DELETE_FAILED';
        } else {
          access.remove(ctx.state, d);
          dropTags(ctx, record.arn);
        }
      }
      break;
    default:
      break;
  }
  d.deploymentStatusMessage = message;
  d.completesAt = undefined;
  d.completedAt = at;
  d.lastModifiedAt = at;
  if (record && record.lastAttemptedDeploymentId === d.id) {
    record.deploymentStatusMessage = message;
    record.lastModifiedAt = at;
  }
}

/** The provisioned resources a successful deployment leaves: one stack (CloudFormation) or workspace (Terraform). */
export function provisionedResourcesOf(record: DeployableRecord, name: string, engine: 'CLOUDFORMATION' | 'TERRAFORM' | undefined) {
  if (!record.lastSucceededDeploymentId || engine === undefined) {
    return [];
  }
  const stack = `AWSProton-${name}`;
  return [{ name: stack, identifier: `${record.arn}/${stack}`, provisioningEngine: engine }];
}

// ---------------------------------------------------------------------------------------------------------------
// Deployment records

function stateOutput(type: DeploymentTargetType, state: DeployedState | undefined) {
  if (!state) {
    return undefined;
  }
  switch (type) {
    case 'ENVIRONMENT': return { environment: pickState(state, ['spec', 'templateName', 'templateMajorVersion', 'templateMinorVersion']) };
    case 'SERVICE_INSTANCE': return { serviceInstance: pickState(state, ['spec', 'templateName', 'templateMajorVersion', 'templateMinorVersion']) };
    case 'SERVICE_PIPELINE': return { servicePipeline: pickState(state, ['spec', 'templateName', 'templateMajorVersion', 'templateMinorVersion']) };
    case 'COMPONENT': return { component: pickState(state, ['serviceName', 'serviceInstanceName', 'serviceSpec', 'templateFile']) };
  }
}

function pickState(state: DeployedState, keys: Array<keyof DeployedState>) {
  return Object.fromEntries(keys.map(k => [k, state[k]]));
}

function deploymentSummary(d: DeploymentRecord) {
  return {
    id: d.id,
    arn: d.arn,
    targetArn: d.targetArn,
    targetResourceCreatedAt: toDate(d.targetResourceCreatedAt),
    targetResourceType: d.targetResourceType,
    createdAt: toDate(d.createdAt),
    lastModifiedAt: toDate(d.lastModifiedAt),
    completedAt: toDate(d.completedAt),
    environmentName: d.environmentName,
    serviceName: d.serviceName,
    serviceInstanceName: d.serviceInstanceName,
    componentName: d.componentName,
    lastAttemptedDeploymentId: d.lastAttemptedDeploymentId,
    lastSucceededDeploymentId: d.lastSucceededDeploymentId,
    deploymentStatus: d.deploymentStatus,
  };
}

function deploymentOutput(d: DeploymentRecord) {
  return {
    ...deploymentSummary(d),
    deploymentStatusMessage: d.deploymentStatusMessage,
    initialState: stateOutput(d.targetResourceType, d.initialState),
    targetState: stateOutput(d.targetResourceType, d.targetState),
  };
}

const FILTERS = ['environmentName', 'serviceName', 'serviceInstanceName', 'componentName'] as const;

function matches(d: DeploymentRecord, input: Partial<TargetNames>): boolean {
  return FILTERS.every(key => input[key] === undefined || input[key] === d[key]);
}

/** The outputs of a resource: of its last successful deployment, or of the given deployment (none unless it succeeded). */
export function outputsFor(ctx: OperationContext, record: DeployableRecord, deploymentId: string | undefined): OutputRecord[] {
  if (deploymentId === undefined) {
    return record.outputs;
  }
  const d = ctx.state.deployments[deploymentId] as DeploymentRecord | undefined;
  if (!d || d.targetArn !== record.arn) {
    throw notFound(`deployment ${deploymentId} of ${record.arn} does not exist`);
  }
  return d.deploymentStatus === 'SUCCEEDED' ? d.outputs : [];
}

export const deploymentOperations: OperationTable = {
  GetDeployment(ctx, input) {
    const d = ctx.state.deployments[input.id] as DeploymentRecord | undefined;
    if (!d || !matches(d, input)) {
      throw notFound(`deployment ${input.id} does not exist`);
    }
    return { deployment: deploymentOutput(d) };
  },

  ListDeployments(ctx, input) {
    // Newest first; records are kept in creation order, so reversing before the stable sort orders same-time records too.
    const all = (Object.values(ctx.state.deployments) as DeploymentRecord[])
      .filter(d => matches(d, input))
      .reverse()
      .sort((a, b) => b.createdAt - a.createdAt);
    const page = paginate(all, input);
    return { deployments: page.items.map(deploymentSummary), nextToken: page.nextToken };
  },

  /**
   * The provisioning engine's report (self-managed and CodeBuild provisioning). Self-managed deployments wait for it
   * (unless autoCompleteSelfManaged); others also end on their own after the deployment delay.
   */
  NotifyResourceDeploymentStatusChange(ctx, input: {
    resourceArn: string; status?: 'IN_PROGRESS' | 'FAILED' | 'SUCCEEDED'; outputs?: OutputRecord[]; deploymentId?: string; statusMessage?: string;
  }) {
    const deployments = (Object.values(ctx.state.deployments) as DeploymentRecord[]).filter(d => d.targetArn === input.resourceArn);
    const target = deployments[0] && targetAccess[deployments[0].targetResourceType]!.find(ctx.state, deployments[0]);
    const id = input.deploymentId ?? target?.lastAttemptedDeploymentId;
    const deployment = deployments.find(d => d.id === id);
    if (!deployment) {
      throw notFound(`${input.resourceArn} has no deployment${input.deploymentId === undefined ? '' : ` ${input.deploymentId}`}`);
    }
    if (deployment.deploymentStatus !== 'IN_PROGRESS' && deployment.deploymentStatus !== 'DELETE_IN_PROGRESS') {
      throw conflict(`deployment ${deployment.id} of ${input.resourceArn} is ${deployment.deploymentStatus}: `
        + 'only an IN_PROGRESS or DELETE_IN_PROGRESS deployment takes status changes');
    }
    if (input.outputs !== undefined) {
      deployment.outputs = input.outputs;
    }
    if (input.status === 'SUCCEEDED' || input.status === 'FAILED') {
      deployment.awaitsNotification = undefined;
      deployment.completesAt = ctx.clock.now();
      complete(ctx, deployment, { failed: input.status === 'FAILED', message: input.statusMessage });
    } else {
      deployment.deploymentStatusMessage = input.statusMessage;
    }
    return {};
  },

  DeleteDeployment(ctx, input) {
    const d = ctx.state.deployments[input.id] as DeploymentRecord | undefined;
    if (!d) {
      return {};
    }
    if (d.completesAt !== undefined || d.awaitsNotification) {
      throw validation(`deployment ${input.id} is ${d.deploymentStatus}: only a completed deployment's record can be deleted`);
    }
    delete ctx.state.deployments[input.id];
    return { deployment: deploymentOutput(d) };
  },
};
