import { Aspects, CustomResource, Duration, IAspect, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as custom_resources from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { BUNDLE_BUCKET_VARIABLE, HANDLER_PHASE_VARIABLE, HandlerPhase } from './properties';
import { ProtonFunction } from '../handlers/proton-function';
import { ProtonHandler } from '../proton-handler';
import { removeProtonResourcesAtSynth } from './proton-free';

/** Options of a custom resource served by the stack's Proton provider. */
export interface ProtonCustomResourceOptions {
  /** One of ResourceTypes (src/private/properties.ts). */
  readonly resourceType: string;
  /** Every value a string (lists and maps as JSON strings); names from src/private/properties.ts. */
  readonly properties: { [name: string]: string };
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/** The Proton resource families the handler's role is granted on, one IAM statement each. */
export type ProtonResourceFamily = 'environment-template' | 'service-template' | 'environment' | 'service' | 'component' | 'repository';

/**
 * Up to this many resources of a family, the family's statement lists their ARNs; beyond it, the family's ARN pattern
 * in the stack's account and region. The policy then stays within IAM's 10,240-byte inline limit whatever the resource
 * count (no overflow managed policies, of which a role may have only 10).
 */
const MAX_LISTED_ARNS_PER_FAMILY = 20;
/** The share of IAM's 10,240 bytes the listed resource ARNs may take; actions, PassRole and the rest take the remainder. */
const LISTED_ARNS_BUDGET_BYTES = 6_500;

/** The length of an ARN once CloudFormation resolves it: the stack's pseudo parameters at their longest. */
function estimatedLength(stack: Stack, arn: string): number {
  const resolved = JSON.stringify(stack.resolve(arn));
  // Fn::Join / Ref wrappers count as the values they stand for: a partition (aws-us-gov), a region, an account.
  return resolved.replace(/\{"Ref":"AWS::Partition"\}/g, 'aws-us-gov').replace(/\{"Ref":"AWS::Region"\}/g, 'ap-southeast-2')
    .replace(/\{"Ref":"AWS::AccountId"\}/g, '123456789012').replace(/[{}"[\],]|Fn::Join/g, '').length;
}

/**
 * The stack's single custom-resource provider for every Proton resource: one role shared by two functions built from
 * the same handler asset (PROTON_HANDLER_PHASE = onEvent | isComplete), and the aws-cdk-lib Provider framework
 * polling isComplete. Each construct declares the calls it needs; the role gets one statement per resource family.
 */
export class ProtonProvider extends Construct {
  /**
   * How long isComplete polls inside one invocation (1 s growing to 1.5 s) before answering "not yet": completion is
   * seen about a second after Proton's, and a long deployment costs about one invocation a minute.
   */
  public static readonly POLL_BUDGET = Duration.seconds(50);
  /**
   * The framework's wait between isComplete invocations. Short: no poll runs during it, so a deployment ending then
   * is seen only by the next invocation (the invocations themselves are spaced by POLL_BUDGET).
   */
  public static readonly QUERY_INTERVAL = Duration.seconds(2);
  /**
   * The framework's attempts times its interval (its notion of total timeout). Each attempt takes up to POLL_BUDGET
   * plus QUERY_INTERVAL, so 51 attempts wait up to 44 minutes: with onEvent's 14 minutes, under CloudFormation's hour.
   */
  public static readonly TOTAL_TIMEOUT = Duration.seconds(ProtonProvider.QUERY_INTERVAL.toSeconds() * 51);
  /**
   * CloudFormation's wait for each custom resource: its maximum, 1 hour, which is also its default, so the resources
   * leave ServiceTimeout out (30 bytes each in the template).
   */
  public static readonly SERVICE_TIMEOUT = Duration.hours(1);
  /** onEvent: one idempotent step, retried on throttling for up to 12 minutes (a throttled account must slow, not fail). */
  public static readonly ON_EVENT_TIMEOUT = Duration.minutes(14);
  /** isComplete: POLL_BUDGET and a final step. */
  public static readonly IS_COMPLETE_TIMEOUT = Duration.minutes(2);

  /** The stack's provider, created on first use. */
  public static of(scope: IConstruct): ProtonProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID);
    if (existing instanceof ProtonProvider) return existing;
    // Proton-free mode: the constructs that still use the provider (templates, versions, settings) are removed at synth.
    removeProtonResourcesAtSynth(stack);
    return new ProtonProvider(stack, PROVIDER_ID);
  }

  /** The role both handler functions run with. */
  public readonly role: iam.Role;
  public readonly serviceToken: string;
  /** The role's policy for Proton, written at synth. */
  private readonly policy: iam.Policy;

  private readonly families = new Map<ProtonResourceFamily, { actions: Set<string>; arns: Set<string> }>();
  private readonly passedRoles = new Set<iam.IRole>();
  private readonly bundleObjects = new Set<string>();
  /** Both handler functions: the stack's bundle bucket is set in their environment. */
  private readonly handlerFunctions: ProtonFunction[] = [];
  /** The bucket the handler knows from BUNDLE_BUCKET_VARIABLE (resolved, as JSON), once a bundle is granted. */
  private bundleBucket?: string;
  /** Resolved buckets (as JSON) by bucket name: each bundle's asset has a token of its own for the same bucket. */
  private readonly resolvedBuckets = new Map<string, string>();
  private readonly otherStatements: iam.PolicyStatement[] = [];

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    const settings = ProtonHandler._settingsOf(this);
    if (settings.vpc) this.role.addManagedPolicy(ProtonHandler._vpcPolicy());
    const handlerFunction = (phase: HandlerPhase, functionId: string, timeout: Duration) => new ProtonFunction(this, functionId, {
      role: this.role,
      timeout,
      memorySize: settings.memorySize ?? 256,
      vpc: settings.vpc,
      vpcSubnets: settings.vpcSubnets,
      securityGroups: settings.securityGroups,
      logGroup: new logs.LogGroup(this, `${functionId}Logs`, {
        retention: settings.logRetention ?? logs.RetentionDays.ONE_YEAR,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      environment: { [HANDLER_PHASE_VARIABLE]: phase, PROTON_POLL_BUDGET_MS: String(ProtonProvider.POLL_BUDGET.toMilliseconds()) },
    });
    this.handlerFunctions.push(
      handlerFunction('onEvent', 'OnEvent', ProtonProvider.ON_EVENT_TIMEOUT),
      handlerFunction('isComplete', 'IsComplete', ProtonProvider.IS_COMPLETE_TIMEOUT));
    const provider = new custom_resources.Provider(this, 'Provider', {
      onEventHandler: this.handlerFunctions[0],
      isCompleteHandler: this.handlerFunctions[1],
      queryInterval: ProtonProvider.QUERY_INTERVAL,
      totalTimeout: ProtonProvider.TOTAL_TIMEOUT,
    });
    this.serviceToken = provider.serviceToken;
    // The statements are written once every construct of the stack has declared what it needs, into a policy that
    // exists from the start (so that metadata such as cdk-nag suppressions reaches it).
    this.policy = new iam.Policy(this, 'Policy', { roles: [this.role] });
    Aspects.of(this).add(new WritePolicy(this));
  }

  /** Lets the handler make these calls on one Proton resource (and its sub-resources: versions, instances, pipelines). */
  public grantOn(family: ProtonResourceFamily, name: string, actions: string[]): void {
    let grant = this.families.get(family);
    if (!grant) {
      grant = { actions: new Set(), arns: new Set() };
      this.families.set(family, grant);
    }
    actions.forEach(action => grant!.actions.add(action));
    grant.arns.add(name);
  }

  /** Lets the handler pass a role to Proton (and only to Proton). */
  public grantPassRole(role: iam.IRole): void {
    this.passedRoles.add(role);
  }

  /** Lets both handler functions make these calls (account-wide calls Proton does not scope to a resource). */
  public addToRolePolicy(statement: iam.PolicyStatement): void {
    this.otherStatements.push(statement);
  }

  /**
   * Lets the handler read one template bundle object: Proton reads the bundle from S3 with the caller's credentials.
   *
   * @returns whether the object is in the stack's bundle bucket (the first bundle's, usually the stack's asset bucket),
   * which the handler knows from its environment: the version's properties then need not name it
   */
  public grantBundleRead(bucketName: string, objectKey: string): boolean {
    const stack = Stack.of(this);
    this.bundleObjects.add(stack.formatArn({ service: 's3', region: '', account: '', resource: bucketName, resourceName: objectKey }));
    let resolved = this.resolvedBuckets.get(bucketName);
    if (resolved === undefined) {
      resolved = JSON.stringify(stack.resolve(bucketName));
      this.resolvedBuckets.set(bucketName, resolved);
    }
    if (this.bundleBucket === undefined) {
      this.bundleBucket = resolved;
      this.handlerFunctions.forEach(fn => fn.addEnvironment(BUNDLE_BUCKET_VARIABLE, bucketName));
    }
    return resolved === this.bundleBucket;
  }


  /** A custom resource served by this provider, with the provider's service timeout. */
  public customResource(scope: Construct, id: string, options: ProtonCustomResourceOptions): CustomResource {
    return new CustomResource(scope, id, {
      serviceToken: this.serviceToken,
      resourceType: options.resourceType,
      properties: options.properties,
      removalPolicy: options.removalPolicy,
    });
  }

  /** @internal */
  public _writePolicy(): void {
    const stack = Stack.of(this);
    // Each family's resources listed by name, or its ARN pattern; bundle objects likewise, or their buckets' patterns.
    const listed = new Map<string, { names: string[]; patterns: string[] }>();
    for (const [family, grant] of this.families) {
      const arnOf = (name: string) => stack.formatArn({ service: 'proton', resource: family, resourceName: name });
      // Sub-resources: a template's versions (`<template>:<major>.<minor>`), a service's instances and pipeline
      // (`<service>/...`); an environment has none.
      const subResources = (arn: string) => family.endsWith('-template') ? [`${arn}:*`] : family === 'service' ? [`${arn}/*`] : [];
      const names = [...grant.arns].sort();
      listed.set(family, {
        names: names.length <= MAX_LISTED_ARNS_PER_FAMILY ? names.flatMap(name => [arnOf(name), ...subResources(arnOf(name))]) : [arnOf('*')],
        patterns: [arnOf('*')],
      });
    }
    const objects = [...this.bundleObjects].sort();
    if (objects.length > 0) {
      // Bundles are content-addressed objects of the stack's asset bucket; many of them share the bucket's ARN.
      // Each bundle's asset names the bucket with a token of its own: patterns are told apart by their resolved value.
      const buckets = [...new Map(objects.map(arn => arn.replace(/\/[^/]*$/, '/*')).map(pattern => [JSON.stringify(stack.resolve(pattern)), pattern])).values()];
      listed.set('bundles', { names: objects.length <= MAX_LISTED_ARNS_PER_FAMILY ? objects : buckets, patterns: buckets });
    }
    // IAM limits a role's inline policies to 10,240 bytes: while the listed ARNs would take more than their share,
    // the largest list gives way to its pattern (names are literals; tokens such as the partition count as written).
    const size = (arns: string[]) => arns.reduce((total, arn) => total + estimatedLength(stack, arn) + 3, 0);
    for (;;) {
      const total = [...listed.values()].reduce((sum, entry) => sum + size(entry.names), 0);
      const largest = [...listed.values()].filter(entry => entry.names !== entry.patterns && size(entry.names) > size(entry.patterns))
        .sort((x, y) => size(y.names) - size(x.names))[0];
      if (total <= LISTED_ARNS_BUDGET_BYTES || !largest) break;
      largest.names = largest.patterns;
    }
    for (const [family, grant] of this.families) {
      this.policy.addStatements(new iam.PolicyStatement({ actions: [...grant.actions].sort(), resources: listed.get(family)!.names }));
    }
    const bundles = listed.get('bundles');
    if (bundles) {
      this.policy.addStatements(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: bundles.names }));
    }
    if (this.passedRoles.size > 0) {
      this.policy.addStatements(new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [...this.passedRoles].map(role => role.roleArn),
        conditions: { StringEquals: { 'iam:PassedToService': 'proton.amazonaws.com' } },
      }));
    }
    this.otherStatements.forEach(statement => this.policy.addStatements(statement));
  }
}

class WritePolicy implements IAspect {
  private written = false;
  constructor(private readonly provider: ProtonProvider) {}
  public visit(node: IConstruct): void {
    if (node === this.provider && !this.written) {
      this.written = true;
      this.provider._writePolicy();
    }
  }
}

const PROVIDER_ID = 'CdkProtonProvider';
