/**
 * What a deployment will produce: proton-local renders the template version's bundle (kept by the version record as
 * Proton keeps its own copy) with the shared renderer (src/render/), as Proton does when a deployment starts. A bundle
 * that does not render or parse fails the deployment with the renderer's message; otherwise the deployment's outputs
 * are the rendered template's `Outputs` (Terraform: its `output` blocks), with literal, input and parameter values as
 * they are and stable placeholders for what only AWS knows.
 */
import type { OutputRecord, ResolvedTemplateVersion } from './deployments';
import type { EnvironmentRecord } from './environments';
import type { ServiceInstanceRecord, ServiceRecord } from './services';
import type { TemplateVersionRecord } from './state';
import type { OperationContext } from './types';
import { BundleFile, unpackBundleSync } from '../../private/bundle';
import { outputValues, parseCloudFormation, RenderError } from '../../render/cloudformation';
import { renderJinja } from '../../render/jinja';
import { EnvironmentParameters, InstanceParameters, OutputMap, renderBundle, RenderRequest } from '../../render/render';

/** The outcome a deployment is started with: the outputs it produces, or the message it fails with. */
export interface DeploymentPlan {
  readonly outputs: OutputRecord[];
  /** Set when the deployment must fail (its bundle does not render): the deploymentStatusMessage. */
  readonly failureMessage?: string;
}

/** Deployments of customer-managed or self-provisioned resources: no rendering, the given outputs. */
export function planWithOutputs(outputs: OutputRecord[]): DeploymentPlan {
  return { outputs };
}

// Unpacked bundles by content (a reset emulator may register another bundle under the same version ARN).
const bundleCache = new Map<string, BundleFile[]>();
const MAX_CACHED_BUNDLES = 200;

function bundleFiles(ctx: OperationContext, version: TemplateVersionRecord): BundleFile[] | undefined {
  // The blob key is the archive's SHA-256: the cache is by content.
  const key = version.bundleBlob;
  if (key === undefined) return undefined;
  let files = bundleCache.get(key);
  if (!files) {
    const archive = ctx.readBlob(key);
    if (archive === undefined) return undefined;
    files = unpackBundleSync(archive);
    if (bundleCache.size >= MAX_CACHED_BUNDLES) bundleCache.delete(bundleCache.keys().next().value!);
    bundleCache.set(key, files);
  }
  return files;
}

function toRecords(values: OutputMap): OutputRecord[] {
  return Object.entries(values).map(([key, valueString]) => ({ key, valueString }));
}

function toMap(outputs: OutputRecord[]): OutputMap {
  return Object.fromEntries(outputs.map(o => [o.key, o.valueString]));
}

// Plans by what determines them: rendering is a pure function of the bundle (its content hash, schema included),
// the request and the account and region, so a redeployment with the same inputs (an UpdateEnvironment that changes the
// description, a CURRENT_VERSION redeploy) reuses the outputs instead of rendering and parsing the IaC again (most
// of a deployment's time, for the AWS samples' templates).
const planCache = new Map<string, DeploymentPlan>();
const MAX_CACHED_PLANS = 1000;

function plan(ctx: OperationContext, resolved: ResolvedTemplateVersion, request: RenderRequest): DeploymentPlan {
  const bundleKey = resolved.version.bundleBlob;
  // The bundle's hash covers its schema too. Requests are built field by field here, so equal ones print alike
  // (one whose inputs came in another order only misses the cache).
  const key = bundleKey === undefined ? undefined
    : JSON.stringify([bundleKey, ctx.settings.accountId, ctx.settings.region, request]);
  const cached = key === undefined ? undefined : planCache.get(key);
  if (cached) {
    // Refreshed as the most recently used; callers get their own outputs array (deployments keep and replace it).
    planCache.delete(key!);
    planCache.set(key!, cached);
    return { ...cached, outputs: cached.outputs.map(o => ({ ...o })) };
  }
  const files = bundleFiles(ctx, resolved.version);
  if (!files) {
    // A version recorded before proton-local kept bundles: nothing to render.
    return { outputs: [] };
  }
  const computed = renderPlan(ctx, resolved, files, request);
  if (key !== undefined) {
    if (planCache.size >= MAX_CACHED_PLANS) planCache.delete(planCache.keys().next().value!);
    planCache.set(key, { ...computed, outputs: computed.outputs.map(o => ({ ...o })) });
  }
  return computed;
}

function renderPlan(ctx: OperationContext, resolved: ResolvedTemplateVersion, files: BundleFile[], request: RenderRequest): DeploymentPlan {
  try {
    const rendering = renderBundle(files, resolved.schema, request, {
      // Proton accepts inputs the schema does not declare (see checkInputs).
      allowUnknownInputs: true,
      account: ctx.settings.accountId,
      region: ctx.settings.region,
    });
    return { outputs: toRecords(rendering.outputValues) };
  } catch (e) {
    if (e instanceof RenderError) {
      const { templateName, majorVersion, minorVersion } = resolved.version;
      return { outputs: [], failureMessage: `Template rendering failed for ${templateName}:${majorVersion}.${minorVersion}: ${e.message}` };
    }
    throw e;
  }
}

/**
 * The outputs a resource has now: those of its last successful deployment, else those its running deployment will
 * produce (a service created right after its environment renders against the environment being deployed).
 */
export function currentOutputs(
  ctx: OperationContext, record: { outputs: OutputRecord[]; lastSucceededDeploymentId?: string; lastAttemptedDeploymentId?: string },
): OutputMap {
  if (record.lastSucceededDeploymentId) return toMap(record.outputs);
  const running = record.lastAttemptedDeploymentId ? ctx.state.deployments[record.lastAttemptedDeploymentId] : undefined;
  return toMap(running?.outputs ?? []);
}

function environmentParameters(ctx: OperationContext, environmentName: string): EnvironmentParameters {
  const environment = ctx.state.environments[environmentName] as EnvironmentRecord | undefined;
  return {
    name: environmentName,
    accountId: environment?.environmentAccountId ?? ctx.settings.accountId,
    outputs: environment ? currentOutputs(ctx, environment) : {},
  };
}

function serviceParameters(service: ServiceRecord) {
  return {
    name: service.name,
    repositoryId: service.repositoryId,
    branchName: service.branchName,
    repositoryConnectionArn: service.repositoryConnectionArn,
  };
}

function instanceParameters(ctx: OperationContext, instance: ServiceInstanceRecord, inputs: unknown): InstanceParameters {
  const component = Object.values(ctx.state.components)
    .find((c: any) => c.serviceName === instance.serviceName && c.serviceInstanceName === instance.name);
  return {
    name: instance.name,
    inputs: (inputs ?? {}) as { [name: string]: unknown },
    environment: environmentParameters(ctx, instance.environmentName),
    componentOutputs: component ? currentOutputs(ctx, component) : undefined,
    outputs: currentOutputs(ctx, instance),
  };
}

/** An environment deployment: `infrastructure/` rendered with the spec's inputs. */
export function environmentPlan(ctx: OperationContext, resolved: ResolvedTemplateVersion, environmentName: string, inputs: unknown): DeploymentPlan {
  return plan(ctx, resolved, { kind: 'ENVIRONMENT', environment: { name: environmentName, inputs: (inputs ?? {}) as { [name: string]: unknown } } });
}

/** A service instance deployment: `instance_infrastructure/` with the instance's inputs, its environment's outputs and its component's. */
export function instancePlan(
  ctx: OperationContext, resolved: ResolvedTemplateVersion, service: ServiceRecord, instance: ServiceInstanceRecord, inputs: unknown,
): DeploymentPlan {
  return plan(ctx, resolved, { kind: 'SERVICE_INSTANCE', service: serviceParameters(service), instance: instanceParameters(ctx, instance, inputs) });
}

/** A pipeline deployment: `pipeline_infrastructure/` with the pipeline's inputs and every instance of the service. */
export function pipelinePlan(
  ctx: OperationContext, resolved: ResolvedTemplateVersion, service: ServiceRecord, pipelineInputs: unknown,
  instanceInputs: (instance: ServiceInstanceRecord) => unknown,
): DeploymentPlan {
  return plan(ctx, resolved, {
    kind: 'SERVICE_PIPELINE',
    service: serviceParameters(service),
    pipelineInputs: (pipelineInputs ?? {}) as { [name: string]: unknown },
    instances: service.instances.map(instance => instanceParameters(ctx, instance, instanceInputs(instance))),
  });
}

/**
 * A directly defined component deployment: its template file rendered with Jinja and parsed, as Proton renders
 * component IaC ("Component CloudFormation IaC file parameter details and examples": `component.name`,
 * `environment.name`, `environment.outputs.X`, and when attached `service.name`, `service_instance.name`,
 * `service_instance.inputs.X`).
 */
export function componentPlan(ctx: OperationContext, component: {
  readonly name: string;
  readonly environmentName: string;
  readonly serviceName?: string;
  readonly serviceInstanceName?: string;
  readonly templateFile: string;
}, instanceInputs: unknown): DeploymentPlan {
  const environment = environmentParameters(ctx, component.environmentName);
  const context: { [name: string]: unknown } = {
    component: { name: component.name },
    environment: { name: environment.name, outputs: environment.outputs },
  };
  if (component.serviceName && component.serviceInstanceName) {
    context.service = { name: component.serviceName };
    context.service_instance = { name: component.serviceInstanceName, inputs: instanceInputs ?? {} };
  }
  try {
    const template = parseCloudFormation(renderJinja(component.templateFile, 'templateFile', context), 'templateFile');
    const values = outputValues(template, { stackName: `AWSProton-${component.name}`, account: ctx.settings.accountId, region: ctx.settings.region });
    return { outputs: toRecords(values) };
  } catch (e) {
    if (e instanceof RenderError) {
      return { outputs: [], failureMessage: `Template rendering failed for component '${component.name}': ${e.message}` };
    }
    throw e;
  }
}
