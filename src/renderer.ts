import { EnvironmentParameters, renderBundle, RenderRequest, Rendering, ServiceParameters } from './render/render';
import { TemplateBundle } from './template-bundle';

/**
 * An IaC file rendered as Proton renders it before provisioning.
 */
export interface RenderedTemplate {
  /** The rendered file's path in the bundle (`infrastructure/cloudformation.yaml`); the infrastructure folder for Terraform. */
  readonly file: string;

  /** The IaC language: `cloudformation`, `terraform` or `codebuild`. */
  readonly language: string;

  /**
   * The rendered CloudFormation template. For Terraform, the parameter values Proton generates for the `.tf` files
   * (JSON: the namespaces with their inputs); empty for CodeBuild provisioning.
   */
  readonly body: string;

  /**
   * The rendered CloudFormation template, parsed (short-form functions such as `!Ref` in their long form, `{"Ref": ...}`).
   *
   * @default - none: Terraform and CodeBuild bundles are not rendered to a CloudFormation template
   */
  readonly template?: { [key: string]: any };

  /** The output keys the IaC declares (CloudFormation `Outputs:`, Terraform `output` blocks), in file order. */
  readonly outputs: string[];

  /**
   * Each output's value as far as it is known without deploying: literals, inputs and parameter defaults as they are;
   * for what only AWS knows (a resource's id or ARN) a stable placeholder derived from the names.
   */
  readonly outputValues: { [key: string]: string };
}

/**
 * An environment as a service instance or pipeline file sees it.
 */
export interface RenderEnvironmentReference {
  /** The environment's name (`environment.name`). */
  readonly name: string;

  /**
   * The account the environment is provisioned in (`service_instance.environment.account_id`).
   *
   * @default - not available: a file that reads it fails to render
   */
  readonly accountId?: string;

  /**
   * The environment's outputs (`environment.outputs.X`).
   *
   * @default - each output the file reads renders as the placeholder `<environment.outputs.X>`
   */
  readonly outputs?: { [key: string]: string };
}

/**
 * A service's source repository (`service.repository_id`, `service.branch_name`, `service.repository_connection_arn`).
 */
export interface RenderRepositoryParameters {
  /** The repository's ID, `owner/name`. */
  readonly repositoryId: string;
  /** The branch the service's code is on. */
  readonly branchName: string;
  /** The ARN of the CodeStar connection to the repository. */
  readonly repositoryConnectionArn: string;
}

/**
 * What an environment's infrastructure is rendered with.
 */
export interface RenderEnvironmentProps {
  /** An environment template's bundle. */
  readonly bundle: TemplateBundle;

  /** The environment's name (`environment.name`). */
  readonly environmentName: string;

  /**
   * The spec's inputs (`environment.inputs.X`); the schema's defaults are applied.
   *
   * @default {}
   */
  readonly inputs?: { [key: string]: any };

  /**
   * Accept inputs the schema does not declare.
   *
   * @default false
   */
  readonly allowUnknownInputs?: boolean;
}

/**
 * What one service instance's infrastructure is rendered with.
 */
export interface RenderServiceInstanceProps {
  /** A service template's bundle. */
  readonly bundle: TemplateBundle;

  /** The service's name (`service.name`). */
  readonly serviceName: string;

  /** The instance's name (`service_instance.name`). */
  readonly instanceName: string;

  /** The environment the instance is deployed to. */
  readonly environment: RenderEnvironmentReference;

  /**
   * The instance's spec inputs (`service_instance.inputs.X`); the schema's defaults are applied.
   *
   * @default {}
   */
  readonly inputs?: { [key: string]: any };

  /**
   * The outputs of the component attached to the instance (`service_instance.components.default.outputs.X`).
   *
   * @default - no component is attached
   */
  readonly componentOutputs?: { [key: string]: string };

  /**
   * The service's source repository.
   *
   * @default - the service has none (no pipeline): a file that reads it fails to render
   */
  readonly repository?: RenderRepositoryParameters;

  /**
   * Accept inputs the schema does not declare.
   *
   * @default false
   */
  readonly allowUnknownInputs?: boolean;
}

/**
 * One instance of the service, as the pipeline file sees it (`{% for service_instance in service_instances %}`).
 */
export interface RenderPipelineInstance {
  /** The instance's name. */
  readonly name: string;

  /** The environment the instance is deployed to. */
  readonly environment: RenderEnvironmentReference;

  /**
   * The instance's spec inputs; the schema's defaults are applied.
   *
   * @default {}
   */
  readonly inputs?: { [key: string]: any };

  /**
   * The instance's outputs (`service_instance.outputs.X`), which pipeline files may read.
   *
   * @default - each output the file reads renders as the placeholder `<service_instance.outputs.X>`
   */
  readonly outputs?: { [key: string]: string };
}

/**
 * What a service pipeline's infrastructure is rendered with.
 */
export interface RenderPipelineProps {
  /** A service template's bundle, with a pipeline. */
  readonly bundle: TemplateBundle;

  /** The service's name (`service.name`). */
  readonly serviceName: string;

  /**
   * The spec's pipeline inputs (`pipeline.inputs.X`); the schema's defaults are applied.
   *
   * @default {}
   */
  readonly inputs?: { [key: string]: any };

  /** The service's instances (`service_instances`). */
  readonly instances: RenderPipelineInstance[];

  /**
   * The service's source repository.
   *
   * @default - none: a file that reads it fails to render
   */
  readonly repository?: RenderRepositoryParameters;

  /**
   * Accept inputs the schema does not declare.
   *
   * @default false
   */
  readonly allowUnknownInputs?: boolean;
}

/**
 * Renders a template bundle's infrastructure as Proton does before provisioning, without AWS: the spec's inputs are
 * validated against the schema (defaults applied), the IaC file is rendered with Jinja using Proton's parameter
 * namespace (`environment.inputs.X`, `service_instance.inputs.X`, `environment.outputs.X`, `pipeline.inputs.X`...)
 * and Proton's parameter filters, and the result is parsed as CloudFormation.
 *
 * Use it to unit-test a bundle, or to read the outputs its templates declare.
 *
 * @example
 * import { ProtonRenderer, TemplateBundle } from 'cdk-proton';
 *
 * const rendered = ProtonRenderer.renderEnvironment({
 *   bundle: TemplateBundle.fromDirectory('templates/fargate-env'),
 *   environmentName: 'prod',
 *   inputs: { vpc_cidr: '10.0.0.0/16' },
 * });
 * // rendered.outputs: ['Cluster', 'VPC', ...]
 */
export class ProtonRenderer {
  /**
   * Renders an environment template's `infrastructure/` IaC.
   *
   * @throws when the inputs do not match the schema, or the file does not render or parse; the message names the
   * file, the line and the problem
   */
  public static renderEnvironment(props: RenderEnvironmentProps): RenderedTemplate {
    return render(props.bundle, {
      kind: 'ENVIRONMENT',
      environment: { name: props.environmentName, inputs: props.inputs ?? {} },
    }, props.allowUnknownInputs);
  }

  /**
   * Renders a service template's `instance_infrastructure/` IaC for one instance.
   *
   * @throws when the inputs do not match the schema, or the file does not render or parse
   */
  public static renderServiceInstance(props: RenderServiceInstanceProps): RenderedTemplate {
    return render(props.bundle, {
      kind: 'SERVICE_INSTANCE',
      service: serviceParameters(props.serviceName, props.repository),
      instance: {
        name: props.instanceName,
        inputs: props.inputs ?? {},
        environment: environmentParameters(props.environment),
        componentOutputs: props.componentOutputs,
      },
    }, props.allowUnknownInputs);
  }

  /**
   * Renders a service template's `pipeline_infrastructure/` IaC.
   *
   * @throws when the inputs do not match the schema, or the file does not render or parse
   */
  public static renderPipeline(props: RenderPipelineProps): RenderedTemplate {
    return render(props.bundle, {
      kind: 'SERVICE_PIPELINE',
      service: serviceParameters(props.serviceName, props.repository),
      pipelineInputs: props.inputs ?? {},
      instances: props.instances.map(i => ({
        name: i.name, inputs: i.inputs ?? {}, environment: environmentParameters(i.environment), outputs: i.outputs,
      })),
    }, props.allowUnknownInputs);
  }

  private constructor() {}
}

function render(bundle: TemplateBundle, request: RenderRequest, allowUnknownInputs: boolean | undefined): RenderedTemplate {
  let rendering: Rendering;
  try {
    rendering = renderBundle(bundle._files(), bundle._schema, request, { allowUnknownInputs });
  } catch (e) {
    throw new Error(`Template bundle ${bundle.directory}: ${(e as Error).message}`);
  }
  return {
    file: rendering.file,
    language: rendering.language,
    body: rendering.body,
    template: rendering.template,
    outputs: rendering.outputs,
    outputValues: rendering.outputValues,
  };
}

function environmentParameters(environment: RenderEnvironmentReference): EnvironmentParameters {
  return { name: environment.name, accountId: environment.accountId, outputs: environment.outputs };
}

function serviceParameters(name: string, repository: RenderRepositoryParameters | undefined): ServiceParameters {
  return {
    name,
    repositoryId: repository?.repositoryId,
    branchName: repository?.branchName,
    repositoryConnectionArn: repository?.repositoryConnectionArn,
  };
}
