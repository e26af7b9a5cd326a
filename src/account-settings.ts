import { Resource, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ProvisioningRepository } from './environment';
import { ACCOUNT_SETTINGS_RESOURCE_TYPE, AccountSettingsProperties } from './private/properties';
import { ProtonProvider } from './private/provider';
import { claimSingleton, definedProperties, orderPipelinesAfterAccountSettings } from './private/workload';

/**
 * Properties of the account's Proton settings.
 */
export interface AccountSettingsProps {
  /**
   * The role Proton uses to provision AWS-managed service pipelines.
   *
   * @default - unchanged
   */
  readonly pipelineServiceRole?: iam.IRole;

  /**
   * The role Proton passes to CodeBuild for pipelines with CodeBuild provisioning.
   *
   * @default - unchanged
   */
  readonly pipelineCodebuildRole?: iam.IRole;

  /**
   * The repository where Proton opens pull requests for self-managed pipelines.
   *
   * @default - unchanged
   */
  readonly pipelineProvisioningRepository?: ProvisioningRepository;

  /**
   * Take over settings that are already set to other values (by hand, or by a stack being replaced).
   *
   * Without it, deploying fails when a setting this construct manages already has another value: the settings are
   * one per account and region, and two stacks managing them would restore each other's values on delete. Either
   * way, the values replaced are restored when this construct is removed.
   *
   * @default false
   */
  readonly adoptExisting?: boolean;
}

/**
 * Defines the account's Proton settings for service pipelines, in this stack's account and region.
 *
 * A service whose template has a pipeline needs them: every such Service of the same account and region in the app
 * deploys after this construct, whichever of the two is declared first. The settings are account-wide: define them
 * once per account and region (a second one in the app is a synth error; settings already set to other values fail
 * the deployment unless `adoptExisting` is set).
 * Deleting this construct restores the values that were in place before it was created.
 *
 * @resource Custom::ProtonAccountSettings
 */
export class AccountSettings extends Resource {
  constructor(scope: Construct, id: string, props: AccountSettingsProps) {
    super(scope, id);
    if (!props.pipelineServiceRole && !props.pipelineCodebuildRole && !props.pipelineProvisioningRepository) {
      throw new Error(`${this.node.path}: give at least one of pipelineServiceRole, pipelineCodebuildRole, pipelineProvisioningRepository`);
    }
    claimSingleton(this, 'Proton account settings');
    const provider = ProtonProvider.of(this);
    provider.customResource(this, 'Resource', {
      resourceType: ACCOUNT_SETTINGS_RESOURCE_TYPE,
      properties: definedProperties({
        [AccountSettingsProperties.PIPELINE_SERVICE_ROLE_ARN]: props.pipelineServiceRole?.roleArn,
        [AccountSettingsProperties.PIPELINE_CODEBUILD_ROLE_ARN]: props.pipelineCodebuildRole?.roleArn,
        [AccountSettingsProperties.PIPELINE_PROVISIONING_REPOSITORY]: props.pipelineProvisioningRepository
          ? Stack.of(this).toJsonString(props.pipelineProvisioningRepository) : undefined,
        [AccountSettingsProperties.ADOPT_EXISTING]: props.adoptExisting ? 'true' : undefined,
      }),
    });
    provider.addToRolePolicy(new iam.PolicyStatement({
      actions: ['proton:GetAccountSettings', 'proton:UpdateAccountSettings'],
      // Proton requires '*': account settings are an account-wide singleton with no ARN of their own (the service
      // authorization reference lists no resource type for these actions).
      resources: ['*'],
    }));
    for (const role of [props.pipelineServiceRole, props.pipelineCodebuildRole]) {
      if (role) provider.grantPassRole(role);
    }
    orderPipelinesAfterAccountSettings(this, 'accountSettings');
  }
}
