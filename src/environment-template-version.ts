import { IResource, RemovalPolicy, Resource } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IEnvironmentTemplate, Provisioning } from './environment-template';
import { ResourceTypes, TemplateVersionAttributes } from './private/properties';
import { checkMajorVersion, defineTemplateVersionResource } from './private/template';
import { checkDescription } from './private/workload';
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
   * The minor version Proton assigned, e.g. '0'.
   *
   * @attribute
   */
  readonly minorVersion: string;

  /**
   * The version's ARN: the template's ARN followed by `:<major>.<minor>`.
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
   * The major version the version belongs to. A major that exists gets a new minor version; a major that does not
   * exist yet must be the next one in sequence (Proton numbers majors itself), and its first version should be
   * deployed before other versions of that major are added (versions are registered in parallel).
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
   * Proton refuses to delete a version that environments run on; it deletes a recommended (highest published) version
   * only after the template's other versions, so when a stack is deleted the version waits a few minutes for them.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
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
   * The minor version, e.g. '0'.
   */
  readonly minorVersion: string;

  /**
   * The bundle the version was registered from, to validate environment specs at synth time.
   *
   * @default - specs are validated by Proton at deploy time only
   */
  readonly bundle?: TemplateBundle;
}

/**
 * A version of a Proton environment template, registered from a template bundle folder and published by default.
 *
 * Proton assigns the minor version, so `minorVersion` and `templateVersionArn` are known at deploy time only.
 */
export class EnvironmentTemplateVersion extends Resource implements IEnvironmentTemplateVersion {
  /**
   * Imports an environment template version.
   */
  public static fromEnvironmentTemplateVersionAttributes(
    scope: Construct, id: string, attrs: EnvironmentTemplateVersionAttributes,
  ): IEnvironmentTemplateVersion {
    class Import extends Resource implements IEnvironmentTemplateVersion {
      public readonly template = attrs.template;
      public readonly majorVersion = attrs.majorVersion;
      public readonly minorVersion = attrs.minorVersion;
      public readonly templateVersionArn = `${attrs.template.environmentTemplateArn}:${attrs.majorVersion}.${attrs.minorVersion}`;
      public readonly bundle = attrs.bundle;
    }
    const imported = new Import(scope, id);
    checkMajorVersion(imported, 'majorVersion', attrs.majorVersion);
    return imported;
  }

  /** The template this is a version of. */
  public readonly template: IEnvironmentTemplate;
  /** The major version. */
  public readonly majorVersion: string;
  /** The minor version Proton assigned (a token). */
  public readonly minorVersion: string;
  /** The version's ARN (a token). */
  public readonly templateVersionArn: string;
  /** The bundle the version is registered from. */
  public readonly bundle?: TemplateBundle;

  constructor(scope: Construct, id: string, props: EnvironmentTemplateVersionProps) {
    super(scope, id);
    this.template = props.template;
    this.bundle = props.bundle;
    this.majorVersion = props.majorVersion ?? '1';
    checkMajorVersion(this, 'majorVersion', this.majorVersion);
    checkDescription(this, props.description);
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
    });
    // The template's name is a literal: the dependency makes CloudFormation create the template first and delete it last.
    resource.node.addDependency(props.template);
    this.minorVersion = resource.getAttString(TemplateVersionAttributes.MINOR_VERSION);
    this.templateVersionArn = resource.getAttString(TemplateVersionAttributes.TEMPLATE_VERSION_ARN);
  }
}
