import { IResource, ITaggable, RemovalPolicy, Resource, TagManager, TagType, Stack, Stage, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IEnvironmentTemplate, Provisioning } from './environment-template';
import { ResourceTypes, TemplateVersionAttributes, TemplateVersionProperties } from './private/properties';
import {
  checkMajorVersion, checkMinorVersion, declaredMajors, definedVersions, defineTemplateVersionResource, LazyAttributes, markImportedVersion,
  markOwnVersion, unresolvedMinor,
} from './private/template';
import { checkDescription, checkTags } from './private/workload';
import { IServiceTemplate } from './service-template';
import { TemplateBundle, TemplateBundleKind } from './template-bundle';

/**
 * An environment template major version that a service template version's instances can run in.
 */
export interface CompatibleEnvironmentTemplate {
  /**
   * The environment template.
   */
  readonly template: IEnvironmentTemplate;

  /**
   * The environment template's major version, e.g. '1'.
   */
  readonly majorVersion: string;
}

/**
 * A source of components that service instances of a template version may attach.
 */
export enum ComponentSource {
  /** Components defined directly, with their own infrastructure as code (Proton's `DIRECTLY_DEFINED`). */
  DIRECTLY_DEFINED = 'DIRECTLY_DEFINED',
}

/**
 * A version of a Proton service template.
 */
export interface IServiceTemplateVersion extends IResource {
  /**
   * The template this is a version of.
   */
  readonly template: IServiceTemplate;

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
   * The bundle the version was registered from, so services can validate their specs at synth time.
   *
   * @default - unknown: the version is imported
   */
  readonly bundle?: TemplateBundle;

  /**
   * The environment template major versions the version's service instances can run in.
   */
  readonly compatibleEnvironmentTemplates: CompatibleEnvironmentTemplate[];
}

/**
 * Properties of an ServiceTemplateVersion.
 */
export interface ServiceTemplateVersionProps {
  /**
   * The template to register the version in.
   */
  readonly template: IServiceTemplate;

  /**
   * The template bundle: `schema/`, `instance_infrastructure/` and `pipeline_infrastructure/` (no
   * `pipeline_infrastructure/` when the template's pipeline provisioning is CUSTOMER_MANAGED).
   */
  readonly bundle: TemplateBundle;

  /**
   * The environment template major versions the service instances can run in: 1 to 10, updated in place.
   */
  readonly compatibleEnvironmentTemplates: CompatibleEnvironmentTemplate[];

  /**
   * The component sources service instances of this version may attach; updated in place (attachments made
   * before a change are kept).
   *
   * @default - none: service instances can't attach components
   */
  readonly supportedComponentSources?: ComponentSource[];

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
   * Whether to publish the version once registered, so services can use it. Changing false to true publishes the
   * version in place; true to false registers a new (draft) version, since Proton cannot unpublish.
   *
   * @default true
   */
  readonly publish?: boolean;

  /**
   * What happens to the version in Proton when it is removed from the stack or replaced (a new bundle or major
   * version registers a new minor version, and CloudFormation then deletes the old one).
   *
   * Proton refuses to delete a version that service instances or pipelines run on, and a recommended (highest published)
   * version while older ones exist: such a version is then kept, tagged `cdk-proton:superseded`, and deleted by whichever
   * deployment frees it (a service moving off it or being deleted); the stack's update or deletion never waits.
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
 * Attributes of an service template version defined outside this stack.
 */
export interface ServiceTemplateVersionAttributes {
  /**
   * The template the version belongs to.
   */
  readonly template: IServiceTemplate;

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

  /**
   * The environment template major versions the version's service instances can run in.
   */
  readonly compatibleEnvironmentTemplates: CompatibleEnvironmentTemplate[];
}

/**
 * A version of a Proton service template, registered from a template bundle folder and published by default.
 *
 * Proton assigns the minor version, so `minorVersion` and `templateVersionArn` are known at deploy time only. The version
 * is content-addressed: deploying the same bundle again (a re-delivered event, a rolled-back upgrade's leftover) adopts
 * the version registered from it instead of registering a duplicate; its `cdk-proton:bundle-sha256` tag records the hash.
 */
export class ServiceTemplateVersion extends Resource implements IServiceTemplateVersion, ITaggable {
  /**
   * Imports an service template version.
   */
  public static fromServiceTemplateVersionAttributes(
    scope: Construct, id: string, attrs: ServiceTemplateVersionAttributes,
  ): IServiceTemplateVersion {
    class Import extends Resource implements IServiceTemplateVersion {
      public readonly template = attrs.template;
      public readonly majorVersion = attrs.majorVersion;
      public get minorVersion(): string {
        return attrs.minorVersion ?? unresolvedMinor(this, 'minorVersion');
      }
      public get templateVersionArn(): string {
        return `${attrs.template.serviceTemplateArn}:${attrs.majorVersion}.${attrs.minorVersion ?? unresolvedMinor(this, 'templateVersionArn')}`;
      }
      public readonly bundle = attrs.bundle;
      public readonly compatibleEnvironmentTemplates = attrs.compatibleEnvironmentTemplates;
    }
    const imported = new Import(scope, id);
    checkMajorVersion(imported, 'majorVersion', attrs.majorVersion);
    if (attrs.minorVersion !== undefined) checkMinorVersion(imported, 'minorVersion', attrs.minorVersion);
    markImportedVersion(imported, attrs.minorVersion);
    checkCompatibleEnvironmentTemplates(imported, attrs.compatibleEnvironmentTemplates);
    return imported;
  }

  /** The template this is a version of. */
  public readonly template: IServiceTemplate;
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
  /** The environment template major versions the version's service instances can run in. */
  public readonly compatibleEnvironmentTemplates: CompatibleEnvironmentTemplate[];
  /** The sources of the components the version's service instances may attach (none: no components). */
  public readonly supportedComponentSources: ComponentSource[];

  constructor(scope: Construct, id: string, props: ServiceTemplateVersionProps) {
    super(scope, id);
    this.template = props.template;
    this.bundle = props.bundle;
    this.compatibleEnvironmentTemplates = props.compatibleEnvironmentTemplates;
    this.majorVersion = props.majorVersion ?? '1';
    checkMajorVersion(this, 'majorVersion', this.majorVersion);
    checkDescription(this, props.description);
    checkTags(this, Object.entries(props.tags ?? {}).map(([Key, Value]) => ({ Key, Value })));
    this.tags = new TagManager(TagType.KEY_VALUE, ResourceTypes.SERVICE_TEMPLATE_VERSION, props.tags);
    checkCompatibleEnvironmentTemplates(this, props.compatibleEnvironmentTemplates);
    const componentSources = [...new Set(props.supportedComponentSources ?? [])];
    this.supportedComponentSources = componentSources;
    const resource = defineTemplateVersionResource(this, {
      resourceType: ResourceTypes.SERVICE_TEMPLATE_VERSION,
      template: props.template,
      apiKind: 'Service',
      templateName: props.template.serviceTemplateName,
      templateArn: props.template.serviceTemplateArn,
      bundle: props.bundle,
      bundleKind: TemplateBundleKind.SERVICE,
      customerManaged: props.template.pipelineProvisioning === Provisioning.CUSTOMER_MANAGED,
      majorVersion: this.majorVersion,
      description: props.description,
      publish: props.publish ?? true,
      removalPolicy: props.removalPolicy,
      tags: this.tags,
      extraProperties: {
        [TemplateVersionProperties.COMPATIBLE_ENVIRONMENT_TEMPLATES]: Stack.of(this).toJsonString(
          props.compatibleEnvironmentTemplates.map(c => ({ templateName: c.template.environmentTemplateName, majorVersion: c.majorVersion }))),
        ...(componentSources.length ? { [TemplateVersionProperties.SUPPORTED_COMPONENT_SOURCES]: JSON.stringify(componentSources) } : {}),
      },
    });
    // The template's name is a literal: the dependency makes CloudFormation create the template first and delete it last.
    resource.node.addDependency(props.template, ...props.compatibleEnvironmentTemplates.map(c => c.template));
    // Proton registers a service version only once the compatible environment template majors exist: the app's own
    // versions of them deploy first (within one stage; stages are ordered by their pipeline).
    for (const compatible of props.compatibleEnvironmentTemplates) {
      for (const version of definedVersions(compatible.template, compatible.majorVersion)) {
        if (Stage.of(version) === Stage.of(this)) resource.node.addDependency(version);
      }
    }
    this.node.addValidation({
      validate: () => props.compatibleEnvironmentTemplates.flatMap((c, i) => {
        const majors = declaredMajors(c.template);
        return majors && !Token.isUnresolved(c.majorVersion) && !majors.has(c.majorVersion)
          ? [`${this.node.path}: compatibleEnvironmentTemplates[${i}] names major ${c.majorVersion} of ${c.template.node.path}, which this app `
            + `creates with no version of that major (its majors: ${[...majors].sort().join(', ') || 'none'}): Proton refuses to register the version`]
          : [];
      }),
    });
    markOwnVersion(this);
    this.attributes = new LazyAttributes(resource);
  }
}

const MAX_COMPATIBLE_ENVIRONMENT_TEMPLATES = 10;

function checkCompatibleEnvironmentTemplates(scope: Construct, compatible: CompatibleEnvironmentTemplate[]): void {
  if (compatible.length < 1 || compatible.length > MAX_COMPATIBLE_ENVIRONMENT_TEMPLATES) {
    throw new Error(`${scope.node.path}: compatibleEnvironmentTemplates has ${compatible.length} entries; ` +
      `Proton accepts 1 to ${MAX_COMPATIBLE_ENVIRONMENT_TEMPLATES}`);
  }
  const seen = new Set<string>();
  compatible.forEach((entry, index) => {
    checkMajorVersion(scope, `compatibleEnvironmentTemplates[${index}].majorVersion`, entry.majorVersion);
    const name = entry.template.environmentTemplateName;
    if (Token.isUnresolved(name) || Token.isUnresolved(entry.majorVersion)) return;
    const key = `${name}:${entry.majorVersion}`;
    if (seen.has(key)) {
      throw new Error(`${scope.node.path}: compatibleEnvironmentTemplates[${index}] repeats ${name} major version ` +
        `${entry.majorVersion}; list each environment template major version once`);
    }
    seen.add(key);
  });
}
