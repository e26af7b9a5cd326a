import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ArnFormat, CustomResource, IResource, ITaggable, Lazy, RemovalPolicy, Resource, Stack, TagManager, TagType, Token, aws_iam as iam,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { parse as parseYaml } from 'yaml';
import { Environment, IEnvironment } from './environment';
import { BundleError, parseYamlFile } from './private/bundle';
import { ComponentProperties, OutputAttributes, ResourceTypes } from './private/properties';
import { ProtonProvider } from './private/provider';
import {
  checkDescription, checkResourceName, claimName, definedProperties, generateResourceName, OutputKeys, renderTags,
} from './private/workload';
import { IService, Service } from './service';
import { ComponentSource, ServiceTemplateVersion } from './service-template-version';

/** Proton's limits on a component's files (API reference, CreateComponent: TemplateManifestContents, TemplateFileContents). */
const MANIFEST_MAX_LENGTH = 1024;
const TEMPLATE_FILE_MAX_LENGTH = 51_200;
/** SpecContents (CreateComponent.serviceSpec). */
const SERVICE_SPEC_MAX_LENGTH = 51_200;
const MANIFEST_FILE = 'manifest.yaml';

/**
 * The infrastructure of a directly defined component: its manifest and its CloudFormation template (Jinja-rendered by
 * Proton), as in AWS's `component-templates/s3-bucket-component` sample. Both are checked when a Component uses them.
 */
export class ComponentBundle {
  /**
   * Reads a component from a folder: `manifest.yaml` and the template file it names.
   *
   * @param directory the folder holding `manifest.yaml`
   * @throws when the folder, the manifest or the template file it names can't be read
   */
  public static fromDirectory(directory: string): ComponentBundle {
    const root = resolve(directory);
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      throw new Error(`ComponentBundle.fromDirectory: "${directory}" is not a folder`);
    }
    const manifestPath = join(root, MANIFEST_FILE);
    if (!existsSync(manifestPath)) {
      throw new Error(`ComponentBundle.fromDirectory: ${manifestPath} is missing (a component folder holds ${MANIFEST_FILE} and the template it names)`);
    }
    const manifest = readFileSync(manifestPath, 'utf8');
    let file: unknown;
    try {
      file = parseYaml(manifest)?.infrastructure?.templates?.[0]?.file;
    } catch (error) {
      throw new Error(`ComponentBundle.fromDirectory: ${manifestPath} is not valid YAML: ${(error as Error).message}`);
    }
    if (typeof file !== 'string' || file === '' || file.includes('/') || file === '*') {
      throw new Error(`ComponentBundle.fromDirectory: ${manifestPath}: infrastructure.templates[0].file must name the CloudFormation `
        + `template file next to it, got ${JSON.stringify(file)}`);
    }
    const templatePath = join(root, file);
    if (!existsSync(templatePath)) {
      throw new Error(`ComponentBundle.fromDirectory: ${templatePath} is missing (${manifestPath} names it)`);
    }
    return new ComponentBundle(manifest, readFileSync(templatePath, 'utf8'), file, root);
  }

  /**
   * A component from its contents.
   *
   * @param manifest the manifest (YAML) listing one CloudFormation template with rendering_engine jinja
   * @param templateFile the CloudFormation template (YAML, may use Jinja)
   */
  public static fromContents(manifest: string, templateFile: string): ComponentBundle {
    return new ComponentBundle(manifest, templateFile, 'templateFile', undefined);
  }

  /** The manifest's contents. */
  public readonly manifest: string;
  /** The CloudFormation template's contents. */
  public readonly templateFile: string;
  /**
   * The folder the bundle was read from.
   *
   * @default - none: the bundle was given as contents
   */
  public readonly directory?: string;
  /** The template file's name, for messages. */
  private readonly templateFileName: string;

  private constructor(manifest: string, templateFile: string, templateFileName: string, directory: string | undefined) {
    this.manifest = manifest;
    this.templateFile = templateFile;
    this.templateFileName = templateFileName;
    this.directory = directory;
  }

  /**
   * Checks the bundle as Proton does: sizes, valid YAML, one CloudFormation template rendered with Jinja.
   *
   * @internal
   */
  public _check(scope: Construct): void {
    const fail = (problem: string): never => {
      throw new Error(`${scope.node.path}: bundle${this.directory ? ` (${this.directory})` : ''}: ${problem}`);
    };
    if (this.manifest.length < 1 || this.manifest.length > MANIFEST_MAX_LENGTH) {
      fail(`manifest is ${this.manifest.length} characters long; Proton accepts 1 to ${MANIFEST_MAX_LENGTH}`);
    }
    if (this.templateFile.length < 1 || this.templateFile.length > TEMPLATE_FILE_MAX_LENGTH) {
      fail(`${this.templateFileName} is ${this.templateFile.length} characters long; Proton accepts 1 to ${TEMPLATE_FILE_MAX_LENGTH}`);
    }
    let document: any;
    try {
      document = parseYamlFile({ path: MANIFEST_FILE, content: Buffer.from(this.manifest) }, false);
      parseYamlFile({ path: this.templateFileName, content: Buffer.from(this.templateFile) }, true);
    } catch (error) {
      if (!(error instanceof BundleError)) throw error;
      fail(error.message);
    }
    const templates = document?.infrastructure?.templates;
    if (!Array.isArray(templates) || templates.length !== 1) {
      fail(`${MANIFEST_FILE}: infrastructure.templates lists ${Array.isArray(templates) ? templates.length : 'no'} templates; `
        + 'a component manifest lists exactly one CloudFormation template');
    }
    const [template] = templates;
    if (template?.rendering_engine !== 'jinja') {
      fail(`${MANIFEST_FILE}: infrastructure.templates[0].rendering_engine ${JSON.stringify(template?.rendering_engine)} is not allowed; `
        + 'directly defined components are CloudFormation templates rendered with jinja');
    }
    if (template.template_language !== 'cloudformation') {
      fail(`${MANIFEST_FILE}: infrastructure.templates[0].template_language ${JSON.stringify(template.template_language)} is not allowed; `
        + 'it must be cloudformation');
    }
  }
}

/**
 * A Proton component.
 */
export interface IComponent extends IResource {
  /**
   * The component's name.
   *
   * @attribute
   */
  readonly componentName: string;

  /**
   * The component's ARN.
   *
   * @attribute
   */
  readonly componentArn: string;
}

/**
 * Properties of a directly defined component.
 *
 * A component is attached to a service instance (`service` and `serviceInstanceName`), and then deployed to that
 * instance's environment, or deployed to an environment only (`environment`).
 */
export interface ComponentProps {
  /**
   * The component's name.
   *
   * @default - a valid name, unique in the app, derived from the construct path
   */
  readonly componentName?: string;

  /**
   * The component's manifest and CloudFormation template.
   */
  readonly bundle: ComponentBundle;

  /**
   * The environment the component is deployed to. Required for a component attached to no service instance; for an
   * attached one it must be the instance's environment. The environment needs a `componentRole`.
   *
   * @default - the environment of the service instance
   */
  readonly environment?: IEnvironment;

  /**
   * The service of the instance the component is attached to; give `serviceInstanceName` with it. Its template version
   * must list `ComponentSource.DIRECTLY_DEFINED` in `supportedComponentSources`.
   *
   * @default - not attached to a service instance
   */
  readonly service?: IService;

  /**
   * The instance of `service` the component is attached to.
   *
   * @default - not attached to a service instance
   */
  readonly serviceInstanceName?: string;

  /**
   * The service spec (YAML, as Proton's `serviceSpec`) an attached component reads service inputs from.
   *
   * @default - none
   */
  readonly serviceSpec?: string;

  /**
   * The component's description.
   *
   * @default - none
   */
  readonly description?: string;

  /**
   * Whether a component of this name that already exists in Proton, and that no stack manages, is taken over by this
   * stack. Without it, such a component fails the deployment: two stacks must never silently manage one component.
   *
   * @default false
   */
  readonly adoptExisting?: boolean;

  /**
   * What happens to the component when it leaves the stack (an attached one is detached, then deleted).
   *
   * @default - RemovalPolicy.RETAIN for an adopted component (`adoptExisting`), RemovalPolicy.DESTROY otherwise
   */
  readonly removalPolicy?: RemovalPolicy;
}

abstract class ComponentBase extends Resource implements IComponent {
  public abstract readonly componentName: string;
  public abstract readonly componentArn: string;
}

/**
 * Defines a directly defined Proton component: infrastructure of its own, deployed to an environment, optionally
 * attached to a service instance.
 *
 * CloudFormation waits for each deployment to succeed. A new template file, service spec or attachment redeploys the
 * component; an attached component is detached before it is deleted, as Proton requires.
 *
 * @resource Custom::ProtonComponent
 */
export class Component extends ComponentBase implements ITaggable {
  /**
   * Imports a component by name.
   */
  public static fromComponentName(scope: Construct, id: string, componentName: string): IComponent {
    class Import extends ComponentBase {
      public readonly componentName = componentName;
      public readonly componentArn = componentArn(this, componentName);
    }
    return new Import(scope, id);
  }

  public readonly componentName: string;
  public readonly componentArn: string;

  /** Tags applied to the Proton component. */
  public readonly tags: TagManager;

  private readonly resource: CustomResource;
  private readonly outputKeys = new OutputKeys();

  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const name = props.componentName ?? generateResourceName(this);
    checkResourceName(this, 'componentName', name);
    checkDescription(this, props.description);
    checkAttachment(this, props);
    props.bundle._check(this);
    this.tags = new TagManager(TagType.KEY_VALUE, ResourceTypes.COMPONENT);
    if (!Token.isUnresolved(name)) claimName(this, 'component', name, 'componentName');

    const attached = props.service !== undefined;
    const provider = ProtonProvider.of(this);
    this.resource = provider.customResource(this, 'Resource', {
      resourceType: ResourceTypes.COMPONENT,
      removalPolicy: props.removalPolicy ?? (props.adoptExisting ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY),
      properties: definedProperties({
        [ComponentProperties.COMPONENT_NAME]: name,
        [ComponentProperties.MANIFEST]: props.bundle.manifest,
        [ComponentProperties.TEMPLATE_FILE]: props.bundle.templateFile,
        // Proton derives an attached component's environment from its service instance.
        [ComponentProperties.ENVIRONMENT_NAME]: attached ? undefined : props.environment!.environmentName,
        [ComponentProperties.SERVICE_NAME]: props.service?.serviceName,
        [ComponentProperties.SERVICE_INSTANCE_NAME]: props.serviceInstanceName,
        [ComponentProperties.SERVICE_SPEC]: props.serviceSpec,
        [ComponentProperties.DESCRIPTION]: props.description,
        [ComponentProperties.ADOPT_EXISTING]: props.adoptExisting ? 'true' : undefined,
        [ComponentProperties.TAGS]: Lazy.string({ produce: () => renderTags(this, this.tags) }),
        [ComponentProperties.OUTPUT_KEYS]: Lazy.string({ produce: () => this.outputKeys.render() }),
      }),
    });
    // The names are references (to the service, or the environment), which order the component after them: it is
    // created once they are deployed and deleted (detached first) before them.
    if (attached && props.environment) this.resource.node.addDependency(props.environment);
    this.componentName = this.resource.ref;
    this.componentArn = componentArn(this, this.componentName);

    provider.grantOn('component', name, [
      'proton:CreateComponent', 'proton:GetComponent', 'proton:UpdateComponent', 'proton:DeleteComponent', 'proton:ListComponentOutputs',
      'proton:TagResource', 'proton:UntagResource', 'proton:ListTagsForResource',
    ]);
    // What a component's last deployment put in place (Proton returns no template file on the component itself); the
    // deployment's id is known only at deploy time.
    provider.addToRolePolicy(new iam.PolicyStatement({
      actions: ['proton:GetDeployment'],
      resources: [Stack.of(this).formatArn({ service: 'proton', resource: 'deployment', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
    }));
  }

  /**
   * An output of the component's CloudFormation template (a token resolved at deploy time).
   *
   * The outputs read through this method are returned to CloudFormation, whose response is limited to 4 KB:
   * the deployment fails, naming them, if they do not fit.
   *
   * @param key the output's name in the component's template
   */
  public getOutput(key: string): string {
    return this.resource.getAttString(this.outputKeys.add(this, key, OutputAttributes.ENVIRONMENT));
  }
}

function componentArn(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({ service: 'proton', resource: 'component', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}

/** Proton's CreateComponent rules, and what the app knows of the environment and service template version. */
function checkAttachment(scope: Construct, props: ComponentProps): void {
  const path = scope.node.path;
  const { service, serviceInstanceName, environment } = props;
  if ((service === undefined) !== (serviceInstanceName === undefined)) {
    throw new Error(`${path}: ${service ? 'service is given without serviceInstanceName' : `serviceInstanceName "${serviceInstanceName}" is given without service`}; `
      + 'give both to attach the component to a service instance, or neither');
  }
  if (!service && !environment) {
    throw new Error(`${path}: neither environment nor service is given; a component is deployed to an environment (environment), `
      + 'or attached to a service instance (service and serviceInstanceName)');
  }
  if (props.serviceSpec !== undefined) {
    if (!service) {
      throw new Error(`${path}: serviceSpec is only for a component attached to a service instance: give service and serviceInstanceName too`);
    }
    if (!Token.isUnresolved(props.serviceSpec) && (props.serviceSpec.length < 1 || props.serviceSpec.length > SERVICE_SPEC_MAX_LENGTH)) {
      throw new Error(`${path}: serviceSpec is ${props.serviceSpec.length} characters long; Proton accepts 1 to ${SERVICE_SPEC_MAX_LENGTH}`);
    }
  }
  let deployedTo = environment;
  if (service && serviceInstanceName !== undefined) {
    checkResourceName(scope, 'serviceInstanceName', serviceInstanceName);
    if (service instanceof Service && !Token.isUnresolved(serviceInstanceName)) {
      const instanceEnvironment = service._instanceEnvironment(serviceInstanceName);
      if (!instanceEnvironment) {
        throw new Error(`${path}: serviceInstanceName "${serviceInstanceName}" is not an instance of ${service.node.path}`);
      }
      if (environment && environment !== instanceEnvironment) {
        throw new Error(`${path}: environment is ${environment.node.path}, but service instance "${serviceInstanceName}" of ${service.node.path} `
          + `is in ${instanceEnvironment.node.path}: an attached component is deployed to its instance's environment (omit environment)`);
      }
      deployedTo = instanceEnvironment;
      const version = service.templateVersion;
      if (version instanceof ServiceTemplateVersion && !version.supportedComponentSources.includes(ComponentSource.DIRECTLY_DEFINED)) {
        throw new Error(`${path}: service ${service.node.path} runs template version ${version.node.path}, whose supportedComponentSources `
          + `(${version.supportedComponentSources.join(', ') || 'none'}) doesn't include DIRECTLY_DEFINED: Proton attaches no component to its instances. `
          + 'Set supportedComponentSources: [ComponentSource.DIRECTLY_DEFINED] on the version');
      }
    }
  }
  if (deployedTo instanceof Environment && !deployedTo.componentRole) {
    throw new Error(`${path}: environment ${deployedTo.node.path} has no componentRole: Proton deploys directly defined components with `
      + 'the environment\'s component role. Set componentRole on the environment');
  }
}
