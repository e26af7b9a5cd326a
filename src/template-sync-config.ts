import { Resource, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IEnvironmentTemplate } from './environment-template';
import { ResourceTypes, TemplateSyncConfigProperties } from './private/properties';
import { ProtonProvider } from './private/provider';
import { checkBranch, checkRepositoryPath } from './private/sync';
import { claimName, definedProperties } from './private/workload';
import { IRepository } from './repository';
import { IServiceTemplate } from './service-template';

/**
 * Properties of a template sync config. Give exactly one of `environmentTemplate` and `serviceTemplate`.
 */
export interface TemplateSyncConfigProps {
  /**
   * The environment template whose versions Proton syncs from the repository.
   *
   * @default - none: give serviceTemplate
   */
  readonly environmentTemplate?: IEnvironmentTemplate;

  /**
   * The service template whose versions Proton syncs from the repository.
   *
   * @default - none: give environmentTemplate
   */
  readonly serviceTemplate?: IServiceTemplate;

  /**
   * The linked repository holding the template (`<template name>/<major>/...`).
   */
  readonly repository: IRepository;

  /**
   * The branch Proton syncs from.
   */
  readonly branch: string;

  /**
   * The folder of the repository that holds the template's folder.
   *
   * @default - the repository's root
   */
  readonly subdirectory?: string;
}

/**
 * Makes Proton sync a template's versions from a linked repository: each commit to the branch that changes a major
 * version's folder registers a new minor version. The template must exist: Proton syncs versions, not templates.
 *
 * @resource Custom::ProtonTemplateSyncConfig
 */
export class TemplateSyncConfig extends Resource {
  /** The name of the template that is synced. */
  public readonly templateName: string;

  constructor(scope: Construct, id: string, props: TemplateSyncConfigProps) {
    super(scope, id);
    const path = this.node.path;
    const { environmentTemplate, serviceTemplate } = props;
    if ((environmentTemplate === undefined) === (serviceTemplate === undefined)) {
      throw new Error(`${path}: ${environmentTemplate ? 'both environmentTemplate and serviceTemplate are given' : 'neither environmentTemplate nor serviceTemplate is given'}; `
        + 'give exactly one: the template whose versions Proton syncs');
    }
    checkBranch(this, props.branch);
    if (props.subdirectory !== undefined) checkRepositoryPath(this, 'subdirectory', props.subdirectory);
    const template: Construct = environmentTemplate ?? serviceTemplate!;
    const templateType = environmentTemplate ? 'ENVIRONMENT' : 'SERVICE';
    this.templateName = environmentTemplate ? environmentTemplate.environmentTemplateName : serviceTemplate!.serviceTemplateName;
    if (!Token.isUnresolved(this.templateName)) {
      claimName(this, 'template sync config', `${templateType}:${this.templateName}`, environmentTemplate ? 'environmentTemplate' : 'serviceTemplate',
        'a template has one sync config');
    }

    const provider = ProtonProvider.of(this);
    const resource = provider.customResource(this, 'Resource', {
      resourceType: ResourceTypes.TEMPLATE_SYNC_CONFIG,
      properties: definedProperties({
        [TemplateSyncConfigProperties.TEMPLATE_NAME]: this.templateName,
        [TemplateSyncConfigProperties.TEMPLATE_TYPE]: templateType,
        [TemplateSyncConfigProperties.REPOSITORY_PROVIDER]: props.repository.repositoryProvider,
        [TemplateSyncConfigProperties.REPOSITORY_NAME]: props.repository.repositoryName,
        [TemplateSyncConfigProperties.BRANCH]: props.branch,
        [TemplateSyncConfigProperties.SUBDIRECTORY]: props.subdirectory,
      }),
    });
    // Template and repository names are literals: these dependencies make CloudFormation create both first (Proton
    // refuses a sync config for a template or repository it doesn't have) and delete the sync config before them.
    resource.node.addDependency(template, props.repository);
    provider.grantOn(environmentTemplate ? 'environment-template' : 'service-template', this.templateName, [
      'proton:CreateTemplateSyncConfig', 'proton:GetTemplateSyncConfig', 'proton:UpdateTemplateSyncConfig', 'proton:DeleteTemplateSyncConfig',
    ]);
  }
}
