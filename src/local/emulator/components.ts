/**
 * Directly defined components: deployed to an environment with a componentRoleArn, optionally attached to a service
 * instance whose template version supports DIRECTLY_DEFINED components. Attached components block deleting
 * themselves, their instance's removal and their service's deletion; UpdateComponent with "" names detaches.
 */
import { parse as parseYaml } from 'yaml';
import {
  cancelDeployment, checkUpdatable, DeployableRecord, isBusy, outputsFor, provisionedResourcesOf, registerTargetAccess, startDeletion,
  startDeployment,
} from './deployments';
import { environmentOf } from './environments';
import { componentPlan } from './rendering';
import { instanceOf, ServiceInstanceRecord } from './services';
import { PageInput, paginate, protonArn, rememberClientToken, replayClientToken, toDate } from './shared';
import type { EmulatorState } from './state';
import { initTags, Tag } from './tags';
import { conflict, notFound, OperationContext, OperationTable, quotaExceeded, validation } from './types';

const MAX_COMPONENTS = 100;

export interface ComponentRecord extends DeployableRecord {
  readonly name: string;
  description?: string;
  readonly environmentName: string;
  serviceName?: string;
  serviceInstanceName?: string;
  serviceSpec?: string;
  templateFile: string;
  readonly manifest: string;
  lastClientRequestToken?: string;
}

interface Attachment {
  readonly serviceName?: string;
  readonly serviceInstanceName?: string;
}

function componentOf(state: EmulatorState, name: string): ComponentRecord {
  const component = state.components[name] as ComponentRecord | undefined;
  if (!component) {
    throw notFound(`The requested component does not exist: ${name}`);
  }
  return component;
}

function componentTarget(c: ComponentRecord) {
  return {
    record: c,
    type: 'COMPONENT' as const,
    environmentName: c.environmentName,
    serviceName: c.serviceName,
    serviceInstanceName: c.serviceInstanceName,
    componentName: c.name,
  };
}

/** The component's template rendered with the inputs of the instance it is attached to. */
function renderedPlan(ctx: OperationContext, component: Pick<ComponentRecord, 'name' | 'environmentName' | 'serviceName' | 'serviceInstanceName' | 'templateFile'>) {
  const instances: ServiceInstanceRecord[] = component.serviceName ? ctx.state.services[component.serviceName]?.instances ?? [] : [];
  const instance = instances.find(i => i.name === component.serviceInstanceName);
  return componentPlan(ctx, component, instance ? parseYaml(instance.spec) ?? {} : undefined);
}

registerTargetAccess('COMPONENT', {
  find: (state, names) => state.components[names.componentName!],
  remove: (state, names) => { delete state.components[names.componentName!]; },
});

function componentSummary(c: ComponentRecord) {
  return {
    name: c.name,
    arn: c.arn,
    environmentName: c.environmentName,
    serviceName: c.serviceName,
    serviceInstanceName: c.serviceInstanceName,
    createdAt: toDate(c.createdAt),
    lastModifiedAt: toDate(c.lastModifiedAt),
    lastDeploymentAttemptedAt: toDate(c.lastDeploymentAttemptedAt),
    lastDeploymentSucceededAt: toDate(c.lastDeploymentSucceededAt),
    deploymentStatus: c.deploymentStatus,
    deploymentStatusMessage: c.deploymentStatusMessage,
    lastAttemptedDeploymentId: c.lastAttemptedDeploymentId,
    lastSucceededDeploymentId: c.lastSucceededDeploymentId,
  };
}

function componentOutput(c: ComponentRecord) {
  return { ...componentSummary(c), description: c.description, serviceSpec: c.serviceSpec, lastClientRequestToken: c.lastClientRequestToken };
}

/** serviceName and serviceInstanceName come together: both set (attach), both "" (detach), or neither. */
function checkAttachmentPair(input: Attachment): void {
  if ((input.serviceName === undefined) !== (input.serviceInstanceName === undefined)
    || (input.serviceName === '') !== (input.serviceInstanceName === '')) {
    throw validation('serviceName and serviceInstanceName go together: give both to attach the component to a service instance, '
      + `both "" to detach it, or neither (got serviceName ${JSON.stringify(input.serviceName)}, serviceInstanceName ${JSON.stringify(input.serviceInstanceName)})`);
  }
}

/** The instance a component attaches to: it must allow directly defined components and not be deploying. */
function attachableInstance(ctx: OperationContext, serviceName: string, instanceName: string): ServiceInstanceRecord {
  const instance = instanceOf(ctx.state, serviceName, instanceName);
  const version = ctx.state.serviceTemplates[instance.templateName]?.versions[`${instance.templateMajorVersion}.${instance.templateMinorVersion}`];
  if (!version?.supportedComponentSources?.includes('DIRECTLY_DEFINED')) {
    throw validation(`service instance '${serviceName}/${instanceName}' runs service template version ${instance.templateName}:`
      + `${instance.templateMajorVersion}.${instance.templateMinorVersion}, whose supportedComponentSources doesn't include DIRECTLY_DEFINED`);
  }
  if (isBusy(instance)) {
    throw conflict(`service instance '${serviceName}/${instanceName}' is ${instance.deploymentStatus}: a component can't attach to it now`);
  }
  return instance;
}

function checkComponentRole(ctx: OperationContext, environmentName: string): void {
  const environment = environmentOf(ctx.state, environmentName);
  if (!environment.componentRoleArn) {
    throw validation(`environment '${environmentName}' has no componentRoleArn: set one (UpdateEnvironment) before deploying directly defined components to it`);
  }
}

function checkManifest(manifest: string): void {
  let document: any;
  try {
    document = parseYaml(manifest);
  } catch (e) {
    throw validation(`manifest is not valid YAML: ${(e as Error).message}`);
  }
  if (!Array.isArray(document?.infrastructure?.templates) || document.infrastructure.templates.length !== 1) {
    throw validation('manifest must list exactly one template under infrastructure.templates');
  }
}


export const componentOperations: OperationTable = {
  CreateComponent(ctx, input: Attachment & {
    name: string;
    description?: string;
    environmentName?: string;
    templateFile: string;
    manifest: string;
    serviceSpec?: string;
    tags?: Tag[];
    clientToken?: string;
  }) {
    const replayed = replayClientToken(ctx, 'CreateComponent', input);
    const original = ctx.state.components[input.name] as ComponentRecord | undefined;
    if (original && replayed === original.arn) {
      return { component: componentOutput(original) };
    }
    if (original) {
      throw conflict(`component '${input.name}' already exists`);
    }
    if (Object.keys(ctx.state.components).length >= MAX_COMPONENTS) {
      throw quotaExceeded(`an account can have at most ${MAX_COMPONENTS} components`);
    }
    checkAttachmentPair(input);
    checkManifest(input.manifest);
    let environmentName = input.environmentName;
    if (input.serviceName) {
      const instance = attachableInstance(ctx, input.serviceName, input.serviceInstanceName!);
      if (environmentName !== undefined && environmentName !== instance.environmentName) {
        throw validation(`environmentName '${environmentName}' differs from the environment '${instance.environmentName}' of service instance `
          + `'${input.serviceName}/${input.serviceInstanceName}': omit it for an attached component`);
      }
      environmentName = instance.environmentName;
    } else if (input.serviceSpec !== undefined) {
      throw validation('serviceSpec is only for a component attached to a service instance: give serviceName and serviceInstanceName too');
    }
    if (environmentName === undefined) {
      throw validation('environmentName is required for a component that isn\'t attached to a service instance');
    }
    checkComponentRole(ctx, environmentName);
    const now = ctx.clock.now();
    const component: ComponentRecord = {
      name: input.name,
      arn: protonArn(ctx, `component/${input.name}`),
      description: input.description,
      environmentName,
      templateFile: input.templateFile,
      manifest: input.manifest,
      lastClientRequestToken: input.clientToken,
      createdAt: now,
      lastModifiedAt: now,
      lastDeploymentAttemptedAt: now,
      deploymentStatus: 'IN_PROGRESS',
      outputs: [],
    };
    initTags(ctx, component.arn, input.tags);
    ctx.state.components[input.name] = component;
    startDeployment(ctx, componentTarget(component), {
      serviceName: input.serviceName || undefined,
      serviceInstanceName: input.serviceInstanceName || undefined,
      serviceSpec: input.serviceSpec,
      templateFile: input.templateFile,
    }, renderedPlan(ctx, component));
    rememberClientToken(ctx, 'CreateComponent', input, component.arn);
    return { component: componentOutput(component) };
  },

  GetComponent(ctx, input: { name: string }) {
    return { component: componentOutput(componentOf(ctx.state, input.name)) };
  },

  ListComponents(ctx, input: PageInput & { environmentName?: string; serviceName?: string; serviceInstanceName?: string }) {
    const components = (Object.values(ctx.state.components) as ComponentRecord[])
      .filter(c => (['environmentName', 'serviceName', 'serviceInstanceName'] as const).every(key => input[key] === undefined || input[key] === c[key]))
      .sort((a, b) => a.name.localeCompare(b.name));
    const page = paginate(components, input);
    return { components: page.items.map(componentSummary), nextToken: page.nextToken };
  },

  UpdateComponent(ctx, input: Attachment & {
    name: string; deploymentType: 'NONE' | 'CURRENT_VERSION'; description?: string; serviceSpec?: string; templateFile?: string; clientToken?: string;
  }) {
    const component = componentOf(ctx.state, input.name);
    if (replayClientToken(ctx, 'UpdateComponent', input) === component.arn) {
      return { component: componentOutput(component) };
    }
    const what = `component '${input.name}'`;
    checkUpdatable(component, what);
    if (component.serviceName && isBusy(instanceOf(ctx.state, component.serviceName, component.serviceInstanceName!))) {
      throw conflict(`${what} can't be updated while its service instance '${component.serviceName}/${component.serviceInstanceName}' is deploying`);
    }
    checkAttachmentPair(input);
    if (input.deploymentType === 'NONE') {
      const given = (['serviceName', 'serviceInstanceName', 'serviceSpec', 'templateFile'] as const).filter(key => input[key] !== undefined);
      if (given.length) {
        throw validation(`deploymentType NONE updates the description only: ${given.join(', ')} need deploymentType CURRENT_VERSION`);
      }
    } else {
      let { serviceName, serviceInstanceName, serviceSpec } = component;
      if (input.serviceName !== undefined) {
        serviceName = input.serviceName || undefined;
        serviceInstanceName = input.serviceInstanceName || undefined;
        serviceSpec = undefined;
      }
      if (serviceName && (serviceName !== component.serviceName || serviceInstanceName !== component.serviceInstanceName)) {
        const instance = attachableInstance(ctx, serviceName, serviceInstanceName!);
        if (instance.environmentName !== component.environmentName) {
          throw validation(`service instance '${serviceName}/${serviceInstanceName}' is in environment '${instance.environmentName}', `
            + `but ${what} is deployed to '${component.environmentName}'`);
        }
      }
      if (input.serviceSpec !== undefined && !serviceName) {
        throw validation('serviceSpec is only for a component attached to a service instance');
      }
      const templateFile = input.templateFile ?? component.templateFile;
      startDeployment(ctx, componentTarget(component), {
        serviceName, serviceInstanceName, serviceSpec: input.serviceSpec ?? serviceSpec, templateFile,
      }, renderedPlan(ctx, { ...component, serviceName, serviceInstanceName, templateFile }));
    }
    component.description = input.description ?? component.description;
    component.lastModifiedAt = ctx.clock.now();
    component.lastClientRequestToken = input.clientToken;
    rememberClientToken(ctx, 'UpdateComponent', input, component.arn);
    return { component: componentOutput(component) };
  },

  DeleteComponent(ctx, input: { name: string }) {
    const component = ctx.state.components[input.name] as ComponentRecord | undefined;
    if (!component) {
      return {};
    }
    if (component.deploymentStatus === 'DELETE_IN_PROGRESS') {
      return { component: componentOutput(component) };
    }
    if (component.serviceName) {
      throw conflict(`component '${input.name}' is attached to service instance '${component.serviceName}/${component.serviceInstanceName}': `
        + 'detach it first (UpdateComponent with serviceName and serviceInstanceName "")');
    }
    if (isBusy(component)) {
      throw conflict(`component '${input.name}' can't be deleted while its deployment status is ${component.deploymentStatus}`);
    }
    startDeletion(ctx, componentTarget(component));
    return { component: componentOutput(component) };
  },

  CancelComponentDeployment(ctx, input: { componentName: string }) {
    const component = componentOf(ctx.state, input.componentName);
    cancelDeployment(ctx, component, `component '${input.componentName}'`);
    return { component: componentOutput(component) };
  },

  ListComponentOutputs(ctx, input: { componentName: string; deploymentId?: string }) {
    return { outputs: outputsFor(ctx, componentOf(ctx.state, input.componentName), input.deploymentId) };
  },

  ListComponentProvisionedResources(ctx, input: { componentName: string }) {
    const component = componentOf(ctx.state, input.componentName);
    return { provisionedResources: provisionedResourcesOf(component, `component-${component.name}`, 'CLOUDFORMATION') };
  },
};
