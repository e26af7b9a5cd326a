import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as custom_resources from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { ProtonFunction } from '../handlers/proton-function';

/** Options of a custom resource served by the stack's Proton provider. */
export interface ProtonCustomResourceOptions {
  /** One of ResourceTypes (src/private/properties.ts). */
  readonly resourceType: string;
  /** Every value a string (lists and maps as JSON strings); names from src/private/properties.ts. */
  readonly properties: { [name: string]: string };
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The stack's single custom-resource provider for every Proton resource: one role shared by two functions built from
 * the same handler asset (PROTON_HANDLER_PHASE = onEvent | isComplete), and the aws-cdk-lib Provider framework
 * polling isComplete. Each construct adds to the role only the statements its own resources need.
 */
export class ProtonProvider extends Construct {
  /** How often the framework calls isComplete. */
  public static readonly QUERY_INTERVAL = Duration.seconds(10);
  /**
   * How long isComplete may keep answering "not yet" (a multiple of QUERY_INTERVAL, as the framework requires).
   * With the onEvent function's timeout it stays under SERVICE_TIMEOUT, so the framework reports "Operation timed out"
   * before CloudFormation gives up on its own.
   */
  public static readonly TOTAL_TIMEOUT = Duration.minutes(50);
  /** CloudFormation's wait for each custom resource: its maximum, 1 hour. */
  public static readonly SERVICE_TIMEOUT = Duration.hours(1);
  /** Each handler invocation: SDK calls with retries and backoff, never long waits. */
  public static readonly FUNCTION_TIMEOUT = Duration.minutes(5);

  /** The stack's provider, created on first use. */
  public static of(scope: IConstruct): ProtonProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID);
    return existing instanceof ProtonProvider ? existing : new ProtonProvider(stack, PROVIDER_ID);
  }

  /** The role both handler functions run with. */
  public readonly role: iam.Role;
  public readonly serviceToken: string;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    const handlerFunction = (phase: 'onEvent' | 'isComplete', functionId: string) => new ProtonFunction(this, functionId, {
      role: this.role,
      timeout: ProtonProvider.FUNCTION_TIMEOUT,
      memorySize: 256,
      environment: { PROTON_HANDLER_PHASE: phase },
    });
    const provider = new custom_resources.Provider(this, 'Provider', {
      onEventHandler: handlerFunction('onEvent', 'OnEvent'),
      isCompleteHandler: handlerFunction('isComplete', 'IsComplete'),
      queryInterval: ProtonProvider.QUERY_INTERVAL,
      totalTimeout: ProtonProvider.TOTAL_TIMEOUT,
    });
    this.serviceToken = provider.serviceToken;
  }

  /** Lets both handler functions make these calls. */
  public addToRolePolicy(statement: iam.PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }

  /** Lets the handler read one template bundle object: Proton reads the bundle from S3 with the caller's credentials. */
  public grantBundleRead(bucketName: string, objectKey: string): void {
    this.addToRolePolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [Stack.of(this).formatArn({ service: 's3', region: '', account: '', resource: bucketName, resourceName: objectKey })],
    }));
  }

  /** A custom resource served by this provider, with the provider's service timeout. */
  public customResource(scope: Construct, id: string, options: ProtonCustomResourceOptions): CustomResource {
    return new CustomResource(scope, id, {
      serviceToken: this.serviceToken,
      resourceType: options.resourceType,
      properties: options.properties,
      removalPolicy: options.removalPolicy,
      serviceTimeout: ProtonProvider.SERVICE_TIMEOUT,
    });
  }
}

const PROVIDER_ID = 'CdkProtonProvider';
