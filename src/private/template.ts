/** Synth-time helpers shared by the template and template version constructs. */
import { Annotations, CfnResource, CustomResource, Lazy, RemovalPolicy, Stack, Stage, TagManager, Token } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { usualBundleObjectKey } from './bundle-key';
import { ResourceTypes, TemplateProperties, TemplateVersionProperties } from './properties';
import { ProtonProvider } from './provider';
import { checkDescription, checkResourceName, claimName, definedProperties, renderTags } from './workload';
import { TemplateBundle, TemplateBundleKind } from '../template-bundle';

const DISPLAY_NAME_MAX_LENGTH = 100;
// Proton's TemplateVersionPart, without 0: the first major Proton opens is 1.
const MAJOR_VERSION = /^[1-9]\d*$/;
const TEMPLATE_VERSION_PART_MAX_LENGTH = 20;

/** `arn:<partition>:proton:<region>:<account>:<resource>/<name>`, resource being environment-template or service-template. */
export function templateArn(stack: Stack, resource: 'environment-template' | 'service-template', name: string): string {
  return stack.formatArn({ service: 'proton', resource, resourceName: name });
}

/** Validation shared by both kinds of template. */
export function checkTemplateProps(
  scope: IConstruct, nameProperty: string, name: string | undefined, displayName: string | undefined, description: string | undefined,
): void {
  if (name !== undefined) {
    checkResourceName(scope, nameProperty, name);
  }
  if (displayName !== undefined && !Token.isUnresolved(displayName)
    && (displayName.length < 1 || displayName.length > DISPLAY_NAME_MAX_LENGTH)) {
    throw new Error(`${scope.node.path}: displayName "${displayName}" is ${displayName.length} characters long; ` +
      `Proton accepts 1 to ${DISPLAY_NAME_MAX_LENGTH}`);
  }
  checkDescription(scope, description);
}

/** Throws when a literal major version is not one Proton can open ('1', '2', ... without leading zeros). */
export function checkMajorVersion(scope: IConstruct, property: string, majorVersion: string): void {
  if (Token.isUnresolved(majorVersion)) return;
  if (!MAJOR_VERSION.test(majorVersion) || majorVersion.length > TEMPLATE_VERSION_PART_MAX_LENGTH) {
    throw new Error(`${scope.node.path}: ${property} "${majorVersion}" is not a major version number; ` +
      `use a whole number from 1, without leading zeros and at most ${TEMPLATE_VERSION_PART_MAX_LENGTH} digits ('1', '2', ...)`);
  }
}

const MINOR_VERSION = /^(0|[1-9]\d*)$/;

/** Throws when a literal minor version is not one of Proton's numbers ('0', '1', ... without leading zeros). */
export function checkMinorVersion(scope: IConstruct, property: string, minorVersion: string): void {
  if (Token.isUnresolved(minorVersion)) return;
  if (!MINOR_VERSION.test(minorVersion) || minorVersion.length > TEMPLATE_VERSION_PART_MAX_LENGTH) {
    throw new Error(`${scope.node.path}: ${property} "${minorVersion}" is not a minor version number; ` +
      `use a whole number from 0, without leading zeros and at most ${TEMPLATE_VERSION_PART_MAX_LENGTH} digits ('0', '1', ...)`);
  }
}

const OWN_VERSION = Symbol.for('cdk-proton.OwnTemplateVersion');
const PINNED_MINOR = Symbol.for('cdk-proton.PinnedMinorVersion');

/** Marks an imported template version with the minor it pins (undefined: resolved at deploy time). */
export function markImportedVersion(version: IConstruct, minorVersion: string | undefined): void {
  (version as any)[PINNED_MINOR] = minorVersion;
}

/** The error of reading the minor of a version imported without one. */
export function unresolvedMinor(version: IConstruct, property: string): never {
  throw new Error(`${version.node.path}: ${property} is not known at synth time: the version was imported without a minorVersion, so `
    + 'the handler resolves it at deploy time (from the bundle, or the major\'s recommended minor). Pass minorVersion to pin one');
}

/** Marks a template version construct this app registers (as opposed to an imported one). */
export function markOwnVersion(version: IConstruct): void {
  (version as any)[OWN_VERSION] = true;
}

/** How an environment or service designates its template version on the wire (see VersionSelector in lambda/). */
export interface TemplateVersionSelector {
  readonly majorVersion: string;
  /** A pinned minor (imported versions only). */
  readonly minorVersion?: string;
  /** The bundle's content hash: the handler finds the version registered from it. */
  readonly bundleHash?: string;
  /** The version construct when this app registers it (for ordering). */
  readonly definedBy?: IConstruct;
}

/**
 * A version this app registers is found by its bundle (its minor is a deploy-time token that must not cross stacks);
 * an imported one by its pinned minor, else its bundle, else the major's recommended minor.
 */
type TemplateVersionLike = IConstruct & { majorVersion: string; minorVersion?: string; bundle?: TemplateBundle };

export function templateVersionSelector(version: TemplateVersionLike): TemplateVersionSelector {
  if ((version as any)[OWN_VERSION] === true) {
    return { majorVersion: version.majorVersion, bundleHash: version.bundle!.contentHash, definedBy: version };
  }
  const pinned: string | undefined = PINNED_MINOR in version ? (version as any)[PINNED_MINOR] : version.minorVersion;
  return pinned !== undefined
    ? { majorVersion: version.majorVersion, minorVersion: pinned }
    : { majorVersion: version.majorVersion, bundleHash: version.bundle?.contentHash };
}

/** The removal policy of each template defined in this app (imported templates are absent). */
const templateRemovalPolicies = new WeakMap<IConstruct, RemovalPolicy>();

export function recordTemplateRemovalPolicy(template: IConstruct, removalPolicy: RemovalPolicy): void {
  templateRemovalPolicies.set(template, removalPolicy);
}

/** What both template version constructs send to their custom resource. */
export interface TemplateVersionResourceOptions {
  readonly resourceType: string;
  /** 'Environment' or 'Service': the Proton API's operation infix. */
  readonly apiKind: 'Environment' | 'Service';
  readonly template: IConstruct;
  readonly templateName: string;
  readonly templateArn: string;
  readonly bundle: TemplateBundle;
  readonly bundleKind: TemplateBundleKind;
  readonly customerManaged: boolean;
  readonly majorVersion: string;
  readonly description?: string;
  readonly publish: boolean;
  readonly removalPolicy?: RemovalPolicy;
  /** The user's tags (the handler adds and keeps its own `cdk-proton:*` ones). */
  readonly tags: TagManager;
  /** Service versions only, in the wire format (src/private/properties.ts). */
  readonly extraProperties?: { [name: string]: string };
}

/**
 * The custom resource of a template version, served by the stack's Proton provider, whose role gets only the calls the
 * handler makes on this template's versions and read access to this bundle's object.
 */
export function defineTemplateVersionResource(scope: Construct, options: TemplateVersionResourceOptions): CustomResource {
  const versionKept = options.removalPolicy !== undefined && options.removalPolicy !== RemovalPolicy.DESTROY;
  if (versionKept && templateRemovalPolicies.get(options.template) === RemovalPolicy.DESTROY) {
    Annotations.of(scope).addWarningV2('cdk-proton:retainedVersionOfDeletedTemplate',
      `removalPolicy ${options.removalPolicy} keeps this version in Proton, but its template ${options.template.node.path} is ` +
      'deleted with the stack, and Proton deletes a template only once it has no versions: retain the template too.');
  }
  const bundle = options.bundle.bind(scope, { kind: options.bundleKind, customerManaged: options.customerManaged });
  ownTemplateMajors.get(options.template)?.add(options.majorVersion);
  const byMajor = versionsByTemplate.get(options.template) ?? new Map<string, IConstruct[]>();
  versionsByTemplate.set(options.template, byMajor);
  byMajor.set(options.majorVersion, [...byMajor.get(options.majorVersion) ?? [], scope]);
  if (!Token.isUnresolved(options.templateName) && !Token.isUnresolved(options.majorVersion)) {
    // Versions are content-addressed: two constructs registering one bundle in one major would share a Proton version.
    claimName(scope, `${options.apiKind.toLowerCase()} template version`,
      `${options.templateName} major ${options.majorVersion} bundle ${options.bundle.contentHash.slice(0, 12)}`,
      'bundle', `the same bundle registered twice in one major of a template is one Proton version: ${options.bundle.directory}`);
  }
  const provider = ProtonProvider.of(scope);
  const kind = options.apiKind;
  provider.grantOn(kind === 'Environment' ? 'environment-template' : 'service-template', options.templateName, [
    `proton:Create${kind}TemplateVersion`,
    `proton:Get${kind}TemplateVersion`,
    `proton:Update${kind}TemplateVersion`,
    `proton:Delete${kind}TemplateVersion`,
    `proton:List${kind}TemplateVersions`,
    `proton:Get${kind}Template`,
    'proton:TagResource', 'proton:UntagResource', 'proton:ListTagsForResource',
  ]);
  const inStackBundleBucket = provider.grantBundleRead(bundle.bucketName, bundle.objectKey);
  const usualObjectKey = bundle.objectKey === usualBundleObjectKey(options.bundle.contentHash);
  return withDefaultRemovalPolicyOmitted(provider.customResource(scope, 'Resource', {
    resourceType: options.resourceType,
    removalPolicy: options.removalPolicy,
    properties: {
      [TemplateVersionProperties.TEMPLATE_NAME]: options.templateName,
      [TemplateVersionProperties.MAJOR_VERSION]: options.majorVersion,
      ...(options.description !== undefined ? { [TemplateVersionProperties.DESCRIPTION]: options.description } : {}),
      // Absent means published (the handler's default), the usual case: one line less per version.
      ...(options.publish ? {} : { [TemplateVersionProperties.PUBLISH]: 'false' }),
      // The stack's bundle bucket is in the handler's environment: named here only when the bundle is elsewhere.
      ...(inStackBundleBucket ? {} : { [TemplateVersionProperties.SOURCE_S3_BUCKET]: bundle.bucketName }),
      // The usual key is derived from the bundle hash by the handler: named here only when the synthesizer chose another.
      ...(usualObjectKey ? {} : { [TemplateVersionProperties.SOURCE_S3_KEY]: bundle.objectKey }),
      [TemplateVersionProperties.BUNDLE_HASH]: options.bundle.contentHash,
      ...options.extraProperties,
      // Tags.of() adds tags until synth: rendered then, absent when there are none.
      [TemplateVersionProperties.TAGS]: Lazy.string({ produce: () => renderTags(scope, options.tags) }),
    },
  }), options.removalPolicy);
}

/**
 * CloudFormation deletes a resource that has no DeletionPolicy or UpdateReplacePolicy, so DESTROY (the default) writes
 * neither: two lines less on each of the many template and version resources of a large platform stack.
 */
function withDefaultRemovalPolicyOmitted(resource: CustomResource, removalPolicy: RemovalPolicy | undefined): CustomResource {
  if ((removalPolicy ?? RemovalPolicy.DESTROY) === RemovalPolicy.DESTROY) {
    const cfn = resource.node.defaultChild as CfnResource;
    cfn.cfnOptions.deletionPolicy = undefined;
    cfn.cfnOptions.updateReplacePolicy = undefined;
  }
  return resource;
}

/** The majors this app's version constructs declare, per template this app creates (not imported, not adopted). */
const ownTemplateMajors = new WeakMap<IConstruct, Set<string>>();

/** The version constructs of each template this app defines, by declared major. */
const versionsByTemplate = new WeakMap<IConstruct, Map<string, IConstruct[]>>();

/** The version constructs the app defines for a template's major (none for an imported template). */
export function definedVersions(template: IConstruct, majorVersion: string): IConstruct[] {
  return versionsByTemplate.get(template)?.get(majorVersion) ?? [];
}

/** The majors declared for a template this app creates, or undefined for a template it imports or adopts. */
export function declaredMajors(template: IConstruct): ReadonlySet<string> | undefined {
  return ownTemplateMajors.get(template);
}

/** What both template constructs send to their custom resource. */
export interface TemplateResourceOptions {
  readonly kind: 'Environment' | 'Service';
  readonly templateName: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly encryptionKeyArn?: string;
  readonly provisioning?: string;
  readonly tags: TagManager;
  readonly adoptExisting: boolean;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The custom resource of a template (Custom::ProtonEnvironmentTemplate or Custom::ProtonServiceTemplate), served by the
 * stack's Proton provider like every other Proton resource: aws-cdk-lib's `AWS::Proton::*` types are for a service
 * that was shut down (cdk synth --strict fails on their W3696 warning), and a custom resource can adopt on request.
 */
export function defineTemplateResource(scope: Construct, options: TemplateResourceOptions): CustomResource {
  const kind = options.kind;
  if (!Token.isUnresolved(options.templateName)) {
    claimName(scope, `${kind.toLowerCase()} template`, options.templateName, `${kind.toLowerCase()}TemplateName`);
  }
  if (!options.adoptExisting) {
    // A template this app creates starts with no versions: Proton numbers its majors from 1, one after the other.
    const majors = new Set<string>();
    ownTemplateMajors.set(scope, majors);
    scope.node.addValidation({
      validate: () => {
        const declared = [...majors].filter(m => !Token.isUnresolved(m)).map(Number).sort((a, b) => a - b);
        const highest = declared.length ? declared[declared.length - 1] : 0;
        const missing = Array.from({ length: highest }, (_, i) => i + 1).filter(m => !declared.includes(m));
        return missing.length === 0 ? [] : [`${scope.node.path}: its versions declare majorVersion ${declared.join(', ')} but no version of major `
          + `${missing.join(', ')}: Proton numbers a new template's majors from 1 in sequence. Declare versions of every major from 1, `
          + 'or set adoptExisting on a template that already has versions in Proton'];
      },
    });
  }
  const provider = ProtonProvider.of(scope);
  provider.grantOn(kind === 'Environment' ? 'environment-template' : 'service-template', options.templateName, [
    `proton:Create${kind}Template`, `proton:Get${kind}Template`, `proton:Update${kind}Template`, `proton:Delete${kind}Template`,
    `proton:List${kind}TemplateVersions`, `proton:Delete${kind}TemplateVersion`,
    'proton:TagResource', 'proton:UntagResource', 'proton:ListTagsForResource',
  ]);
  // Not 'Resource', the id of the AWS::Proton::* resource of cdk-proton 0.1: CloudFormation can't change a resource's
  // type in place, so a new logical id makes upgrading a 0.1 stack a replacement (see the README).
  return withDefaultRemovalPolicyOmitted(provider.customResource(scope, 'Template', {
    resourceType: kind === 'Environment' ? ResourceTypes.ENVIRONMENT_TEMPLATE : ResourceTypes.SERVICE_TEMPLATE,
    removalPolicy: options.removalPolicy,
    properties: definedProperties({
      [TemplateProperties.TEMPLATE_NAME]: options.templateName,
      [TemplateProperties.DISPLAY_NAME]: options.displayName,
      [TemplateProperties.DESCRIPTION]: options.description,
      [TemplateProperties.ENCRYPTION_KEY]: options.encryptionKeyArn,
      [TemplateProperties.PROVISIONING]: options.provisioning,
      [TemplateProperties.ADOPT_EXISTING]: options.adoptExisting ? 'true' : undefined,
      [TemplateProperties.TAGS]: Lazy.string({ produce: () => renderTags(scope, options.tags) }),
    }),
  }), options.removalPolicy);
}

/**
 * The calls an environment or service makes on its template's versions: resolving the version registered from its
 * bundle (versions and their tags), and deleting superseded versions once nothing runs on them.
 */
export const TEMPLATE_VERSION_READ_AND_COLLECT = (kind: 'Environment' | 'Service') => [
  `proton:List${kind}TemplateVersions`, `proton:Get${kind}TemplateVersion`, `proton:Delete${kind}TemplateVersion`,
  'proton:ListTagsForResource',
];

/**
 * An environment or service deploys after the version it runs on: within a stack, and across stacks of one stage
 * (CDK makes that a stack dependency). Stages are ordered by their pipeline; CDK forbids dependencies across them.
 */
export function dependOnTemplateVersion(resource: IConstruct, selector: TemplateVersionSelector): void {
  const version = selector.definedBy;
  if (version && Stage.of(version) === Stage.of(resource)) {
    resource.node.addDependency(version);
  }
}

/** A custom resource's attribute tokens, each made when first read: most versions' are never read, and each costs synth time. */
export class LazyAttributes {
  private readonly tokens = new Map<string, string>();
  constructor(private readonly resource: CustomResource) {}

  public get(name: string): string {
    let token = this.tokens.get(name);
    if (token === undefined) {
      token = this.resource.getAttString(name);
      this.tokens.set(name, token);
    }
    return token;
  }
}
