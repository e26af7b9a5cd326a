import { ArnFormat, IResource, ITaggable, Lazy, RemovalPolicy, Resource, Stack, TagManager, TagType, Token, aws_iam as iam, aws_kms as kms } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RepositoryProvider } from './environment';
import { RepositoryAttributes as RepositoryAttributeNames, RepositoryProperties, ResourceTypes } from './private/properties';
import { ProtonProvider } from './private/provider';
import { claimName, definedProperties, renderTags } from './private/workload';

/**
 * A Git repository linked to Proton (template sync, service sync, self-managed provisioning).
 */
export interface IRepository extends IResource {
  /**
   * The repository's provider.
   */
  readonly repositoryProvider: RepositoryProvider;

  /**
   * The repository's name, `owner/repository`.
   *
   * @attribute
   */
  readonly repositoryName: string;

  /**
   * The repository link's ARN.
   *
   * @attribute
   */
  readonly repositoryArn: string;
}

/**
 * Attributes of a repository linked outside this app.
 */
export interface RepositoryAttributes {
  /** The repository's provider. */
  readonly repositoryProvider: RepositoryProvider;
  /** The repository's name, `owner/repository`. */
  readonly repositoryName: string;
}

/**
 * Properties of a repository link.
 */
export interface RepositoryProps {
  /**
   * The repository's provider.
   */
  readonly provider: RepositoryProvider;

  /**
   * The repository's name, `owner/repository`.
   */
  readonly repositoryName: string;

  /**
   * The ARN of the CodeStar (CodeConnections) connection to the repository's provider. Proton can't change it on an
   * existing link.
   */
  readonly connectionArn: string;

  /**
   * The KMS key Proton encrypts the repository's data with. Proton can't change it on an existing link.
   *
   * @default - an AWS owned key
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Whether a link to this repository that already exists in Proton, and that no stack manages, is taken over by this
   * stack. Without it, such a link fails the deployment.
   *
   * @default false
   */
  readonly adoptExisting?: boolean;

  /**
   * What happens to the link when it leaves the stack.
   *
   * @default - RemovalPolicy.RETAIN for an adopted link (`adoptExisting`), RemovalPolicy.DESTROY otherwise
   */
  readonly removalPolicy?: RemovalPolicy;
}

abstract class RepositoryBase extends Resource implements IRepository {
  public abstract readonly repositoryProvider: RepositoryProvider;
  public abstract readonly repositoryName: string;
  public abstract readonly repositoryArn: string;
}

// Proton's RepositoryName and Arn shapes (API reference).
const REPOSITORY_NAME = /^[A-Za-z0-9_.-].*\/[A-Za-z0-9_.-].*$/;
const REPOSITORY_NAME_MAX_LENGTH = 100;
const CONNECTION_ARN = /^arn:(aws|aws-cn|aws-us-gov):(codestar-connections|codeconnections):[a-zA-Z0-9-]*:\d{12}:([\w+=,.@-]+[/:])*[\w+=,.@-]+$/;
const ARN_MAX_LENGTH = 200;
/** The service principal of Proton's repository sync, whose service-linked role CreateRepository creates. */
const PROTON_SYNC_SERVICE = 'sync.proton.amazonaws.com';

/**
 * Links a Git repository to Proton, through a CodeStar (CodeConnections) connection.
 *
 * @resource Custom::ProtonRepository
 */
export class Repository extends RepositoryBase implements ITaggable {
  /**
   * Imports a repository linked outside this app.
   */
  public static fromRepositoryAttributes(scope: Construct, id: string, attrs: RepositoryAttributes): IRepository {
    class Import extends RepositoryBase {
      public readonly repositoryProvider = attrs.repositoryProvider;
      public readonly repositoryName = attrs.repositoryName;
      public readonly repositoryArn = repositoryArn(this, attrs.repositoryProvider, attrs.repositoryName);
    }
    const imported = new Import(scope, id);
    checkRepositoryName(imported, attrs.repositoryName);
    return imported;
  }

  public readonly repositoryProvider: RepositoryProvider;
  public readonly repositoryName: string;
  public readonly repositoryArn: string;

  /** Tags applied to the Proton repository link. */
  public readonly tags: TagManager;

  constructor(scope: Construct, id: string, props: RepositoryProps) {
    super(scope, id);
    checkRepositoryName(this, props.repositoryName);
    const connectionArn = props.connectionArn;
    if (!Token.isUnresolved(connectionArn) && (!CONNECTION_ARN.test(connectionArn) || connectionArn.length > ARN_MAX_LENGTH)) {
      throw new Error(`${this.node.path}: connectionArn "${connectionArn}" is not a CodeStar connection ARN `
        + `(arn:<partition>:codestar-connections|codeconnections:<region>:<account>:connection/<id>, at most ${ARN_MAX_LENGTH} characters)`);
    }
    if (!Token.isUnresolved(props.repositoryName)) {
      claimName(this, 'repository link', `${props.provider}:${props.repositoryName}`, 'repositoryName', `provider ${props.provider}`);
    }
    this.repositoryProvider = props.provider;
    this.tags = new TagManager(TagType.KEY_VALUE, ResourceTypes.REPOSITORY);

    const provider = ProtonProvider.of(this);
    const resource = provider.customResource(this, 'Resource', {
      resourceType: ResourceTypes.REPOSITORY,
      removalPolicy: props.removalPolicy ?? (props.adoptExisting ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY),
      properties: definedProperties({
        [RepositoryProperties.PROVIDER]: props.provider,
        [RepositoryProperties.REPOSITORY_NAME]: props.repositoryName,
        [RepositoryProperties.CONNECTION_ARN]: connectionArn,
        [RepositoryProperties.ENCRYPTION_KEY]: props.encryptionKey?.keyArn,
        [RepositoryProperties.ADOPT_EXISTING]: props.adoptExisting ? 'true' : undefined,
        [RepositoryProperties.TAGS]: Lazy.string({ produce: () => renderTags(this, this.tags) }),
      }),
    });
    // The name stays a literal (sync configs need provider and name apart); they depend on this construct instead.
    this.repositoryName = props.repositoryName;
    this.repositoryArn = resource.getAttString(RepositoryAttributeNames.ARN);

    provider.grantOn('repository', `${props.provider.toLowerCase()}:${props.repositoryName}`, [
      'proton:CreateRepository', 'proton:GetRepository', 'proton:DeleteRepository',
      'proton:TagResource', 'proton:UntagResource', 'proton:ListTagsForResource',
    ]);
    provider.addToRolePolicy(new iam.PolicyStatement({
      actions: ['codestar-connections:PassConnection', 'codeconnections:PassConnection'],
      resources: [connectionArn],
    }));
    // CreateRepository creates Proton's service-linked role for repository sync on first use.
    provider.addToRolePolicy(new iam.PolicyStatement({
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [Stack.of(this).formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: `aws-service-role/${PROTON_SYNC_SERVICE}/AWSServiceRoleForProtonSync`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      })],
      conditions: { StringEquals: { 'iam:AWSServiceName': PROTON_SYNC_SERVICE } },
    }));
  }
}

function repositoryArn(scope: Construct, provider: RepositoryProvider, name: string): string {
  return Stack.of(scope).formatArn({
    service: 'proton', resource: 'repository', resourceName: `${provider.toLowerCase()}:${name}`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

function checkRepositoryName(scope: Construct, name: string): void {
  if (Token.isUnresolved(name)) {
    throw new Error(`${scope.node.path}: repositoryName must be a literal "owner/repository", not a token (sync configs name it at synth)`);
  }
  if (name.length > REPOSITORY_NAME_MAX_LENGTH || !REPOSITORY_NAME.test(name)) {
    throw new Error(`${scope.node.path}: repositoryName "${name}" must be "owner/repository" (at most ${REPOSITORY_NAME_MAX_LENGTH} characters)`);
  }
}
