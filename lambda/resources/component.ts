/**
 * Custom::ProtonComponent: a directly defined component. The physical id is the component's name.
 *
 * - Create: get before create; CreateComponent carries a client token derived from the event, so a re-delivered event
 *   returns the component the first delivery created. isComplete waits for the deployment to succeed.
 * - Update: Proton does not return a component's template file, so what is deployed is read from the component's last
 *   attempted deployment (GetDeployment targetState); a different template file, service spec or attachment is
 *   deployed with UpdateComponent CURRENT_VERSION (a client token again; rejected while a deployment runs: wait).
 * - Delete: an attached component is detached first (UpdateComponent with serviceName and serviceInstanceName ""),
 *   as Proton refuses to delete it otherwise; then DeleteComponent, then the handler waits for it to be gone.
 */
import {
  Component, ComponentState, CreateComponentCommand, DeleteComponentCommand, GetComponentCommand, GetDeploymentCommand,
  paginateListComponentOutputs, ProtonClient, UpdateComponentCommand,
} from '@aws-sdk/client-proton';
import { isBusy, outputData } from './workload';
import { ComponentProperties as P, OutputAttributes, ResourceTypes } from '../../src/private/properties';
import { errorName, ignoreNotFound, isConflict, isIdempotentParameterMismatch, isNotFound } from '../shared/errors';
import { DONE, lifecycle, pending, Progress, StepContext } from '../shared/lifecycle';
import { PropertyReader } from '../shared/properties';
import { checkOwnership, ownerTag, readTags, syncTags, Tag, whenFree, whenFreeStarting } from '../shared/tags';
import { clientToken } from '../shared/tokens';
import type { ResourceHandler, ResourceProperties } from '../shared/types';

/** The component the properties describe. */
interface DesiredComponent {
  readonly name: string;
  readonly manifest: string;
  readonly templateFile: string;
  readonly environmentName?: string;
  readonly serviceName?: string;
  readonly serviceInstanceName?: string;
  readonly serviceSpec?: string;
  readonly description?: string;
  readonly tags: Tag[];
  readonly outputAttributes: string[];
  readonly adoptExisting: boolean;
}

function readComponent(properties: ResourceProperties | undefined): DesiredComponent {
  const p = new PropertyReader(properties, ResourceTypes.COMPONENT);
  const serviceName = p.optionalString(P.SERVICE_NAME) || undefined;
  const serviceInstanceName = p.optionalString(P.SERVICE_INSTANCE_NAME) || undefined;
  const environmentName = p.optionalString(P.ENVIRONMENT_NAME) || undefined;
  if ((serviceName === undefined) !== (serviceInstanceName === undefined)) {
    throw new Error(`${ResourceTypes.COMPONENT} properties ${P.SERVICE_NAME} and ${P.SERVICE_INSTANCE_NAME}: both or neither are required, `
      + `got ${JSON.stringify({ serviceName, serviceInstanceName })}`);
  }
  if (serviceName === undefined && environmentName === undefined) {
    throw new Error(`${ResourceTypes.COMPONENT} property ${P.ENVIRONMENT_NAME}: required for a component attached to no service instance, missing`);
  }
  return {
    name: p.string(P.COMPONENT_NAME),
    manifest: p.string(P.MANIFEST),
    templateFile: p.string(P.TEMPLATE_FILE),
    environmentName,
    serviceName,
    serviceInstanceName,
    serviceSpec: p.optionalString(P.SERVICE_SPEC) || undefined,
    description: p.optionalString(P.DESCRIPTION),
    tags: readTags(p, P.TAGS),
    outputAttributes: p.stringList(P.OUTPUT_KEYS) ?? [],
    adoptExisting: p.boolean(P.ADOPT_EXISTING, false),
  };
}

const what = (name: string) => `component '${name}'`;

async function getComponent(client: ProtonClient, name: string): Promise<Component | undefined> {
  return ignoreNotFound(async () => (await client.send(new GetComponentCommand({ name }))).component);
}

/** What the component's last attempted deployment put in place; undefined when Proton reports no deployment. */
async function lastDeployed(client: ProtonClient, component: Component): Promise<ComponentState | undefined> {
  const id = component.lastAttemptedDeploymentId;
  if (!id) return undefined;
  try {
    const { deployment } = await client.send(new GetDeploymentCommand({ id, componentName: component.name }));
    const target = deployment?.targetState;
    return target && 'component' in target ? target.component : undefined;
  } catch (error) {
    // Deployment records can be deleted (DeleteDeployment): then what is deployed is unknown, and deploying again is safe.
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Proton reports a component attached to nothing with absent or empty names. */
const attached = (name: string | undefined) => name || undefined;

function isDeployedAsDesired(state: ComponentState | undefined, component: Component, desired: DesiredComponent): boolean {
  return state !== undefined
    && state.templateFile === desired.templateFile
    && (state.serviceSpec || undefined) === desired.serviceSpec
    && attached(component.serviceName) === desired.serviceName
    && attached(component.serviceInstanceName) === desired.serviceInstanceName;
}

async function create(ctx: StepContext, desired: DesiredComponent): Promise<string> {
  const existing = await getComponent(ctx.client, desired.name);
  if (existing) {
    await checkOwnership(ctx, existing.arn!, what(desired.name), desired.adoptExisting);
    return desired.name;
  }
  try {
    await ctx.client.send(new CreateComponentCommand({
      name: desired.name,
      manifest: desired.manifest,
      templateFile: desired.templateFile,
      // Proton derives an attached component's environment from its service instance.
      environmentName: desired.serviceName ? undefined : desired.environmentName,
      serviceName: desired.serviceName,
      serviceInstanceName: desired.serviceInstanceName,
      serviceSpec: desired.serviceSpec,
      description: desired.description,
      clientToken: clientToken(ctx.event, 'CreateComponent'),
      tags: [ownerTag(ctx), ...desired.tags],
    }));
  } catch (error) {
    // A component of that name created in between (by another delivery with another token, or by someone else).
    if (!isConflict(error) && !isIdempotentParameterMismatch(error)) throw error;
    const other = await getComponent(ctx.client, desired.name);
    if (!other) throw error;
    await checkOwnership(ctx, other.arn!, what(desired.name), desired.adoptExisting);
  }
  return desired.name;
}

/**
 * One reconciliation pass: waits while a deployment runs, deploys the template file, service spec and attachment,
 * then updates the description, then the tags.
 *
 * @param retryFailed true in onEvent: a component that failed with these very settings is deployed again; in
 * isComplete such a failure is the outcome of this request's deployment and fails the resource.
 */
async function advance(
  ctx: StepContext, desired: DesiredComponent, previous: DesiredComponent | undefined, retryFailed: boolean,
): Promise<Progress> {
  const client = ctx.client;
  const name = desired.name;
  const component = await getComponent(client, name);
  if (!component) throw new Error(`${what(name)} does not exist (it was deleted outside this stack?)`);
  const status = component.deploymentStatus;
  if (isBusy(status)) return pending(`${what(name)} is ${status}`);
  if (status === 'DELETE_FAILED') {
    throw new Error(`${what(name)} is DELETE_FAILED: ${component.deploymentStatusMessage ?? 'Proton gave no reason'}`);
  }
  if (previous && previous.manifest !== desired.manifest) {
    throw new Error(`${what(name)}: Proton can't change a component's manifest (UpdateComponent takes none): give the component a new `
      + 'name (componentName) to replace it');
  }
  if (!desired.serviceName && desired.environmentName !== component.environmentName) {
    throw new Error(`${what(name)} is deployed to environment '${component.environmentName}' and Proton can't move it to `
      + `'${desired.environmentName}': give the component a new name (componentName) to replace it`);
  }
  const deployed = isDeployedAsDesired(await lastDeployed(client, component), component, desired);
  if (!deployed || (status === 'FAILED' && retryFailed)) {
    const isAttached = attached(component.serviceName) !== undefined;
    const attachment = desired.serviceName
      ? { serviceName: desired.serviceName, serviceInstanceName: desired.serviceInstanceName }
      : isAttached ? { serviceName: '', serviceInstanceName: '' } : {};
    return whenFreeStarting(`deploying ${what(name)}`, () => client.send(new UpdateComponentCommand({
      name,
      deploymentType: 'CURRENT_VERSION',
      templateFile: desired.templateFile,
      serviceSpec: desired.serviceSpec,
      ...attachment,
      description: desired.description,
      clientToken: clientToken(ctx.event, 'UpdateComponent'),
    })));
  }
  if (status === 'FAILED') {
    throw new Error(`${what(name)} failed to deploy: ${component.deploymentStatusMessage ?? 'Proton gave no reason'}`);
  }
  if (desired.description !== undefined && desired.description !== (component.description ?? '')) {
    return whenFree(`updating the description of ${what(name)}`, () => client.send(new UpdateComponentCommand({
      name, deploymentType: 'NONE', description: desired.description, clientToken: clientToken(ctx.event, 'UpdateComponentDescription'),
    })));
  }
  return syncTags(ctx, component.arn!, desired.tags, previous?.tags ?? []);
}

/**
 * One step of deletion: waits for a deployment in progress, detaches an attached component (Proton deletes only
 * detached ones), deletes it, then waits for it to disappear.
 *
 * @param retryFailed true in onEvent: a DELETE_FAILED component is deleted again; in isComplete it fails.
 */
async function advanceDeletion(ctx: StepContext, name: string, retryFailed: boolean): Promise<Progress> {
  const client = ctx.client;
  const component = await getComponent(client, name);
  if (!component) return DONE;
  const status = component.deploymentStatus;
  if (status === 'DELETE_FAILED' && !retryFailed) {
    throw new Error(`${what(name)} failed to delete: ${component.deploymentStatusMessage ?? 'Proton gave no reason'}`);
  }
  if (isBusy(status)) return pending(`${what(name)} is ${status}`);
  if (attached(component.serviceName) !== undefined) {
    return whenFreeStarting(`detaching ${what(name)} from service instance '${component.serviceName}/${component.serviceInstanceName}' before deleting it`,
      () => client.send(new UpdateComponentCommand({
        name, deploymentType: 'CURRENT_VERSION', serviceName: '', serviceInstanceName: '', clientToken: clientToken(ctx.event, 'DetachComponent'),
      })));
  }
  try {
    await client.send(new DeleteComponentCommand({ name }));
    return pending(`deleting ${what(name)}`);
  } catch (error) {
    if (isNotFound(error)) return DONE;
    if (isConflict(error)) return pending(`deleting ${what(name)}: Proton reported a conflict (${errorName(error)}), retrying on the next poll`);
    throw error;
  }
}

function data(client: ProtonClient, desired: DesiredComponent): Promise<{ [attribute: string]: string }> {
  return outputData(desired.outputAttributes, () => ({
    prefix: OutputAttributes.ENVIRONMENT,
    owner: what(desired.name),
    list: async () => {
      const outputs = [];
      for await (const page of paginateListComponentOutputs({ client }, { componentName: desired.name })) outputs.push(...page.outputs ?? []);
      return outputs;
    },
  }));
}

export const componentHandler: ResourceHandler = lifecycle<DesiredComponent>({
  resourceType: ResourceTypes.COMPONENT,
  decode: readComponent,
  // Proton marks serviceSpec sensitive.
  secrets: desired => (desired.serviceSpec ? [desired.serviceSpec] : []),
  needsNewResource: (previous, desired) => previous.name !== desired.name,
  create,
  advance: (ctx, _name, desired, previous, firstStep) => advance(ctx, desired, previous, firstStep),
  advanceDeletion: (ctx, name, _properties, firstStep) => advanceDeletion(ctx, name, firstStep),
  data: (ctx, _name, desired) => data(ctx.client, desired),
});
