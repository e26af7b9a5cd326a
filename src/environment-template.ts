import { IResource, ITaggable, RemovalPolicy, Resource, Stack, TagManager, TagType, aws_iam as iam, aws_kms as kms } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { checkTemplateProps, defineTemplateResource, recordTemplateRemovalPolicy, templateArn } from './private/template';
import { checkResourceName, generateResourceName } from './private/workload';

/**
 * Who provisions the infrastructure of a template's resources.
 */
export enum Provisioning {
  /**
   * Provisioned outside Proton (for example by your own CloudFormation stacks or pipelines): Proton only records
   * the outputs. Environment template bundles then hold only `schema/`; service templates have no Proton pipeline.
   */
  CUSTOMER_MANAGED = 'CUSTOMER_MANAGED',
}

/**
 * A Proton environment template.
 */
export interface IEnvironmentTemplate extends IResource {
  /**
   * The template's name.
   *
   * @attribute
   */
  readonly environmentTemplateName: string;

  /**
   * The template's ARN: `arn:<partition>:proton:<region>:<account>:environment-template/<name>`.
   *
   * @attribute
   */
  readonly environmentTemplateArn: string;

  /**
   * Whether environments of this template are provisioned outside Proton.
   *
   * @default - Proton provisions them
   */
  readonly provisioning?: Provisioning;

  /**
   * Grants reading the template and its versions.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/**
 * Properties of an EnvironmentTemplate.
 */
export interface EnvironmentTemplateProps {
  /**
   * The template's name: 1 to 100 letters, digits, `-` and `_`, starting with a letter or digit.
   *
   * @default - a unique name generated from the construct path
   */
  readonly environmentTemplateName?: string;

  /**
   * The name shown in the Proton console (1 to 100 characters).
   *
   * @default - none
   */
  readonly displayName?: string;

  /**
   * A description of the template (at most 500 characters).
   *
   * @default - none
   */
  readonly description?: string;

  /**
   * The customer managed KMS key Proton encrypts the template's data with.
   *
   * @default - an AWS managed key
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Who provisions environments of this template.
   *
   * @default - Proton provisions them
   */
  readonly provisioning?: Provisioning;

  /**
   * Whether a template of this name that already exists in Proton, and that no stack manages, is taken over by this
   * stack. Without it, such a template fails the deployment, naming what exists: two stacks must never silently manage
   * one template. Migrating a stack deployed with cdk-proton 0.1 (whose templates were `AWS::Proton::*` resources)
   * needs it once.
   *
   * @default false
   */
  readonly adoptExisting?: boolean;

  /**
   * What happens to the template when it is removed from the stack.
   *
   * A template is metadata the stack can define again, so it is deleted by default. Proton deletes a template only once
   * it has no versions left: CloudFormation deletes this stack's versions first (they depend on the template), but a
   * retained version, or one made outside the stack, keeps the template from being deleted; retain the template too then.
   *
   * @default - RemovalPolicy.RETAIN for an adopted template (`adoptExisting`), RemovalPolicy.DESTROY otherwise
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Attributes of an environment template defined outside this stack.
 */
export interface EnvironmentTemplateAttributes {
  /**
   * The template's name.
   */
  readonly environmentTemplateName: string;

  /**
   * Who provisions environments of the template.
   *
   * @default - Proton provisions them
   */
  readonly provisioning?: Provisioning;
}

abstract class EnvironmentTemplateBase extends Resource implements IEnvironmentTemplate {
  public abstract readonly environmentTemplateName: string;
  public abstract readonly environmentTemplateArn: string;
  public abstract readonly provisioning?: Provisioning;

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['proton:GetEnvironmentTemplate', 'proton:ListEnvironmentTemplateVersions', 'proton:GetEnvironmentTemplateVersion'],
      resourceArns: [this.environmentTemplateArn, `${this.environmentTemplateArn}:*`],
    });
  }
}

/**
 * A Proton environment template (`Custom::ProtonEnvironmentTemplate`, served by the stack's Proton provider). Register its versions with
 * `EnvironmentTemplateVersion`.
 */
export class EnvironmentTemplate extends EnvironmentTemplateBase implements ITaggable {
  /**
   * Imports an environment template by name.
   */
  public static fromEnvironmentTemplateName(scope: Construct, id: string, environmentTemplateName: string): IEnvironmentTemplate {
    return EnvironmentTemplate.fromEnvironmentTemplateAttributes(scope, id, { environmentTemplateName });
  }

  /**
   * Imports an environment template by name and provisioning.
   */
  public static fromEnvironmentTemplateAttributes(scope: Construct, id: string, attrs: EnvironmentTemplateAttributes): IEnvironmentTemplate {
    class Import extends EnvironmentTemplateBase {
      public readonly environmentTemplateName = attrs.environmentTemplateName;
      public readonly environmentTemplateArn = templateArn(Stack.of(scope), 'environment-template', attrs.environmentTemplateName);
      public readonly provisioning = attrs.provisioning;
    }
    const imported = new Import(scope, id);
    checkResourceName(imported, 'environmentTemplateName', attrs.environmentTemplateName);
    return imported;
  }

  /** The template's name. */
  public readonly environmentTemplateName: string;
  /** The template's ARN. */
  public readonly environmentTemplateArn: string;
  /** Tags applied to the Proton template. */
  public readonly tags: TagManager;
  /** Who provisions the template's environments; undefined when Proton does. */
  public readonly provisioning?: Provisioning;

  constructor(scope: Construct, id: string, props: EnvironmentTemplateProps = {}) {
    super(scope, id);
    checkTemplateProps(this, 'environmentTemplateName', props.environmentTemplateName, props.displayName, props.description);
    this.environmentTemplateName = props.environmentTemplateName ?? generateResourceName(this);
    this.provisioning = props.provisioning;
    const removalPolicy = props.removalPolicy ?? (props.adoptExisting ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    this.tags = new TagManager(TagType.KEY_VALUE, 'Custom::ProtonEnvironmentTemplate');
    defineTemplateResource(this, {
      kind: 'Environment',
      templateName: this.environmentTemplateName,
      displayName: props.displayName,
      description: props.description,
      encryptionKeyArn: props.encryptionKey?.keyArn,
      provisioning: props.provisioning,
      tags: this.tags,
      adoptExisting: props.adoptExisting ?? false,
      removalPolicy,
    });
    recordTemplateRemovalPolicy(this, removalPolicy);
    // Computed from the name, not read from the resource: other stacks use it without an export.
    this.environmentTemplateArn = templateArn(Stack.of(this), 'environment-template', this.environmentTemplateName);
  }
}
