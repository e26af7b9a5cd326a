import { ArnFormat, CustomResource, IResource, ITaggable, Lazy, RemovalPolicy, Resource, Stack, TagManager, TagType, Token, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IEnvironment } from './environment';
import { Provisioning } from './environment-template';
import { checkOutputKey } from './private/output-check';
import { OutputAttributes, ResourceTypes, ServiceProperties } from './private/properties';
import { addInstanceStack, addPipelineStack, ProtonFreeStack } from './private/proton-free';
import { ProtonProvider } from './private/provider';
import { TemplateSchema } from './private/schema';
import { renderServiceSpec, SpecInputs } from './private/spec';
import { SupersededVersions } from './private/superseded-versions';
import { dependOnTemplateVersion, TEMPLATE_VERSION_READ_AND_COLLECT, templateVersionSelector } from './private/template';
import {
  checkDescription, checkResourceName, checkSpecSize, claimName, definedProperties, generateResourceName, OutputKeys, renderTags, validateSpecInputs,
  orderPipelinesAfterAccountSettings,
} from './private/workload';
import { ProtonMode } from './proton-mode';
import { IServiceTemplateVersion } from './service-template-version';
import { TemplateBundle } from './template-bundle';

/**
 * A Proton service.
 */
export interface IService extends IResource {
  /**
   * The service's name.
   *
   * @attribute
   */
  readonly serviceName: string;

  /**
   * The service's ARN.
   *
   * @attribute
   */
  readonly serviceArn: string;

  /**
   * The template version the service is deployed with, when this app defines it.
   *
   * @default - unknown: the service is imported without it
   */
  readonly templateVersion?: IServiceTemplateVersion;

  /**
   * Lets the grantee read the service: its details, and its instances' and pipeline's outputs and provisioned resources.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/**
 * Attributes of a service defined outside this stack.
 */
export interface ServiceAttributes {
  /**
   * The service's name.
   */
  readonly serviceName: string;

  /**
   * The template version the service runs, when this app defines it.
   *
   * @default - unknown
   */
  readonly templateVersion?: IServiceTemplateVersion;
}

/**
 * One instance of a service: the service template's instance infrastructure, deployed into an environment.
 */
export interface ServiceInstanceOptions {
  /**
   * The instance's name, unique within the service.
   */
  readonly instanceName: string;

  /**
   * The environment the instance is deployed into. Its environment template and major version must be among the
   * service template version's compatible environment templates.
   */
  readonly environment: IEnvironment;

  /**
   * The instance's inputs (`spec:` of the instance in `proton: ServiceSpec`), validated against the template
   * version's schema when the app defines its bundle. Values may be tokens.
   *
   * @default - no inputs: the schema's defaults
   */
  readonly spec?: { [key: string]: any };

  /**
   * Proton-free mode (`cdk-proton:mode` = `cloudformation`): the name of the CloudFormation stack the instance is
   * deployed as. Give the name of the stack Proton provisioned for the instance (the `name` that
   * `aws proton list-service-instance-provisioned-resources` lists) to take it over in place. Ignored in Proton mode.
   *
   * @default - `ServiceInstance-<serviceName>-<instanceName>`
   */
  readonly cloudFormationStackName?: string;
}

/**
 * The source code repository a service pipeline builds from.
 */
export interface ServiceRepository {
  /** The ARN of the CodeStar (CodeConnections) connection to the repository's provider. */
  readonly connectionArn: string;
  /** The repository's ID at its provider, for example `owner/repository`. */
  readonly repositoryId: string;
  /** The branch the pipeline builds. */
  readonly branchName: string;
}

/**
 * Properties of a service.
 */
export interface ServiceProps {
  /**
   * The service's name.
   *
   * @default - a valid name, unique in the app, derived from the construct path
   */
  readonly serviceName?: string;

  /**
   * The service template version every instance and the pipeline are deployed with.
   */
  readonly templateVersion: IServiceTemplateVersion;

  /**
   * The service's instances; at least one.
   */
  readonly instances: ServiceInstanceOptions[];

  /**
   * The pipeline's inputs (`pipeline:` of `proton: ServiceSpec`). Required when the service template has a pipeline,
   * and not allowed otherwise. Values may be tokens.
   *
   * @default - no pipeline
   */
  readonly pipelineSpec?: { [key: string]: any };

  /**
   * The repository the pipeline builds from. Required with `pipelineSpec`, not allowed without it.
   *
   * @default - no pipeline
   */
  readonly repository?: ServiceRepository;

  /**
   * The service's description.
   *
   * @default - none
   */
  readonly description?: string;

  /**
   * Whether a service of this name that already exists in Proton, and that no stack manages, is taken over by this
   * stack (its instances, specs and version are then brought to this definition). Without it, such a service fails the
   * deployment: two stacks must never silently manage one service.
   *
   * @default false
   */
  readonly adoptExisting?: boolean;

  /**
   * What happens to the service (its instances and pipeline) when it leaves the stack.
   *
   * @default - RemovalPolicy.RETAIN for an adopted service (`adoptExisting`), RemovalPolicy.DESTROY otherwise
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Proton-free mode (`cdk-proton:mode` = `cloudformation`): the name of the CloudFormation stack the pipeline is
   * deployed as (the `name` that `aws proton list-service-pipeline-provisioned-resources` lists, to take it over in
   * place). Ignored in Proton mode and without a pipeline.
   *
   * @default - `ServicePipeline-<serviceName>`
   */
  readonly pipelineCloudFormationStackName?: string;
}

abstract class ServiceBase extends Resource implements IService {
  public abstract readonly serviceName: string;
  public abstract readonly serviceArn: string;
  public abstract readonly templateVersion?: IServiceTemplateVersion;

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'proton:GetService', 'proton:GetServiceInstance', 'proton:ListServiceInstanceOutputs', 'proton:ListServiceInstanceProvisionedResources',
        'proton:ListServicePipelineOutputs', 'proton:ListServicePipelineProvisionedResources',
      ],
      // The service, and its instances and pipeline (`<service>/service-instance/<name>`, `<service>/pipeline`).
      resourceArns: [this.serviceArn, `${this.serviceArn}/*`],
    });
  }
}

/**
 * Defines a Proton service: its instances, each in an environment, and its pipeline when the template has one.
 *
 * CloudFormation waits for the service, every instance and the pipeline to deploy. Adding or removing instances
 * updates the service; a changed instance spec, pipeline spec or template version redeploys just what changed.
 *
 * @resource Custom::ProtonService
 */
export class Service extends ServiceBase implements ITaggable {
  /**
   * Imports a service by name.
   */
  public static fromServiceName(scope: Construct, id: string, serviceName: string): IService {
    return Service.fromServiceAttributes(scope, id, { serviceName });
  }

  /**
   * Imports a service by name, with the template version it runs when the app defines it.
   */
  public static fromServiceAttributes(scope: Construct, id: string, attrs: ServiceAttributes): IService {
    class Import extends ServiceBase {
      public readonly serviceName = attrs.serviceName;
      public readonly serviceArn = serviceArn(this, attrs.serviceName);
      public readonly templateVersion = attrs.templateVersion;
    }
    const imported = new Import(scope, id);
    checkResourceName(imported, 'serviceName', attrs.serviceName);
    return imported;
  }

  public readonly serviceName: string;
  public readonly serviceArn: string;
  /** The template version the service is deployed with (optional only because IService's is). */
  public readonly templateVersion?: IServiceTemplateVersion;

  /** Tags applied to the Proton service. */
  public readonly tags: TagManager;

  private readonly resource?: CustomResource;
  private readonly outputKeys = new OutputKeys();
  /** Proton-free mode: what the instance and pipeline stacks are built from, and the stacks. */
  private readonly protonFree?: {
    readonly props: ServiceProps;
    readonly name: string;
    readonly instances: Array<{ name: string; environment: IEnvironment; inputs: SpecInputs; stack: ProtonFreeStack }>;
    pipeline?: ProtonFreeStack;
  };
  private readonly instanceNames: string[];
  private readonly instances: Array<{ name: string; environment: string; spec: SpecInputs }>;
  private readonly version: IServiceTemplateVersion;
  private readonly schema?: TemplateSchema;
  private readonly pipelineSpec?: SpecInputs;
  private readonly hasPipeline: boolean;
  /** The template version's bundle, when the app defines it: output keys are checked against it. */
  private readonly bundle?: TemplateBundle;
  private readonly instanceEnvironments: Map<string, IEnvironment>;

  constructor(scope: Construct, id: string, props: ServiceProps) {
    super(scope, id);
    const name = props.serviceName ?? generateResourceName(this);
    checkResourceName(this, 'serviceName', name);
    checkDescription(this, props.description);
    this.tags = new TagManager(TagType.KEY_VALUE, ResourceTypes.SERVICE);
    this.templateVersion = props.templateVersion;
    this.version = props.templateVersion;
    this.instanceEnvironments = new Map(props.instances.map(instance => [instance.instanceName, instance.environment]));

    this.bundle = props.templateVersion.bundle;
    const schema = props.templateVersion.bundle?._schema;
    this.schema = schema;
    if (schema && !schema.serviceInputType) {
      throw new Error(`${this.node.path}: templateVersion's bundle declares no service_input_type: it is not a service template`);
    }
    if (props.instances.length === 0) {
      throw new Error(`${this.node.path}: instances is empty; a service needs at least one instance`);
    }
    this.hasPipeline = checkPipeline(this, props, schema);
    let pipelineSpec: SpecInputs | undefined = props.pipelineSpec;
    if (schema?.pipelineInputType && pipelineSpec) {
      pipelineSpec = validateSpecInputs(this, 'pipelineSpec', schema, schema.pipelineInputType, pipelineSpec);
    }
    this.pipelineSpec = pipelineSpec;
    this.instanceNames = [];
    this.instances = [];
    if (ProtonMode.isProtonFree(this)) {
      // The same definition and validation; each instance and the pipeline are deployed as stacks (no Proton resource).
      this.protonFree = { props, name, instances: [] };
      props.instances.forEach((instance, i) => this.pushInstance(instance, `instances[${i}]`));
      if (!Token.isUnresolved(name)) claimName(this, 'service', name, 'serviceName');
      this.protonFree.pipeline = this.pipelineStack();
      this.serviceName = name;
      this.serviceArn = serviceArn(this, name);
      return;
    }
    props.instances.forEach((instance, i) => this.pushInstance(instance, `instances[${i}]`));
    if (!Token.isUnresolved(name)) claimName(this, 'service', name, 'serviceName');
    const selector = templateVersionSelector(props.templateVersion);
    const stack = Stack.of(this);
    const provider = ProtonProvider.of(this);
    this.resource = provider.customResource(this, 'Resource', {
      resourceType: ResourceTypes.SERVICE,
      removalPolicy: props.removalPolicy ?? (props.adoptExisting ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY),
      properties: definedProperties({
        [ServiceProperties.SERVICE_NAME]: name,
        [ServiceProperties.TEMPLATE_NAME]: props.templateVersion.template.serviceTemplateName,
        [ServiceProperties.TEMPLATE_MAJOR_VERSION]: selector.majorVersion,
        [ServiceProperties.TEMPLATE_MINOR_VERSION]: selector.minorVersion,
        [ServiceProperties.TEMPLATE_BUNDLE_HASH]: selector.bundleHash,
        [ServiceProperties.ADOPT_EXISTING]: props.adoptExisting ? 'true' : undefined,
        // Lazy: addInstance may add instances until synth.
        [ServiceProperties.INSTANCES]: Lazy.string({ produce: () => stack.toJsonString(this.instances) }),
        [ServiceProperties.PIPELINE_SPEC]: pipelineSpec ? stack.toJsonString(pipelineSpec) : undefined,
        [ServiceProperties.REPOSITORY_CONNECTION_ARN]: props.repository?.connectionArn,
        [ServiceProperties.REPOSITORY_ID]: props.repository?.repositoryId,
        [ServiceProperties.BRANCH_NAME]: props.repository?.branchName,
        [ServiceProperties.DESCRIPTION]: props.description,
        [ServiceProperties.TAGS]: Lazy.string({ produce: () => renderTags(this, this.tags) }),
        [ServiceProperties.OUTPUT_KEYS]: Lazy.string({ produce: () => this.outputKeys.render() }),
      }),
    });
    if (this.hasPipeline) {
      orderPipelinesAfterAccountSettings(this, 'pipelineService');
    }
    // The physical id is the name.
    this.serviceName = this.resource.ref;
    this.serviceArn = serviceArn(this, this.serviceName);

    dependOnTemplateVersion(this.resource, selector);
    SupersededVersions.track(this.resource, 'service', props.templateVersion.template.serviceTemplateName, selector);
    provider.grantOn('service', name, [
      'proton:CreateService', 'proton:GetService', 'proton:UpdateService', 'proton:DeleteService',
      'proton:UpdateServicePipeline', 'proton:CancelServicePipelineDeployment', 'proton:ListServicePipelineOutputs',
      'proton:CreateServiceInstance', 'proton:GetServiceInstance', 'proton:UpdateServiceInstance', 'proton:CancelServiceInstanceDeployment',
      'proton:ListServiceInstanceOutputs',
      'proton:TagResource', 'proton:UntagResource', 'proton:ListTagsForResource',
    ]);
    // Resolving the version by its bundle, and deleting superseded versions the service no longer runs on.
    provider.grantOn('service-template', props.templateVersion.template.serviceTemplateName, TEMPLATE_VERSION_READ_AND_COLLECT('Service'));
    if (props.repository) {
      // CreateService hands the connection to Proton's pipeline.
      provider.addToRolePolicy(new iam.PolicyStatement({
        actions: ['codestar-connections:PassConnection', 'codeconnections:PassConnection'],
        resources: [props.repository.connectionArn],
      }));
    }
  }

  /**
   * Adds an instance to the service (before synth), checked as the instances given to the constructor are: a unique
   * literal name, an environment whose template version is compatible, a spec that matches the schema.
   */
  public addInstance(instance: ServiceInstanceOptions): void {
    this.pushInstance(instance, `addInstance("${instance.instanceName}")`);
  }

  /** Validates one instance and adds it; `where` names it in messages (`instances[2]`, `addInstance("eu")`). */
  private pushInstance(instance: ServiceInstanceOptions, where: string): void {
    const name = checkInstance(this, this.version, instance, where, this.instanceNames);
    const schema = this.schema;
    const spec = schema ? validateSpecInputs(this, `${where}.spec`, schema, schema.serviceInputType!, instance.spec) : instance.spec ?? {};
    const instances = [...this.instances, { name, environment: instance.environment.environmentName, spec }];
    checkSpecSize(this, 'instances and pipelineSpec', () => renderServiceSpec({ pipeline: this.pipelineSpec, instances }));
    this.instanceNames.push(name);
    this.instances.push(instances[instances.length - 1]);
    const free = this.protonFree;
    if (free) {
      const stack = addInstanceStack(this, where, {
        bundle: this.bundle,
        serviceName: free.name,
        instanceName: name,
        environment: instance.environment,
        inputs: spec,
        repository: repositoryParameters(free.props.repository),
        stackName: instance.cloudFormationStackName,
        tags: this.tags,
      });
      free.instances.push({ name, environment: instance.environment, inputs: spec, stack });
      // The pipeline renders every instance: rebuilt when one is added after the constructor.
      if (free.pipeline) free.pipeline = this.pipelineStack();
    }
  }

  /** Proton-free mode: the pipeline's stack, when the service has a pipeline. */
  private pipelineStack(): ProtonFreeStack | undefined {
    const free = this.protonFree!;
    if (!this.hasPipeline) return undefined;
    return addPipelineStack(this, {
      bundle: this.bundle,
      serviceName: free.name,
      inputs: this.pipelineSpec ?? {},
      repository: repositoryParameters(free.props.repository),
      instances: free.instances,
      stackName: free.props.pipelineCloudFormationStackName,
      tags: this.tags,
    });
  }

  /**
   * Proton-free mode: the CloudFormation stack of one instance.
   *
   * @throws in Proton mode, or when the service has no such instance
   */
  public instanceCloudFormationStack(instanceName: string): Stack {
    const instance = this.protonFree?.instances.find(i => i.name === instanceName);
    if (!instance) {
      throw new Error(`${this.node.path}: instanceCloudFormationStack("${instanceName}"): `
        + (this.protonFree ? `no such instance (instances: ${this.instanceNames.join(', ')})` : 'the app is in Proton mode: instances have no stack of their own'));
    }
    return instance.stack.stack;
  }

  /**
   * Proton-free mode: the CloudFormation stack of the pipeline.
   *
   * @throws in Proton mode, or when the service has no pipeline
   */
  public pipelineCloudFormationStack(): Stack {
    if (!this.protonFree?.pipeline) {
      throw new Error(`${this.node.path}: pipelineCloudFormationStack: ${this.protonFree ? 'the service has no pipeline' : 'the app is in Proton mode'}`);
    }
    return this.protonFree.pipeline.stack;
  }

  /**
   * An output of one instance's infrastructure (a token resolved at deploy time).
   *
   * The outputs read through `getInstanceOutput` and `getPipelineOutput` are returned to CloudFormation, whose response
   * is limited to 4 KB: the deployment fails, naming them, if they do not fit.
   *
   * @param instanceName one of the service's instances
   * @param key the output's name in the instance infrastructure template
   * @throws when the template version's bundle is known and its instance infrastructure declares no such output
   */
  public getInstanceOutput(instanceName: string, key: string): string {
    if (!this.instanceNames.includes(instanceName)) {
      throw new Error(`${this.node.path}: getInstanceOutput: "${instanceName}" is not an instance of this service (instances: ${this.instanceNames.join(', ')})`);
    }
    if (this.protonFree) {
      const stack = this.instanceCloudFormationStack(instanceName);
      return Token.asString(this.protonFree.instances.find(i => i.stack.stack === stack)!.stack.output(key, this, 'getInstanceOutput').value);
    }
    const attribute = this.outputKeys.add(this, key, OutputAttributes.instance(instanceName));
    checkOutputKey(this, this.bundle, 'SERVICE_INSTANCE', key, 'getInstanceOutput');
    return this.resource!.getAttString(attribute);
  }

  /**
   * The environment of one of the service's instances; undefined for a name that is not one of its instances.
   *
   * @internal
   */
  public _instanceEnvironment(instanceName: string): IEnvironment | undefined {
    return this.instanceEnvironments.get(instanceName);
  }

  /**
   * An output of the pipeline's infrastructure (a token resolved at deploy time).
   *
   * @param key the output's name in the pipeline infrastructure template
   * @throws when the template version's bundle is known and its pipeline infrastructure declares no such output
   */
  public getPipelineOutput(key: string): string {
    if (!this.hasPipeline) {
      throw new Error(`${this.node.path}: getPipelineOutput: the service has no pipeline`);
    }
    if (this.protonFree) {
      return Token.asString(this.protonFree.pipeline!.output(key, this, 'getPipelineOutput').value);
    }
    const attribute = this.outputKeys.add(this, key, OutputAttributes.PIPELINE);
    checkOutputKey(this, this.bundle, 'SERVICE_PIPELINE', key, 'getPipelineOutput');
    return this.resource!.getAttString(attribute);
  }
}

function repositoryParameters(repository: ServiceRepository | undefined) {
  return repository
    ? { repositoryId: repository.repositoryId, branchName: repository.branchName, repositoryConnectionArn: repository.connectionArn }
    : undefined;
}

function serviceArn(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({ service: 'proton', resource: 'service', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}

/** Checks an instance's name (unique among `names`) and its environment's compatibility; returns the name. */
function checkInstance(scope: Construct, version: IServiceTemplateVersion, instance: ServiceInstanceOptions, where: string, names: string[]): string {
  const path = scope.node.path;
  const name = instance.instanceName;
  checkResourceName(scope, `${where}.instanceName`, name);
  if (Token.isUnresolved(name)) {
    throw new Error(`${path}: ${where}.instanceName must be a literal string, not a token`);
  }
  if (names.includes(name)) {
    throw new Error(`${path}: ${where}.instanceName "${name}" is used by another instance; instance names must be unique in a service`);
  }
  checkCompatible(scope, version, instance, where);
  return name;
}

/** When both versions are known at synth, the instance's environment template and major must be compatible. */
function checkCompatible(scope: Construct, version: IServiceTemplateVersion, instance: ServiceInstanceOptions, where: string): void {
  const environmentVersion = instance.environment.templateVersion;
  const compatible = version.compatibleEnvironmentTemplates;
  if (!environmentVersion) return;
  const template = environmentVersion.template;
  const major = environmentVersion.majorVersion;
  if (Token.isUnresolved(major)) return;
  const sameTemplate = (other: typeof template) => other === template
    || (!Token.isUnresolved(other.environmentTemplateName) && other.environmentTemplateName === template.environmentTemplateName);
  if (compatible.some(c => sameTemplate(c.template) && c.majorVersion === major)) return;
  if (compatible.some(c => Token.isUnresolved(c.majorVersion))) return;
  const allowed = compatible.map(c => `${describeTemplate(c.template)}:${c.majorVersion}`).join(', ');
  throw new Error(`${scope.node.path}: ${where} ("${instance.instanceName}") is in environment ${instance.environment.node.path}, `
    + `whose template ${describeTemplate(template)}:${major} is not compatible with the service template version (compatible: ${allowed})`);
}

function describeTemplate(template: { readonly environmentTemplateName: string; readonly node: { readonly path: string } }): string {
  return Token.isUnresolved(template.environmentTemplateName) ? template.node.path : template.environmentTemplateName;
}

/** Pipeline spec and repository come together, and only when the template has a pipeline; returns whether it does. */
function checkPipeline(scope: Construct, props: ServiceProps, schema: TemplateSchema | undefined): boolean {
  const path = scope.node.path;
  const given = props.pipelineSpec !== undefined;
  if (props.templateVersion.template.pipelineProvisioning === Provisioning.CUSTOMER_MANAGED && given) {
    throw new Error(`${path}: pipelineSpec is given, but the service template's pipeline is CUSTOMER_MANAGED: Proton runs no pipeline for it`);
  }
  if (schema) {
    const pipelineType = schema.pipelineInputType;
    if (pipelineType && !given) {
      throw new Error(`${path}: the service template has a pipeline (pipeline_input_type ${pipelineType}): give pipelineSpec `
        + '({} for the schema\'s defaults) and repository');
    }
    if (!pipelineType && given) {
      throw new Error(`${path}: pipelineSpec is given, but the service template has no pipeline (its schema declares no pipeline_input_type)`);
    }
  }
  if (given && !props.repository) {
    throw new Error(`${path}: pipelineSpec needs repository (connectionArn, repositoryId, branchName): the pipeline builds from it`);
  }
  if (!given && props.repository) {
    throw new Error(`${path}: repository is given without pipelineSpec; a repository is only for a service template with a pipeline`);
  }
  if (props.repository) checkRepository(path, props.repository);
  return given;
}

// Proton's Arn shape (API reference, CreateService.repositoryConnectionArn), RepositoryId and GitBranchName limits.
const ARN = /^arn:(aws|aws-cn|aws-us-gov):[a-zA-Z0-9-]+:[a-zA-Z0-9-]*:\d{12}:([\w+=,.@-]+[/:])*[\w+=,.@-]+$/;
const REPOSITORY_ID = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

function checkRepository(path: string, repository: ServiceRepository): void {
  const { connectionArn, repositoryId, branchName } = repository;
  if (!Token.isUnresolved(connectionArn) && (!ARN.test(connectionArn) || connectionArn.length > 200)) {
    throw new Error(`${path}: repository.connectionArn "${connectionArn}" is not an ARN (arn:<partition>:<service>:<region>:<account>:<resource>, `
      + 'at most 200 characters): give the CodeStar connection\'s ARN');
  }
  if (!Token.isUnresolved(repositoryId) && (!REPOSITORY_ID.test(repositoryId) || repositoryId.length > 200)) {
    throw new Error(`${path}: repository.repositoryId "${repositoryId}" must be "owner/repository" (at most 200 characters)`);
  }
  if (!Token.isUnresolved(branchName) && (branchName.length < 1 || branchName.length > 200)) {
    throw new Error(`${path}: repository.branchName "${branchName}" must be 1 to 200 characters long`);
  }
}
