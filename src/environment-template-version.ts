import { IResource, ITaggable, RemovalPolicy, Resource, TagManager, TagType } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IEnvironmentTemplate, Provisioning } from './environment-template';
import { ResourceTypes, TemplateVersionAttributes } from './private/properties';
import { checkMajorVersion, checkMinorVersion, markImportedVersion, unresolvedMinor, defineTemplateVersionResource, LazyAttributes, markOwnVersion } from './private/template';
import { checkDescription, checkTags } from './private/workload';
import { TemplateBundle, TemplateBundleKind } from './template-bundle';

/**
 * A version of a Proton environment template.
 */
export interface IEnvironmentTemplateVersion extends IResource {
  /**
   * The template this is a version of.
   */
  readonly template: IEnvironmentTemplate;

  /**
   * The major version, e.g. '1'.
   *
   * @attribute
   */
  readonly majorVersion: string;

  /**
   * The minor version, e.g. '0': for a version this app defines, a token Proton's numbering fills in at deploy time
   * (don't pass it to another stack: environments and services find the version by its bundle, so a platform upgrade
   * changes no export); for an imported version, the pinned minor it was imported with.
   *
   * Reading it from a version imported without a pinned minor is an error: that minor is resolved at deploy time.
   *
   * @attribute
   */
  readonly minorVersion: string;

  /**
   * The version's ARN: the template's ARN followed by `:<major>.<minor>`.
   *
   * Reading it from a version imported without a pinned minor is an error: that minor is resolved at deploy time.
   *
   * @attribute
   */
  readonly templateVersionArn: string;

  /**
   * The bundle the version was registered from, so environments can validate their specs at synth time.
   *
   * @default - unknown: the version is imported
   */
  readonly bundle?: TemplateBundle;
}

/**
 * Properties of an EnvironmentTemplateVersion.
 */
export interface EnvironmentTemplateVersionProps {
  /**
   * The template to register the version in.
   */
  readonly template: IEnvironmentTemplate;

  /**
   * The template bundle: `schema/` and `infrastructure/` (only `schema/` when the template's provisioning is
   * CUSTOMER_MANAGED).
   */
  readonly bundle: TemplateBundle;

  /**
   * The major version the version belongs to. A major that exists gets a new minor version; a major with no versions
   * yet is opened by Proton, which numbers majors itself: after a template's versions were all deleted it may give the
   * new major another number, which the handler accepts and records (environments and services still find the version
   * by this declared major and the bundle). Deploy a new major's first version before adding others to it.
   *
   * @default '1'
   */
  readonly majorVersion?: string;

  /**
   * A description of the version (at most 500 characters). Changing it updates the version in place.
   *
   * @default - none
   */
  readonly description?: string;

  /**
   * Whether to publish the version once registered, so environments can use it. Changing false to true publishes the
   * version in place; true to false registers a new (draft) version, since Proton cannot unpublish.
   *
   * @default true
   */
  readonly publish?: boolean;

  /**
   * What happens to the version in Proton when it is removed from the stack or replaced (a new bundle or major
   * version registers a new minor version, and CloudFormation then deletes the old one).
   *
   * Proton refuses to delete a version that something runs on, and a recommended (highest published) version while
   * older ones exist: such a version is then kept, tagged `cdk-proton:superseded`, and deleted by whichever deployment
   * frees it (an environment or service moving off it or being deleted); the stack's update or deletion never waits.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Tags for the version in Proton (at most 47: Proton allows 50 per resource and the library uses up to 3 of its own,
   * `cdk-proton:*`, which are kept). Sent when the version is registered and kept in sync in place on update; tags
   * added with `Tags.of(scope).add(...)` are applied too.
   *
   * @default - none
   */
  readonly tags?: { [key: string]: string };
}

/**
 * Attributes of an environment template version defined outside this stack.
 */
export interface EnvironmentTemplateVersionAttributes {
  /**
   * The template the version belongs to.
   */
  readonly template: IEnvironmentTemplate;

  /**
   * The major version, e.g. '1'.
   */
  readonly majorVersion: string;

  /**
   * A pinned minor version, e.g. '0'. Environments and services on a pinned minor stay on it when the platform
   * publishes a new one (and keep Proton from deleting it); prefer `bundle`, which follows the platform's versions.
   *
   * @default - the version registered from `bundle` when given, otherwise the major's recommended (latest published)
   * minor, resolved at each deployment
   */
  readonly minorVersion?: string;

  /**
   * The bundle the version was registered from: environments and services deploy the version registered from it
   * (found by its content hash at deploy time: a platform upgrade changes no export and moves them when they deploy
   * next), and validate their specs against its schema at synth time. A team stack or pipeline stage gives the same
   * bundle folder the platform registers.
   *
   * @default - specs are validated by Proton at deploy time only; without minorVersion, the major's recommended minor
   */
  readonly bundle?: TemplateBundle;
}

/**
 * A version of a Proton environment template, registered from a template bundle folder and published by default.
 *
 * Proton assigns the minor version, so `minorVersion` and `templateVersionArn` are known at deploy time only. The version
 * is content-addressed: deploying the same bundle again (a re-delivered event, a rolled-back upgrade's leftover) adopts
 * the version registered from it instead of registering a duplicate; its `cdk-proton:bundle-sha256` tag records the hash.
 */
export class EnvironmentTemplateVersion extends Resource implements IEnvironmentTemplateVersion, ITaggable {
  /**
   * Imports an environment template version.
   */
  public static fromEnvironmentTemplateVersionAttributes(
    scope: Construct, id: string, attrs: EnvironmentTemplateVersionAttributes,
  ): IEnvironmentTemplateVersion {
    class Import extends Resource implements IEnvironmentTemplateVersion {
      public readonly template = attrs.template;
      public readonly majorVersion = attrs.majorVersion;
      public get minorVersion(): string {
        return attrs.minorVersion ?? unresolvedMinor(this, 'minorVersion');
      }
      public get templateVersionArn(): string {
        return `${attrs.template.environmentTemplateArn}:${attrs.majorVersion}.${attrs.minorVersion ?? unresolvedMinor(this, 'templateVersionArn')}`;
      }
      public readonly bundle = attrs.bundle;
    }
    const imported = new Import(scope, id);
    checkMajorVersion(imported, 'majorVersion', attrs.majorVersion);
    if (attrs.minorVersion !== undefined) checkMinorVersion(imported, 'minorVersion', attrs.minorVersion);
    markImportedVersion(imported, attrs.minorVersion);
    return imported;
  }

  /** The template this is a version of. */
  public readonly template: IEnvironmentTemplate;
  /** The major version. */
  public readonly majorVersion: string;
  private readonly attributes: LazyAttributes;

  /** The minor version Proton assigned (a token). */
  public get minorVersion(): string {
    return this.attributes.get(TemplateVersionAttributes.MINOR_VERSION);
  }
  /** The version's ARN (a token). */
  public get templateVersionArn(): string {
    return this.attributes.get(TemplateVersionAttributes.TEMPLATE_VERSION_ARN);
  }
  /** The bundle the version is registered from. */
  public readonly bundle?: TemplateBundle;
  /** Tags applied to the Proton template version. */
  public readonly tags: TagManager;

  constructor(scope: Construct, id: string, props: EnvironmentTemplateVersionProps) {
    super(scope, id);
    this.template = props.template;
    this.bundle = props.bundle;
    this.majorVersion = props.majorVersion ?? '1';
    checkMajorVersion(this, 'majorVersion', this.majorVersion);
    checkDescription(this, props.description);
    checkTags(this, Object.entries(props.tags ?? {}).map(([Key, Value]) => ({ Key, Value })));
    this.tags = new TagManager(TagType.KEY_VALUE, ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION, props.tags);
    const resource = defineTemplateVersionResource(this, {
      resourceType: ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION,
      template: props.template,
      apiKind: 'Environment',
      templateName: props.template.environmentTemplateName,
      templateArn: props.template.environmentTemplateArn,
      bundle: props.bundle,
      bundleKind: TemplateBundleKind.ENVIRONMENT,
      customerManaged: props.template.provisioning === Provisioning.CUSTOMER_MANAGED,
      majorVersion: this.majorVersion,
      description: props.description,
      publish: props.publish ?? true,
      removalPolicy: props.removalPolicy,
      tags: this.tags,
    });
    // The template's name is a literal: the dependency makes CloudFormation create the template first and delete it last.
    resource.node.addDependency(props.template);
    markOwnVersion(this);
    this.attributes = new LazyAttributes(resource);
  }
}
