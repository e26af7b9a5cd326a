/** Environments: create, update, cancel and delete deployments, outputs and provisioned resources. */
import { stringify as stringifyYaml } from 'yaml';
import { visibleConnection } from './connections';
import {
  cancelDeployment, checkInputs, checkUpdatable, DeployableRecord, DeploymentType, keepCurrentValues, outputsFor, outputsOf, parseSpec,
  provisionedResourcesOf, registerTargetAccess, resolveTemplateVersion, ResolvedTemplateVersion, startDeletion, startDeployment,
  versionForUpdate,
} from './deployments';
import { DeploymentPlan, environmentPlan, planWithOutputs } from './rendering';
import { canonicalJson, repeatsCreate, PageInput, paginate, protonArn, toDate } from './shared';
import type { EmulatorState } from './state';
import { initTags, Tag } from './tags';
import { conflict, notFound, OperationContext, OperationTable, quotaExceeded, validation } from './types';

const MAX_ENVIRONMENTS = 100;

export interface RepositoryBranch {
  readonly arn: string;
  readonly provider: string;
  readonly name: string;
  readonly branch: string;
}

export interface EnvironmentRecord extends DeployableRecord {
  readonly name: string;
  description?: string;
  templateName: string;
  templateMajorVersion: string;
  templateMinorVersion: string;
  spec: string;
  protonServiceRoleArn?: string;
  environmentAccountConnectionId?: string;
  environmentAccountId?: string;
  /** 'CUSTOMER_MANAGED' when the template is: Proton doesn't provision the infrastructure. */
  readonly provisioning?: string;
  provisioningRepository?: RepositoryBranch;
  componentRoleArn?: string;
  codebuildRoleArn?: string;
  /** Canonical JSON of the create input, for idempotent creates by name. */
  readonly createRequest: string;
  /** Set by any change after the create: a repeated create then conflicts. */
  modified: boolean;
}

interface RepositoryBranchInput {
  readonly provider: string;
  readonly name: string;
  readonly branch: string;
}

interface ProvisioningInput {
  readonly protonServiceRoleArn?: string;
  readonly environmentAccountConnectionId?: string;
  readonly provisioningRepository?: RepositoryBranchInput;
  readonly codebuildRoleArn?: string;
  readonly componentRoleArn?: string;
}

interface CreateEnvironmentInput extends ProvisioningInput {
  readonly name: string;
  readonly templateName: string;
  readonly templateMajorVersion: string;
  readonly templateMinorVersion?: string;
  readonly description?: string;
  readonly spec: string;
  readonly tags?: Tag[];
}

interface UpdateEnvironmentInput extends ProvisioningInput {
  readonly name: string;
  readonly deploymentType: DeploymentType;
  readonly description?: string;
  readonly spec?: string;
  readonly templateMajorVersion?: string;
  readonly templateMinorVersion?: string;
}

export function environmentOf(state: EmulatorState, name: string): EnvironmentRecord {
  const environment = state.environments[name] as EnvironmentRecord | undefined;
  if (!environment) {
    throw notFound(`The requested environment does not exist: ${name}`);
  }
  return environment;
}

function environmentTarget(environment: EnvironmentRecord) {
  return { record: environment, type: 'ENVIRONMENT' as const, environmentName: environment.name };
}

registerTargetAccess('ENVIRONMENT', {
  find: (state, names) => state.environments[names.environmentName],
  remove: (state, names) => { delete state.environments[names.environmentName]; },
});

function environmentSummary(e: EnvironmentRecord) {
  return {
    name: e.name,
    description: e.description,
    createdAt: toDate(e.createdAt),
    lastDeploymentAttemptedAt: toDate(e.lastDeploymentAttemptedAt),
    lastDeploymentSucceededAt: toDate(e.lastDeploymentSucceededAt),
    arn: e.arn,
    templateName: e.templateName,
    templateMajorVersion: e.templateMajorVersion,
    templateMinorVersion: e.templateMinorVersion,
    deploymentStatus: e.deploymentStatus,
    deploymentStatusMessage: e.deploymentStatusMessage,
    protonServiceRoleArn: e.protonServiceRoleArn,
    environmentAccountConnectionId: e.environmentAccountConnectionId,
    environmentAccountId: e.environmentAccountId,
    provisioning: e.provisioning,
    componentRoleArn: e.componentRoleArn,
    lastAttemptedDeploymentId: e.lastAttemptedDeploymentId,
    lastSucceededDeploymentId: e.lastSucceededDeploymentId,
  };
}

function environmentOutput(e: EnvironmentRecord) {
  return {
    ...environmentSummary(e),
    spec: e.spec,
    provisioningRepository: e.provisioningRepository,
    codebuildRoleArn: e.codebuildRoleArn,
  };
}

/** Parses and validates an environment spec; returns it re-serialised and its inputs with defaults applied. */
function environmentSpec(resolved: ResolvedTemplateVersion, text: string, currentSpec?: string) {
  // A redeployment of the current spec (an update without one) parses it once and keeps its text: it is already
  // the re-serialised spec, and YAML parsing and printing were most of an update's time.
  const unchanged = text === currentSpec;
  const document = parseSpec(text, 'spec', 'EnvironmentSpec');
  const current = currentSpec === undefined ? undefined : unchanged ? document.spec : parseSpec(currentSpec, 'spec', 'EnvironmentSpec').spec;
  const given = keepCurrentValues(document.spec ?? {}, current, '');
  const inputs = checkInputs(resolved.schema, 'environmentInputType', given, 'spec');
  return { spec: unchanged ? currentSpec! : stringifyYaml({ ...document, spec: given }), inputs };
}

/**
 * A CUSTOMER_MANAGED environment's infrastructure exists outside Proton: its spec describes it, one output per input.
 * Any other environment's outputs come from its rendered bundle.
 */
function deploymentPlan(ctx: OperationContext, resolved: ResolvedTemplateVersion, name: string, inputs: { [name: string]: unknown }): DeploymentPlan {
  return resolved.template.provisioning === 'CUSTOMER_MANAGED'
    ? planWithOutputs(outputsOf(inputs))
    : environmentPlan(ctx, resolved, name, inputs);
}

/** The environment account connection an environment may use: CONNECTED, to the caller's account, and made for this environment. */
function usableConnection(ctx: OperationContext, id: string, environmentName: string) {
  const connection = visibleConnection(ctx, id);
  if (connection.managementAccountId !== ctx.settings.accountId) {
    throw validation(`environmentAccountConnectionId ${id} connects to management account ${connection.managementAccountId}: only an environment `
      + `in that account can use it, not one in account ${ctx.settings.accountId}`);
  }
  if (connection.status !== 'CONNECTED') {
    throw validation(`environmentAccountConnectionId ${id} is ${connection.status}: only a CONNECTED environment account connection can be used`);
  }
  if (connection.environmentName !== environmentName) {
    throw validation(`environmentAccountConnectionId ${id} was made for environment '${connection.environmentName}', not '${environmentName}'`);
  }
  return connection;
}

function registeredRepository(ctx: OperationContext, input: RepositoryBranchInput): RepositoryBranch {
  const repository = ctx.state.repositories[`${input.provider}:${input.name}`];
  if (!repository) {
    throw notFound(`provisioningRepository ${input.provider} ${input.name} is not a linked repository: register it with CreateRepository first`);
  }
  return { arn: repository.arn, provider: input.provider, name: input.name, branch: input.branch };
}

/** Proton's provisioning modes are exclusive: an environment account connection brings its own roles. */
function checkProvisioningMode(input: ProvisioningInput): void {
  const given = (['protonServiceRoleArn', 'provisioningRepository', 'codebuildRoleArn'] as const).filter(key => input[key] !== undefined);
  if (input.environmentAccountConnectionId !== undefined && given.length) {
    throw validation(`environmentAccountConnectionId can't be combined with ${given.join(', ')}: `
      + 'the environment account connection provides the roles');
  }
  if (input.provisioningRepository !== undefined && input.protonServiceRoleArn !== undefined) {
    throw validation('provisioningRepository (self-managed provisioning) can\'t be combined with protonServiceRoleArn (AWS-managed provisioning)');
  }
}

function engineOf(e: EnvironmentRecord) {
  if (e.provisioning === 'CUSTOMER_MANAGED') {
    return undefined;
  }
  return e.provisioningRepository ? 'TERRAFORM' as const : 'CLOUDFORMATION' as const;
}

/** What uses an environment: service instances and components deployed to it. */
function environmentUsers(state: EmulatorState, name: string): string[] {
  const instances = Object.values(state.services).flatMap((service: any) =>
    service.instances.filter((i: any) => i.environmentName === name).map((i: any) => `service instance '${service.name}/${i.name}'`));
  const components = Object.values(state.components).filter((c: any) => c.environmentName === name).map((c: any) => `component '${c.name}'`);
  return [...instances, ...components];
}

export const environmentOperations: OperationTable = {
  CreateEnvironment(ctx, input: CreateEnvironmentInput) {
    const existing = ctx.state.environments[input.name] as EnvironmentRecord | undefined;
    if (repeatsCreate(existing, input, `environment '${input.name}'`, existing?.modified ?? false)) {
      return { environment: environmentOutput(existing!) };
    }
    if (Object.keys(ctx.state.environments).length >= MAX_ENVIRONMENTS) {
      throw quotaExceeded(`an account can have at most ${MAX_ENVIRONMENTS} environments`);
    }
    const resolved = resolveTemplateVersion(ctx, 'ENVIRONMENT', input.templateName, input.templateMajorVersion, input.templateMinorVersion);
    const { spec, inputs } = environmentSpec(resolved, input.spec);
    checkProvisioningMode(input);
    const customerManaged = resolved.template.provisioning === 'CUSTOMER_MANAGED';
    if (!customerManaged && input.protonServiceRoleArn === undefined && input.environmentAccountConnectionId === undefined
      && input.provisioningRepository === undefined && input.codebuildRoleArn === undefined) {
      throw validation('CreateEnvironment needs a way to provision: protonServiceRoleArn or environmentAccountConnectionId (AWS-managed), '
        + 'codebuildRoleArn (CodeBuild), or provisioningRepository (self-managed)');
    }
    const connection = input.environmentAccountConnectionId === undefined
      ? undefined : usableConnection(ctx, input.environmentAccountConnectionId, input.name);
    const provisioningRepository = input.provisioningRepository && registeredRepository(ctx, input.provisioningRepository);
    const now = ctx.clock.now();
    const environment: EnvironmentRecord = {
      name: input.name,
      arn: protonArn(ctx, `environment/${input.name}`),
      description: input.description,
      templateName: input.templateName,
      templateMajorVersion: resolved.version.majorVersion,
      templateMinorVersion: resolved.version.minorVersion,
      spec,
      protonServiceRoleArn: input.protonServiceRoleArn,
      environmentAccountConnectionId: input.environmentAccountConnectionId,
      environmentAccountId: connection?.environmentAccountId,
      provisioning: resolved.template.provisioning,
      provisioningRepository,
      componentRoleArn: input.componentRoleArn,
      codebuildRoleArn: input.codebuildRoleArn,
      createdAt: now,
      lastModifiedAt: now,
      lastDeploymentAttemptedAt: now,
      deploymentStatus: 'IN_PROGRESS',
      outputs: [],
      createRequest: canonicalJson(input),
      modified: false,
    };
    initTags(ctx, environment.arn, input.tags);
    ctx.state.environments[input.name] = environment;
    startDeployment(ctx, environmentTarget(environment), {}, deploymentPlan(ctx, resolved, input.name, inputs));
    return { environment: environmentOutput(environment) };
  },

  GetEnvironment(ctx, input: { name: string }) {
    return { environment: environmentOutput(environmentOf(ctx.state, input.name)) };
  },

  ListEnvironments(ctx, input: PageInput & { environmentTemplates?: Array<{ templateName: string; majorVersion: string }> }) {
    const filters = input.environmentTemplates ?? [];
    const environments = (Object.values(ctx.state.environments) as EnvironmentRecord[])
      .filter(e => !filters.length || filters.some(f => f.templateName === e.templateName && f.majorVersion === e.templateMajorVersion))
      .sort((a, b) => a.name.localeCompare(b.name));
    const page = paginate(environments, input);
    return { environments: page.items.map(environmentSummary), nextToken: page.nextToken };
  },

  UpdateEnvironment(ctx, input: UpdateEnvironmentInput) {
    const environment = environmentOf(ctx.state, input.name);
    checkUpdatable(environment, `environment '${input.name}'`);
    checkProvisioningMode(input);
    if (input.deploymentType === 'NONE' && input.spec !== undefined) {
      throw validation('deploymentType NONE updates metadata only and deploys nothing: to change the spec use CURRENT_VERSION, MINOR_VERSION or MAJOR_VERSION');
    }
    const resolved = versionForUpdate(ctx, 'ENVIRONMENT', environment, input.deploymentType, input.templateMajorVersion, input.templateMinorVersion);
    const deployment = input.deploymentType === 'NONE' ? undefined : environmentSpec(resolved, input.spec ?? environment.spec, environment.spec);
    if (environment.provisioningRepository && (input.protonServiceRoleArn !== undefined || input.environmentAccountConnectionId !== undefined)) {
      throw validation(`environment '${input.name}' uses self-managed provisioning: pass provisioningRepository and omit protonServiceRoleArn and environmentAccountConnectionId`);
    }
    const connection = input.environmentAccountConnectionId === undefined
      ? undefined : usableConnection(ctx, input.environmentAccountConnectionId, input.name);
    if (connection && environment.environmentAccountId !== undefined && connection.environmentAccountId !== environment.environmentAccountId) {
      throw validation(`environmentAccountConnectionId ${connection.id} is for account ${connection.environmentAccountId}, but environment `
        + `'${input.name}' is provisioned in account ${environment.environmentAccountId}: you can only switch to a connection of the same account`);
    }
    const provisioningRepository = input.provisioningRepository && registeredRepository(ctx, input.provisioningRepository);
    if (connection) {
      environment.environmentAccountConnectionId = connection.id;
      environment.environmentAccountId = connection.environmentAccountId;
      environment.protonServiceRoleArn = undefined;
    }
    if (input.protonServiceRoleArn !== undefined) {
      environment.protonServiceRoleArn = input.protonServiceRoleArn;
      environment.environmentAccountConnectionId = undefined;
    }
    environment.provisioningRepository = provisioningRepository ?? environment.provisioningRepository;
    environment.description = input.description ?? environment.description;
    environment.componentRoleArn = input.componentRoleArn ?? environment.componentRoleArn;
    environment.codebuildRoleArn = input.codebuildRoleArn ?? environment.codebuildRoleArn;
    environment.modified = true;
    environment.lastModifiedAt = ctx.clock.now();
    if (deployment) {
      startDeployment(ctx, environmentTarget(environment), {
        templateMajorVersion: resolved.version.majorVersion,
        templateMinorVersion: resolved.version.minorVersion,
        spec: deployment.spec,
      }, deploymentPlan(ctx, resolved, environment.name, deployment.inputs));
    }
    return { environment: environmentOutput(environment) };
  },

  DeleteEnvironment(ctx, input: { name: string }) {
    const environment = ctx.state.environments[input.name] as EnvironmentRecord | undefined;
    if (!environment) {
      return {};
    }
    if (environment.deploymentStatus === 'DELETE_IN_PROGRESS') {
      return { environment: environmentOutput(environment) };
    }
    if (environment.deploymentStatus === 'IN_PROGRESS' || environment.deploymentStatus === 'CANCELLING') {
      throw conflict(`environment '${input.name}' can't be deleted while its deployment status is ${environment.deploymentStatus}`);
    }
    const users = environmentUsers(ctx.state, input.name);
    if (users.length) {
      throw conflict(`environment '${input.name}' can't be deleted while it is in use by ${users.join(', ')}`);
    }
    environment.modified = true;
    startDeletion(ctx, environmentTarget(environment));
    return { environment: environmentOutput(environment) };
  },

  CancelEnvironmentDeployment(ctx, input: { environmentName: string }) {
    const environment = environmentOf(ctx.state, input.environmentName);
    cancelDeployment(ctx, environment, `environment '${input.environmentName}'`);
    return { environment: environmentOutput(environment) };
  },

  ListEnvironmentOutputs(ctx, input: { environmentName: string; deploymentId?: string }) {
    const environment = environmentOf(ctx.state, input.environmentName);
    return { outputs: outputsFor(ctx, environment, input.deploymentId) };
  },

  ListEnvironmentProvisionedResources(ctx, input: { environmentName: string }) {
    const environment = environmentOf(ctx.state, input.environmentName);
    return { provisionedResources: provisionedResourcesOf(environment, environment.name, engineOf(environment)) };
  },
};

/** The environment that uses a template version, if any. */
export function environmentOnVersion(state: EmulatorState, templateName: string, major: string, minor: string): string | undefined {
  const environment = (Object.values(state.environments) as EnvironmentRecord[]).find(e =>
    e.templateName === templateName && e.templateMajorVersion === major && e.templateMinorVersion === minor);
  return environment && `environment '${environment.name}'`;
}
