import { IResource, ITaggable, RemovalPolicy, Resource, Stack, TagManager, TagType, aws_iam as iam, aws_kms as kms } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Provisioning } from './environment-template';
import { checkTemplateProps, defineTemplateResource, recordTemplateRemovalPolicy, templateArn } from './private/template';
import { checkResourceName, generateResourceName } from './private/workload';

/**
 * A Proton service template.
 */
export interface IServiceTemplate extends IResource {
  /**
   * The template's name.
   *
   * @attribute
   */
  readonly serviceTemplateName: string;

  /**
   * The template's ARN: `arn:<partition>:proton:<region>:<account>:service-template/<name>`.
   *
   * @attribute
   */
  readonly serviceTemplateArn: string;

  /**
   * Whether the pipelines of this template's services are provisioned outside Proton.
   *
   * @default - Proton provisions them
   */
  readonly pipelineProvisioning?: Provisioning;

  /**
   * Grants reading the template and its versions.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/**
 * Properties of an ServiceTemplate.
 */
export interface ServiceTemplateProps {
  /**
   * The template's name: 1 to 100 letters, digits, `-` and `_`, starting with a letter or digit.
   *
   * @default - a unique name generated from the construct path
   */
  readonly serviceTemplateName?: string;

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
   * Who provisions the pipelines of this template's services. CUSTOMER_MANAGED: the template has no Proton pipeline
   * and its bundles no `pipeline_infrastructure/`.
   *
   * @default - Proton provisions them
   */
  readonly pipelineProvisioning?: Provisioning;

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
 * Attributes of a service template defined outside this stack.
 */
export interface ServiceTemplateAttributes {
  /**
   * The template's name.
   */
  readonly serviceTemplateName: string;

  /**
   * Who provisions the pipelines of the template's services.
   *
   * @default - Proton provisions them
   */
  readonly pipelineProvisioning?: Provisioning;
}

abstract class ServiceTemplateBase extends Resource implements IServiceTemplate {
  public abstract readonly serviceTemplateName: string;
  public abstract readonly serviceTemplateArn: string;
  public abstract readonly pipelineProvisioning?: Provisioning;

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['proton:GetServiceTemplate', 'proton:ListServiceTemplateVersions', 'proton:GetServiceTemplateVersion'],
      resourceArns: [this.serviceTemplateArn, `${this.serviceTemplateArn}:*`],
    });
  }
}

/**
 * A Proton service template (`Custom::ProtonServiceTemplate`, served by the stack's Proton provider). Register its versions with
 * `ServiceTemplateVersion`.
 */
export class ServiceTemplate extends ServiceTemplateBase implements ITaggable {
  /**
   * Imports a service template by name.
   */
  public static fromServiceTemplateName(scope: Construct, id: string, serviceTemplateName: string): IServiceTemplate {
    return ServiceTemplate.fromServiceTemplateAttributes(scope, id, { serviceTemplateName });
  }

  /**
   * Imports a service template by name and pipeline provisioning.
   */
  public static fromServiceTemplateAttributes(scope: Construct, id: string, attrs: ServiceTemplateAttributes): IServiceTemplate {
    class Import extends ServiceTemplateBase {
      public readonly serviceTemplateName = attrs.serviceTemplateName;
      public readonly serviceTemplateArn = templateArn(Stack.of(scope), 'service-template', attrs.serviceTemplateName);
      public readonly pipelineProvisioning = attrs.pipelineProvisioning;
    }
    const imported = new Import(scope, id);
    checkResourceName(imported, 'serviceTemplateName', attrs.serviceTemplateName);
    return imported;
  }

  /** The template's name. */
  public readonly serviceTemplateName: string;
  /** The template's ARN. */
  public readonly serviceTemplateArn: string;
  /** Tags applied to the Proton template. */
  public readonly tags: TagManager;
  /** Who provisions the template's service pipelines; undefined when Proton does. */
  public readonly pipelineProvisioning?: Provisioning;

  constructor(scope: Construct, id: string, props: ServiceTemplateProps = {}) {
    super(scope, id);
    checkTemplateProps(this, 'serviceTemplateName', props.serviceTemplateName, props.displayName, props.description);
    this.serviceTemplateName = props.serviceTemplateName ?? generateResourceName(this);
    this.pipelineProvisioning = props.pipelineProvisioning;
    const removalPolicy = props.removalPolicy ?? (props.adoptExisting ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    this.tags = new TagManager(TagType.KEY_VALUE, 'Custom::ProtonServiceTemplate');
    defineTemplateResource(this, {
      kind: 'Service',
      templateName: this.serviceTemplateName,
      displayName: props.displayName,
      description: props.description,
      encryptionKeyArn: props.encryptionKey?.keyArn,
      provisioning: props.pipelineProvisioning,
      tags: this.tags,
      adoptExisting: props.adoptExisting ?? false,
      removalPolicy,
    });
    recordTemplateRemovalPolicy(this, removalPolicy);
    // Computed from the name, not read from the resource: other stacks use it without an export.
    this.serviceTemplateArn = templateArn(Stack.of(this), 'service-template', this.serviceTemplateName);
  }
}
