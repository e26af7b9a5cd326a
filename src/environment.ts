import {
  ArnFormat, CustomResource, IResource, ITaggable, Lazy, RemovalPolicy, Resource, Stack, TagManager, TagType, Token, aws_iam as iam,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IEnvironmentAccountConnection } from './environment-account-connection';
import { Provisioning } from './environment-template';
import { IEnvironmentTemplateVersion } from './environment-template-version';
import { checkOutputKey } from './private/output-check';
import { EnvironmentProperties, OutputAttributes, ResourceTypes } from './private/properties';
import { addEnvironmentStack, ProtonFreeStack } from './private/proton-free';
import { ProtonProvider } from './private/provider';
import { renderEnvironmentSpec } from './private/spec';
import { SupersededVersions } from './private/superseded-versions';
import { dependOnTemplateVersion, TEMPLATE_VERSION_READ_AND_COLLECT, templateVersionSelector } from './private/template';
import {
  checkDescription, checkResourceName, checkSpecSize, claimName, generateResourceName, definedProperties, OutputKeys, renderTags, validateSpecInputs,
} from './private/workload';
import { ProtonMode } from './proton-mode';

/**
 * A Proton environment.
 */
export interface IEnvironment extends IResource {
  /**
   * The environment's name.
   *
   * @attribute
   */
  readonly environmentName: string;

  /**
   * The environment's ARN.
   *
   * @attribute
   */
  readonly environmentArn: string;

  /**
   * The template version the environment is deployed with, when this app defines it.
   *
   * @default - unknown: the environment is imported
   */
  readonly templateVersion?: IEnvironmentTemplateVersion;

  /**
   * Lets the grantee read the environment: its details, outputs and provisioned resources.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/**
 * Attributes of an environment defined outside this stack.
 */
export interface EnvironmentAttributes {
  /**
   * The environment's name.
   */
  readonly environmentName: string;

  /**
   * The template version the environment runs, when this app defines it: services then check at synth that their
   * template version is compatible with it.
   *
   * @default - unknown: compatibility is left to Proton
   */
  readonly templateVersion?: IEnvironmentTemplateVersion;
}

/**
 * The Git providers Proton connects to.
 */
export enum RepositoryProvider {
  /** GitHub. */
  GITHUB = 'GITHUB',
  /** GitHub Enterprise. */
  GITHUB_ENTERPRISE = 'GITHUB_ENTERPRISE',
  /** Bitbucket. */
  BITBUCKET = 'BITBUCKET',
}

/**
 * A repository branch registered with Proton, where Proton opens pull requests for self-managed provisioning.
 */
export interface ProvisioningRepository {
  /** The repository's provider. */
  readonly provider: RepositoryProvider;
  /** The repository's name, `owner/repository`. */
  readonly name: string;
  /** The branch. */
  readonly branch: string;
}

/**
 * Properties of an environment.
 *
 * Choose at most one provisioning mode: `protonServiceRole` (Proton deploys with CloudFormation),
 * `environmentAccountConnection` or `environmentAccountConnectionId` (Proton deploys in another account),
 * `provisioningRepository` (self-managed: Proton opens pull requests) or `codebuildRole` (CodeBuild provisioning). Environments of CUSTOMER_MANAGED templates need none.
 */
export interface EnvironmentProps {
  /**
   * The environment's name.
   *
   * @default - a valid name, unique in the app, derived from the construct path
   */
  readonly environmentName?: string;

  /**
   * The environment template version to deploy.
   */
  readonly templateVersion: IEnvironmentTemplateVersion;

  /**
   * The inputs of the environment spec (`spec:` of `proton: EnvironmentSpec`), validated against the template
   * version's schema when the app defines its bundle. Values may be tokens.
   *
   * @default - no inputs: the schema's defaults
   */
  readonly spec?: { [key: string]: any };

  /**
   * The environment's description.
   *
   * @default - none
   */
  readonly description?: string;

  /**
   * The role Proton assumes to deploy the environment's infrastructure with CloudFormation.
   *
   * @default - none
   */
  readonly protonServiceRole?: iam.IRole;

  /**
   * The ID of the environment account connection through which Proton deploys the environment in another account.
   *
   * @default - none
   */
  readonly environmentAccountConnectionId?: string;

  /**
   * The environment account connection through which Proton deploys the environment in another account: an
   * `EnvironmentAccountConnectionAcceptance` of this account (the environment is then created once the connection is
   * accepted), or `EnvironmentAccountConnection.fromEnvironmentAccountConnectionId`. The connection must have been
   * requested for this environment's name, and brings its own roles (no protonServiceRole or codebuildRole).
   *
   * @default - none
   */
  readonly environmentAccountConnection?: IEnvironmentAccountConnection;

  /**
   * The repository where Proton opens pull requests for self-managed provisioning.
   *
   * @default - none
   */
  readonly provisioningRepository?: ProvisioningRepository;

  /**
   * The role Proton passes to CodeBuild for CodeBuild provisioning.
   *
   * @default - none
   */
  readonly codebuildRole?: iam.IRole;

  /**
   * The role Proton uses to deploy directly defined components in this environment.
   *
   * @default - none: components can't be attached
   */
  readonly componentRole?: iam.IRole;

  /**
   * Whether an environment of this name that already exists in Proton, and that no stack manages, is taken over by
   * this stack (its spec and version are then brought to this definition). Without it, such an environment fails the
   * deployment: two stacks must never silently manage one environment.
   *
   * @default false
   */
  readonly adoptExisting?: boolean;

  /**
   * What happens to the environment when it leaves the stack.
   *
   * @default - RemovalPolicy.RETAIN for an adopted environment (`adoptExisting`), RemovalPolicy.DESTROY otherwise
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Proton-free mode (`cdk-proton:mode` = `cloudformation`): the name of the CloudFormation stack the environment is
   * deployed as. Give the name of the stack Proton provisioned for the environment (the `name` that
   * `aws proton list-environment-provisioned-resources` lists) to take that stack over in place. Ignored in Proton mode.
   *
   * @default - `Environment-<environmentName>`
   */
  readonly cloudFormationStackName?: string;
}

abstract class EnvironmentBase extends Resource implements IEnvironment {
  public abstract readonly environmentName: string;
  public abstract readonly environmentArn: string;
  public abstract readonly templateVersion?: IEnvironmentTemplateVersion;

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['proton:GetEnvironment', 'proton:ListEnvironmentOutputs', 'proton:ListEnvironmentProvisionedResources'],
      resourceArns: [this.environmentArn],
    });
  }
}

const EAC_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REPOSITORY_NAME = /^[A-Za-z0-9_.-].*\/[A-Za-z0-9_.-].*$/;

/**
 * Defines a Proton environment, deployed from an environment template version.
 *
 * CloudFormation waits for each deployment to succeed. A spec change redeploys the environment, and a new template
 * version upgrades it (a minor within its major, or a higher major).
 *
 * @resource Custom::ProtonEnvironment
 */
export class Environment extends EnvironmentBase implements ITaggable {
  /**
   * Imports an environment by name.
   */
  public static fromEnvironmentName(scope: Construct, id: string, environmentName: string): IEnvironment {
    return Environment.fromEnvironmentAttributes(scope, id, { environmentName });
  }

  /**
   * Imports an environment by name, with the template version it runs when the app defines it.
   */
  public static fromEnvironmentAttributes(scope: Construct, id: string, attrs: EnvironmentAttributes): IEnvironment {
    class Import extends EnvironmentBase {
      public readonly environmentName = attrs.environmentName;
      public readonly environmentArn = environmentArn(this, attrs.environmentName);
      public readonly templateVersion = attrs.templateVersion;
    }
    const imported = new Import(scope, id);
    checkResourceName(imported, 'environmentName', attrs.environmentName);
    return imported;
  }

  public readonly environmentName: string;
  public readonly environmentArn: string;
  public readonly templateVersion?: IEnvironmentTemplateVersion;
  /** The role Proton deploys directly defined components in this environment with; none: components can't attach. */
  public readonly componentRole?: iam.IRole;

  /** Tags applied to the Proton environment. */
  public readonly tags: TagManager;

  /**
   * Proton-free mode: the CloudFormation stack holding the environment's rendered template.
   *
   * @default - none in Proton mode
   */
  public readonly cloudFormationStack?: Stack;

  private readonly resource?: CustomResource;
  private readonly outputKeys = new OutputKeys();
  private readonly protonFree?: ProtonFreeStack;

  constructor(scope: Construct, id: string, props: EnvironmentProps) {
    super(scope, id);
    const name = props.environmentName ?? generateResourceName(this);
    checkResourceName(this, 'environmentName', name);
    checkDescription(this, props.description);
    checkProvisioning(this, props);
    this.templateVersion = props.templateVersion;
    this.componentRole = props.componentRole;
    this.tags = new TagManager(TagType.KEY_VALUE, ResourceTypes.ENVIRONMENT);

    const schema = props.templateVersion.bundle?._schema;
    let inputs = props.spec ?? {};
    if (schema) {
      if (!schema.environmentInputType) {
        throw new Error(`${this.node.path}: templateVersion's bundle declares no environment_input_type: it is not an environment template`);
      }
      inputs = validateSpecInputs(this, 'spec', schema, schema.environmentInputType, inputs);
    }

    checkSpecSize(this, 'spec', () => renderEnvironmentSpec(inputs));
    if (!Token.isUnresolved(name)) claimName(this, 'environment', name, 'environmentName');
    if (ProtonMode.isProtonFree(this)) {
      // The same definition and validation; the rendered template is deployed as a stack instead (no Proton resource).
      this.protonFree = addEnvironmentStack(this, {
        bundle: props.templateVersion.bundle,
        environmentName: name,
        inputs,
        stackName: props.cloudFormationStackName,
        connected: props.environmentAccountConnection !== undefined || props.environmentAccountConnectionId !== undefined,
        tags: this.tags,
      });
      this.cloudFormationStack = this.protonFree.stack;
      this.environmentName = name;
      this.environmentArn = environmentArn(this, name);
      return;
    }
    const selector = templateVersionSelector(props.templateVersion);
    const stack = Stack.of(this);
    const provider = ProtonProvider.of(this);
    this.resource = provider.customResource(this, 'Resource', {
      resourceType: ResourceTypes.ENVIRONMENT,
      removalPolicy: props.removalPolicy ?? (props.adoptExisting ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY),
      properties: definedProperties({
        [EnvironmentProperties.ENVIRONMENT_NAME]: name,
        [EnvironmentProperties.TEMPLATE_NAME]: props.templateVersion.template.environmentTemplateName,
        [EnvironmentProperties.TEMPLATE_MAJOR_VERSION]: selector.majorVersion,
        [EnvironmentProperties.TEMPLATE_MINOR_VERSION]: selector.minorVersion,
        [EnvironmentProperties.TEMPLATE_BUNDLE_HASH]: selector.bundleHash,
        [EnvironmentProperties.ADOPT_EXISTING]: props.adoptExisting ? 'true' : undefined,
        [EnvironmentProperties.SPEC]: stack.toJsonString(inputs),
        [EnvironmentProperties.DESCRIPTION]: props.description,
        [EnvironmentProperties.PROTON_SERVICE_ROLE_ARN]: props.protonServiceRole?.roleArn,
        [EnvironmentProperties.ENVIRONMENT_ACCOUNT_CONNECTION_ID]: props.environmentAccountConnection?.environmentAccountConnectionId
          ?? props.environmentAccountConnectionId,
        [EnvironmentProperties.PROVISIONING_REPOSITORY]: props.provisioningRepository
          ? stack.toJsonString(props.provisioningRepository) : undefined,
        [EnvironmentProperties.CODEBUILD_ROLE_ARN]: props.codebuildRole?.roleArn,
        [EnvironmentProperties.COMPONENT_ROLE_ARN]: props.componentRole?.roleArn,
        [EnvironmentProperties.TAGS]: Lazy.string({ produce: () => renderTags(this, this.tags) }),
        [EnvironmentProperties.OUTPUT_KEYS]: Lazy.string({ produce: () => this.outputKeys.render() }),
      }),
    });
    // The physical id is the name: referencing it makes dependents (services) wait for the environment.
    this.environmentName = this.resource.ref;
    this.environmentArn = environmentArn(this, this.environmentName);

    dependOnTemplateVersion(this.resource, selector);
    SupersededVersions.track(this.resource, 'environment', props.templateVersion.template.environmentTemplateName, selector);
    provider.grantOn('environment', name, [
      'proton:CreateEnvironment', 'proton:GetEnvironment', 'proton:UpdateEnvironment', 'proton:DeleteEnvironment',
      'proton:CancelEnvironmentDeployment', 'proton:ListEnvironmentOutputs',
      'proton:TagResource', 'proton:UntagResource', 'proton:ListTagsForResource',
    ]);
    // Resolving the version by its bundle, and deleting superseded versions the environment no longer runs on.
    provider.grantOn('environment-template', props.templateVersion.template.environmentTemplateName,
      TEMPLATE_VERSION_READ_AND_COLLECT('Environment'));
    for (const role of [props.protonServiceRole, props.codebuildRole, props.componentRole]) {
      if (role) provider.grantPassRole(role);
    }
  }

  /**
   * An output of the environment's infrastructure (a token resolved at deploy time).
   *
   * The outputs read through this method are returned to CloudFormation, whose response is limited to 4 KB:
   * the deployment fails, naming them, if they do not fit.
   *
   * @param key the output's name in the environment's infrastructure template
   * @throws when the template version's bundle is known and its infrastructure declares no such output
   */
  public getOutput(key: string): string {
    if (this.protonFree) {
      // The output's value: a reference from another stack becomes a CDK cross-stack reference.
      return Token.asString(this.protonFree.output(key, this, 'getOutput').value);
    }
    const attribute = this.outputKeys.add(this, key, OutputAttributes.ENVIRONMENT);
    checkOutputKey(this, this.templateVersion?.bundle, 'ENVIRONMENT', key, 'getOutput');
    return this.resource!.getAttString(attribute);
  }
}

function environmentArn(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({ service: 'proton', resource: 'environment', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}

function checkProvisioning(scope: Construct, props: EnvironmentProps): void {
  if (props.environmentAccountConnection !== undefined && props.environmentAccountConnectionId !== undefined) {
    throw new Error(`${scope.node.path}: environmentAccountConnection and environmentAccountConnectionId "${props.environmentAccountConnectionId}" `
      + 'both name a connection; give only one (environmentAccountConnectionId is kept for compatibility)');
  }
  const modes = (['protonServiceRole', 'environmentAccountConnection', 'environmentAccountConnectionId', 'provisioningRepository', 'codebuildRole'] as const)
    .filter(mode => props[mode] !== undefined);
  if (modes.length > 1) {
    throw new Error(`${scope.node.path}: ${modes.join(' and ')} are different provisioning modes; give at most one `
      + '(protonServiceRole, environmentAccountConnection, provisioningRepository or codebuildRole)');
  }
  if (modes.length === 0 && props.templateVersion.template.provisioning !== Provisioning.CUSTOMER_MANAGED) {
    throw new Error(`${scope.node.path}: no provisioning mode: Proton provisions environments of template `
      + `${props.templateVersion.template.environmentTemplateName} and needs one of protonServiceRole, environmentAccountConnection, `
      + 'provisioningRepository or codebuildRole (or a template with provisioning CUSTOMER_MANAGED)');
  }
  const eac = props.environmentAccountConnectionId;
  if (eac !== undefined && !Token.isUnresolved(eac) && !EAC_ID.test(eac)) {
    throw new Error(`${scope.node.path}: environmentAccountConnectionId "${eac}" is not an environment account connection ID (a lowercase UUID)`);
  }
  const repository = props.provisioningRepository;
  if (repository) {
    if (!Token.isUnresolved(repository.name) && !REPOSITORY_NAME.test(repository.name)) {
      throw new Error(`${scope.node.path}: provisioningRepository.name "${repository.name}" must be "owner/repository"`);
    }
    if (!Token.isUnresolved(repository.branch) && (repository.branch.length < 1 || repository.branch.length > 200)) {
      throw new Error(`${scope.node.path}: provisioningRepository.branch "${repository.branch}" must be 1 to 200 characters long`);
    }
  }
}
