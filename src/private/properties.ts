/**
 * The wire contract between the constructs and the custom-resource handler (`lambda/`).
 *
 * Resource types, property names and attribute names are public contract: CloudFormation stores them in deployed
 * stacks and sends old properties back on rollback and delete. Add new names; never rename or remove one.
 * Every property value is a string on the wire: booleans are 'true' / 'false', lists and maps are JSON strings.
 *
 * This file must stay free of aws-cdk-lib imports: the handler bundle imports it too.
 */

/** Custom resource types, one per Proton resource the handler manages. */
export const ResourceTypes = {
  ENVIRONMENT_TEMPLATE_VERSION: 'Custom::ProtonEnvironmentTemplateVersion',
  SERVICE_TEMPLATE_VERSION: 'Custom::ProtonServiceTemplateVersion',
  ENVIRONMENT: 'Custom::ProtonEnvironment',
  SERVICE: 'Custom::ProtonService',
} as const;

/** Properties of `Custom::ProtonEnvironmentTemplateVersion` and `Custom::ProtonServiceTemplateVersion`. */
export const TemplateVersionProperties = {
  /** The template's name. Replaces the version when changed. */
  TEMPLATE_NAME: 'TemplateName',
  /** The declared major version ('1', '2', ...). Replaces the version when changed. */
  MAJOR_VERSION: 'MajorVersion',
  /** Optional description; updated in place. */
  DESCRIPTION: 'Description',
  /** 'true' | 'false' (absent = 'true'). false to true publishes in place; true to false replaces. */
  PUBLISH: 'Publish',
  /** The bundle's S3 location. A new bundle replaces the version. */
  SOURCE_S3_BUCKET: 'SourceS3Bucket',
  SOURCE_S3_KEY: 'SourceS3Key',
  /** Service versions only: JSON list of `{ "templateName": string, "majorVersion": string }`, 1 to 10 entries. */
  COMPATIBLE_ENVIRONMENT_TEMPLATES: 'CompatibleEnvironmentTemplates',
  /** Service versions only: JSON list of component source types, e.g. `["DIRECTLY_DEFINED"]` (absent = none). */
  SUPPORTED_COMPONENT_SOURCES: 'SupportedComponentSources',
} as const;

/** Attributes (`Fn::GetAtt`) of the template version custom resources. */
export const TemplateVersionAttributes = {
  MAJOR_VERSION: 'MajorVersion',
  MINOR_VERSION: 'MinorVersion',
  TEMPLATE_VERSION_ARN: 'TemplateVersionArn',
} as const;

/** One entry of `CompatibleEnvironmentTemplates`, in Proton's own field names. */
export interface CompatibleEnvironmentTemplateProperty {
  readonly templateName: string;
  readonly majorVersion: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Environments, services and account settings (Custom::ProtonEnvironment, Custom::ProtonService,
// Custom::ProtonAccountSettings). Specs travel as JSON inputs and the handler renders the YAML Proton expects, once
// CloudFormation has resolved the tokens inside them.

/** Resource type of the account-wide pipeline settings. */
export const ACCOUNT_SETTINGS_RESOURCE_TYPE = 'Custom::ProtonAccountSettings';

/** Properties of `Custom::ProtonEnvironment`. */
export const EnvironmentProperties = {
  /** The environment's name, also its physical id. A new name replaces the environment. */
  ENVIRONMENT_NAME: 'EnvironmentName',
  /** The environment template's name. Proton can't change it: a new template needs a new environment name. */
  TEMPLATE_NAME: 'TemplateName',
  TEMPLATE_MAJOR_VERSION: 'TemplateMajorVersion',
  TEMPLATE_MINOR_VERSION: 'TemplateMinorVersion',
  /** JSON object: the inputs of `spec:` (defaults applied). */
  SPEC: 'Spec',
  DESCRIPTION: 'Description',
  PROTON_SERVICE_ROLE_ARN: 'ProtonServiceRoleArn',
  ENVIRONMENT_ACCOUNT_CONNECTION_ID: 'EnvironmentAccountConnectionId',
  /** JSON object `{ "provider", "name", "branch" }`. */
  PROVISIONING_REPOSITORY: 'ProvisioningRepository',
  CODEBUILD_ROLE_ARN: 'CodebuildRoleArn',
  COMPONENT_ROLE_ARN: 'ComponentRoleArn',
  /** JSON list of `{ "key", "value" }`. */
  TAGS: 'Tags',
  /** JSON list of the attribute names the app reads (`Outputs.<key>`): Data holds only these. */
  OUTPUT_KEYS: 'OutputKeys',
} as const;

/** Properties of `Custom::ProtonService`. */
export const ServiceProperties = {
  /** The service's name, also its physical id. A new name replaces the service. */
  SERVICE_NAME: 'ServiceName',
  /** The service template's name. Proton can't change it: a new template needs a new service name. */
  TEMPLATE_NAME: 'TemplateName',
  TEMPLATE_MAJOR_VERSION: 'TemplateMajorVersion',
  TEMPLATE_MINOR_VERSION: 'TemplateMinorVersion',
  /** JSON list of `{ "name", "environment", "spec" }`, spec being the instance's inputs (defaults applied). */
  INSTANCES: 'Instances',
  /** JSON object: the pipeline's inputs; absent when the template has no pipeline. */
  PIPELINE_SPEC: 'PipelineSpec',
  REPOSITORY_CONNECTION_ARN: 'RepositoryConnectionArn',
  REPOSITORY_ID: 'RepositoryId',
  BRANCH_NAME: 'BranchName',
  DESCRIPTION: 'Description',
  /** JSON list of `{ "key", "value" }`. */
  TAGS: 'Tags',
  /** JSON list of attribute names the app reads (`Instances.<instance>.Outputs.<key>`, `Pipeline.Outputs.<key>`). */
  OUTPUT_KEYS: 'OutputKeys',
} as const;

/** Properties of `Custom::ProtonAccountSettings`; an absent property leaves that setting as it was. */
export const AccountSettingsProperties = {
  PIPELINE_SERVICE_ROLE_ARN: 'PipelineServiceRoleArn',
  PIPELINE_CODEBUILD_ROLE_ARN: 'PipelineCodebuildRoleArn',
  /** JSON object `{ "provider", "name", "branch" }`. */
  PIPELINE_PROVISIONING_REPOSITORY: 'PipelineProvisioningRepository',
} as const;

/** Prefixes of the workload attributes (`Fn::GetAtt`) that carry Proton outputs. */
export const OutputAttributes = {
  ENVIRONMENT: 'Outputs.',
  PIPELINE: 'Pipeline.Outputs.',
  instance: (instanceName: string) => `Instances.${instanceName}.Outputs.`,
} as const;
