import { ArnFormat, CustomResource, IResource, ITaggable, Lazy, RemovalPolicy, Resource, Stack, TagManager, TagType, Token, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  EnvironmentAccountConnectionAcceptanceProperties, EnvironmentAccountConnectionAttributes, EnvironmentAccountConnectionProperties, ResourceTypes,
} from './private/properties';
import { ProtonProvider } from './private/provider';
import { checkResourceName, claimName, definedProperties, renderTags } from './private/workload';

/**
 * A Proton environment account connection: lets an environment in the management account deploy its infrastructure
 * in the environment account.
 */
export interface IEnvironmentAccountConnection extends IResource {
  /**
   * The connection's ID (a lowercase UUID).
   *
   * @attribute
   */
  readonly environmentAccountConnectionId: string;
}

/**
 * Properties of an environment account connection.
 */
export interface EnvironmentAccountConnectionProps {
  /**
   * The management account (12 digits) that the connection is requested from: the account whose environment deploys
   * through it, and that accepts it (`EnvironmentAccountConnectionAcceptance`). A new value is a new connection.
   */
  readonly managementAccountId: string;

  /**
   * The name of the environment, in the management account, that deploys through the connection. A new name is a new
   * connection.
   */
  readonly environmentName: string;

  /**
   * The role, in this account, that Proton assumes to provision the environment's infrastructure with CloudFormation.
   * Updated in place; a role removed from the props stays on the connection (Proton's update only sets roles).
   *
   * @default - none
   */
  readonly role?: iam.IRole;

  /**
   * The role, in this account, that Proton passes to CodeBuild for CodeBuild provisioning. Updated in place.
   *
   * @default - none
   */
  readonly codebuildRole?: iam.IRole;

  /**
   * The role, in this account, that Proton uses to provision directly defined components of the environment. Updated
   * in place.
   *
   * @default - none: components can't be attached
   */
  readonly componentRole?: iam.IRole;

  /**
   * Whether a live (PENDING or CONNECTED) connection to this management account and environment that exists in Proton,
   * and that no stack manages, is taken over by this stack. Without it, such a connection fails the deployment: Proton
   * allows one per management account and environment.
   *
   * @default false
   */
  readonly adoptExisting?: boolean;

  /**
   * What happens to the connection when it leaves the stack. Deleting a connection that an environment still deploys
   * through leaves that environment's infrastructure unmanaged.
   *
   * @default - RemovalPolicy.RETAIN for an adopted connection (`adoptExisting`), RemovalPolicy.DESTROY otherwise
   */
  readonly removalPolicy?: RemovalPolicy;
}

const ACCOUNT_ID = /^\d{12}$/;
const CONNECTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkConnectionId(scope: Construct, property: string, id: string): void {
  if (!Token.isUnresolved(id) && !CONNECTION_ID.test(id)) {
    throw new Error(`${scope.node.path}: ${property} "${id}" is not an environment account connection ID: a lowercase UUID is required `
      + '(such as 0f9e4c1a-2b3d-4e5f-8a7b-6c5d4e3f2a1b)');
  }
}

/** Only the connection's ID is known in the management account, which may not hold its ARN's account. */
function connectionArn(scope: Construct, id: string, account?: string): string {
  return Stack.of(scope).formatArn({
    service: 'proton', account, resource: 'environment-account-connection', resourceName: id, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/**
 * Requests an environment account connection (`Custom::ProtonEnvironmentAccountConnection`), in the environment
 * account: the stack's account. The connection is PENDING until the management account accepts it
 * (`EnvironmentAccountConnectionAcceptance`); an `Environment` there then deploys through it.
 *
 * Proton's create is idempotent by client token, and the handler first looks for the account's live connection to this
 * management account and environment, so a re-delivered or re-run create never requests a second one.
 *
 * @resource Custom::ProtonEnvironmentAccountConnection
 */
export class EnvironmentAccountConnection extends Resource implements IEnvironmentAccountConnection, ITaggable {
  /**
   * Imports a connection by its ID: how the management account refers to a connection requested from another account
   * (its ID is output by the environment account's stack, or read from the Proton console).
   */
  public static fromEnvironmentAccountConnectionId(
    scope: Construct, id: string, environmentAccountConnectionId: string,
  ): IEnvironmentAccountConnection {
    class Import extends Resource implements IEnvironmentAccountConnection {
      public readonly environmentAccountConnectionId = environmentAccountConnectionId;
    }
    const imported = new Import(scope, id);
    checkConnectionId(imported, 'environmentAccountConnectionId', environmentAccountConnectionId);
    return imported;
  }

  public readonly environmentAccountConnectionId: string;
  /**
   * The connection's ARN.
   *
   * @attribute
   */
  public readonly environmentAccountConnectionArn: string;
  /**
   * The connection's status when the stack last deployed it (PENDING until the management account accepts it; this
   * attribute is not refreshed by the acceptance, which happens in another stack).
   *
   * @attribute
   */
  public readonly environmentAccountConnectionStatus: string;
  /** The management account the connection is requested from. */
  public readonly managementAccountId: string;
  /** The environment, in the management account, that deploys through the connection. */
  public readonly environmentName: string;
  /** Tags applied to the Proton connection. */
  public readonly tags: TagManager;

  private readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: EnvironmentAccountConnectionProps) {
    super(scope, id);
    const { managementAccountId, environmentName } = props;
    if (!Token.isUnresolved(managementAccountId) && !ACCOUNT_ID.test(managementAccountId)) {
      throw new Error(`${this.node.path}: managementAccountId "${managementAccountId}" is not an AWS account ID: 12 digits are required`);
    }
    const stack = Stack.of(this);
    if (!Token.isUnresolved(managementAccountId) && !Token.isUnresolved(stack.account) && managementAccountId === stack.account) {
      throw new Error(`${this.node.path}: managementAccountId "${managementAccountId}" is the stack's own account: a connection joins `
        + 'two accounts; an environment in its own account needs no connection (give it protonServiceRole)');
    }
    checkResourceName(this, 'environmentName', environmentName);
    if (!Token.isUnresolved(managementAccountId) && !Token.isUnresolved(environmentName)) {
      claimName(this, 'environment account connection', `${managementAccountId}/${environmentName}`, 'managementAccountId and environmentName',
        'Proton allows one connection per management account and environment');
    }
    this.managementAccountId = managementAccountId;
    this.environmentName = environmentName;
    this.tags = new TagManager(TagType.KEY_VALUE, ResourceTypes.ENVIRONMENT_ACCOUNT_CONNECTION);

    const provider = ProtonProvider.of(this);
    this.resource = provider.customResource(this, 'Resource', {
      resourceType: ResourceTypes.ENVIRONMENT_ACCOUNT_CONNECTION,
      removalPolicy: props.removalPolicy ?? (props.adoptExisting ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY),
      properties: definedProperties({
        [EnvironmentAccountConnectionProperties.MANAGEMENT_ACCOUNT_ID]: managementAccountId,
        [EnvironmentAccountConnectionProperties.ENVIRONMENT_NAME]: environmentName,
        [EnvironmentAccountConnectionProperties.ROLE_ARN]: props.role?.roleArn,
        [EnvironmentAccountConnectionProperties.CODEBUILD_ROLE_ARN]: props.codebuildRole?.roleArn,
        [EnvironmentAccountConnectionProperties.COMPONENT_ROLE_ARN]: props.componentRole?.roleArn,
        [EnvironmentAccountConnectionProperties.ADOPT_EXISTING]: props.adoptExisting ? 'true' : undefined,
        [EnvironmentAccountConnectionProperties.TAGS]: Lazy.string({ produce: () => renderTags(this, this.tags) }),
      }),
    });
    this.environmentAccountConnectionId = this.resource.ref;
    this.environmentAccountConnectionArn = this.resource.getAttString(EnvironmentAccountConnectionAttributes.ARN);
    this.environmentAccountConnectionStatus = this.resource.getAttString(EnvironmentAccountConnectionAttributes.STATUS);

    // The connection's ID is unknown until it is created, and Proton scopes neither call to a resource.
    provider.addToRolePolicy(new iam.PolicyStatement({
      actions: ['proton:CreateEnvironmentAccountConnection', 'proton:ListEnvironmentAccountConnections'],
      resources: ['*'],
    }));
    provider.addToRolePolicy(new iam.PolicyStatement({
      actions: [
        'proton:GetEnvironmentAccountConnection', 'proton:UpdateEnvironmentAccountConnection', 'proton:DeleteEnvironmentAccountConnection',
        'proton:TagResource', 'proton:UntagResource', 'proton:ListTagsForResource',
      ],
      resources: [connectionArn(this, '*')],
    }));
    for (const role of [props.role, props.codebuildRole, props.componentRole]) {
      if (role) provider.grantPassRole(role);
    }
  }
}

/**
 * Properties of an environment account connection acceptance.
 */
export interface EnvironmentAccountConnectionAcceptanceProps {
  /**
   * The ID of the connection to accept, requested from the environment account. Across accounts, pass the ID as a
   * string (a context value, a parameter): a token of a stack in another account can't be referenced. A new ID
   * accepts another connection.
   */
  readonly connectionId: string;

  /**
   * Whether removing the acceptance from the stack rejects the connection. Proton has no "un-accept": a connection
   * stays CONNECTED until it is rejected, and REJECTED is final (the environment account must request a new one).
   * Proton refuses to reject a connection that an environment deploys through, so delete those environments first.
   *
   * @default false - removing the acceptance leaves the connection as it is (CONNECTED)
   */
  readonly rejectOnDelete?: boolean;
}

/**
 * Accepts an environment account connection (`Custom::ProtonEnvironmentAccountConnectionAcceptance`), in the
 * management account: the stack's account. Accepting is idempotent (a CONNECTED connection is left as it is), and the
 * deployment waits until the connection is CONNECTED; a REJECTED connection fails it.
 *
 * The acceptance is the management account's handle on the connection: give it as an environment's
 * `environmentAccountConnection`, and the environment is created once the connection is accepted.
 *
 * What removing it does: by default nothing happens to the connection (Proton has no "un-accept"); with
 * `rejectOnDelete` the connection is rejected, which is final.
 *
 * @resource Custom::ProtonEnvironmentAccountConnectionAcceptance
 */
export class EnvironmentAccountConnectionAcceptance extends Resource implements IEnvironmentAccountConnection {
  /** The accepted connection's ID; referencing it makes dependents (environments) wait for the acceptance. */
  public readonly environmentAccountConnectionId: string;
  /**
   * The connection's status once accepted (CONNECTED).
   *
   * @attribute
   */
  public readonly environmentAccountConnectionStatus: string;

  constructor(scope: Construct, id: string, props: EnvironmentAccountConnectionAcceptanceProps) {
    super(scope, id);
    checkConnectionId(this, 'connectionId', props.connectionId);
    if (!Token.isUnresolved(props.connectionId)) {
      claimName(this, 'environment account connection acceptance', props.connectionId, 'connectionId');
    }
    const provider = ProtonProvider.of(this);
    const resource = provider.customResource(this, 'Resource', {
      resourceType: ResourceTypes.ENVIRONMENT_ACCOUNT_CONNECTION_ACCEPTANCE,
      properties: definedProperties({
        [EnvironmentAccountConnectionAcceptanceProperties.CONNECTION_ID]: props.connectionId,
        [EnvironmentAccountConnectionAcceptanceProperties.REJECT_ON_DELETE]: props.rejectOnDelete ? 'true' : undefined,
      }),
    });
    this.environmentAccountConnectionId = resource.ref;
    this.environmentAccountConnectionStatus = resource.getAttString(EnvironmentAccountConnectionAttributes.STATUS);
    provider.addToRolePolicy(new iam.PolicyStatement({
      actions: ['proton:GetEnvironmentAccountConnection', 'proton:AcceptEnvironmentAccountConnection',
        ...(props.rejectOnDelete ? ['proton:RejectEnvironmentAccountConnection'] : [])],
      // The connection is the environment account's resource: its ARN holds that account, which this stack may not know.
      resources: [connectionArn(this, props.connectionId, '*')],
    }));
  }
}
