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
  ENVIRONMENT_TEMPLATE: 'Custom::ProtonEnvironmentTemplate',
  SERVICE_TEMPLATE: 'Custom::ProtonServiceTemplate',
  SUPERSEDED_VERSIONS: 'Custom::ProtonSupersededVersions',
  ENVIRONMENT_ACCOUNT_CONNECTION: 'Custom::ProtonEnvironmentAccountConnection',
  ENVIRONMENT_ACCOUNT_CONNECTION_ACCEPTANCE: 'Custom::ProtonEnvironmentAccountConnectionAcceptance',
  COMPONENT: 'Custom::ProtonComponent',
  REPOSITORY: 'Custom::ProtonRepository',
  TEMPLATE_SYNC_CONFIG: 'Custom::ProtonTemplateSyncConfig',
  SERVICE_SYNC_CONFIG: 'Custom::ProtonServiceSyncConfig',
} as const;

/**
 * Properties of `Custom::ProtonSupersededVersions`: one per stack with environments or services, updated after all
 * of them (it depends on each), so it runs only once the stack's deployment can no longer roll back to an older
 * version. It deletes the superseded versions of the stack's templates that nothing runs on any more.
 */
export const SupersededVersionsProperties = {
  /** JSON list of `{ "kind": "environment" | "service", "templateName" }`. */
  TEMPLATES: 'Templates',
  /** Changes whenever a version the stack's resources run on changes, so the resource is updated then. */
  GENERATION: 'Generation',
} as const;

/** The environment variable that tells the handler which Provider framework phase it serves. */
export const HANDLER_PHASE_VARIABLE = 'PROTON_HANDLER_PHASE';
export type HandlerPhase = 'onEvent' | 'isComplete';

/**
 * The environment variable holding the stack's template bundle bucket (where its assets go): template versions whose
 * bundle is there leave SourceS3Bucket out, so a large platform stack does not repeat the bucket on every version.
 */
export const BUNDLE_BUCKET_VARIABLE = 'PROTON_BUNDLE_BUCKET';

/**
 * Tags the handler sets on Proton resources (they count toward Proton's 50 tags per resource). Public contract: stacks
 * deployed with one version of the library are read by the next.
 */
export const SystemTags = {
  /** `<stack name>/<logical id>` of the custom resource that created (or adopted) the resource. */
  OWNER: 'cdk-proton:owner',
  /** On template versions: the sha256 content hash of the bundle the version was registered from. */
  BUNDLE_HASH: 'cdk-proton:bundle-sha256',
  /** On template versions: 'true' once replaced while still in use; deleted by whichever deployment frees it. */
  SUPERSEDED: 'cdk-proton:superseded',
} as const;

/** How many tags the handler may add to a resource, out of Proton's 50. */
export const SYSTEM_TAG_COUNT = 3;

/** Properties of `Custom::ProtonEnvironmentTemplate` and `Custom::ProtonServiceTemplate`. */
export const TemplateProperties = {
  /** The template's name, also its physical id. A new name replaces the template. */
  TEMPLATE_NAME: 'TemplateName',
  DISPLAY_NAME: 'DisplayName',
  DESCRIPTION: 'Description',
  /** A KMS key ARN; Proton can't change it (a new one needs a new template name). */
  ENCRYPTION_KEY: 'EncryptionKey',
  /** 'CUSTOMER_MANAGED' or absent (provisioning of environment templates, pipelineProvisioning of service templates). */
  PROVISIONING: 'Provisioning',
  /** JSON list of `{ "key", "value" }`. */
  TAGS: 'Tags',
  /** 'true': a template of that name that the stack did not create is taken over instead of failing. */
  ADOPT_EXISTING: 'AdoptExisting',
} as const;

/** Attributes (`Fn::GetAtt`) of the template custom resources. */
export const TemplateAttributes = {
  ARN: 'Arn',
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
  /**
   * The bundle's S3 location. A new bundle replaces the version. SourceS3Bucket is absent when the bundle is in the
   * stack's bundle bucket, which the handler reads from its PROTON_BUNDLE_BUCKET variable (BUNDLE_BUCKET_VARIABLE).
   */
  SOURCE_S3_BUCKET: 'SourceS3Bucket',
  /** Absent when the key is the usual one for the bundle's asset, `<sha256 of BundleHash>.gz` (src/private/bundle-key.ts). */
  SOURCE_S3_KEY: 'SourceS3Key',
  /** Service versions only: JSON list of `{ "templateName": string, "majorVersion": string }`, 1 to 10 entries. */
  COMPATIBLE_ENVIRONMENT_TEMPLATES: 'CompatibleEnvironmentTemplates',
  /** Service versions only: JSON list of component source types, e.g. `["DIRECTLY_DEFINED"]` (absent = none). */
  SUPPORTED_COMPONENT_SOURCES: 'SupportedComponentSources',
  /**
   * The bundle's sha256 content hash, recorded on the version as the `cdk-proton:bundle-sha256` tag. A version of the
   * same major with the same hash is adopted instead of registering a duplicate, and other stacks find the version by it.
   */
  BUNDLE_HASH: 'BundleHash',
  /** JSON list of `{ "key", "value" }`. */
  TAGS: 'Tags',
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
  /** A pinned minor; absent when the minor is resolved from TemplateBundleHash or is the major's recommended one. */
  TEMPLATE_MINOR_VERSION: 'TemplateMinorVersion',
  /** The bundle hash of the version to deploy (see TemplateVersionProperties.BUNDLE_HASH); the handler finds its minor. */
  TEMPLATE_BUNDLE_HASH: 'TemplateBundleHash',
  /** 'true': an environment of that name that the stack did not create is taken over instead of failing. */
  ADOPT_EXISTING: 'AdoptExisting',
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
  /** A pinned minor; absent when the minor is resolved from TemplateBundleHash or is the major's recommended one. */
  TEMPLATE_MINOR_VERSION: 'TemplateMinorVersion',
  /** The bundle hash of the version to deploy; the handler finds its minor. */
  TEMPLATE_BUNDLE_HASH: 'TemplateBundleHash',
  /** 'true': a service of that name that the stack did not create is taken over instead of failing. */
  ADOPT_EXISTING: 'AdoptExisting',
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
  /** 'true' to take over settings already set to other values (refused otherwise). */
  ADOPT_EXISTING: 'AdoptExisting',
} as const;

/** Prefixes of the workload attributes (`Fn::GetAtt`) that carry Proton outputs. */
export const OutputAttributes = {
  ENVIRONMENT: 'Outputs.',
  PIPELINE: 'Pipeline.Outputs.',
  instance: (instanceName: string) => `Instances.${instanceName}.Outputs.`,
} as const;

/**
 * Properties of `Custom::ProtonEnvironmentAccountConnection`, deployed in the environment account. The physical id is
 * the connection's id.
 */
export const EnvironmentAccountConnectionProperties = {
  /** The 12-digit management account the connection is requested from. A new one is a new connection. */
  MANAGEMENT_ACCOUNT_ID: 'ManagementAccountId',
  /** The environment (in the management account) that deploys through the connection. A new one is a new connection. */
  ENVIRONMENT_NAME: 'EnvironmentName',
  /** The role Proton assumes in the environment account; updated in place. */
  ROLE_ARN: 'RoleArn',
  CODEBUILD_ROLE_ARN: 'CodebuildRoleArn',
  COMPONENT_ROLE_ARN: 'ComponentRoleArn',
  /** JSON list of `{ "key", "value" }`. */
  TAGS: 'Tags',
  /** 'true': a connection for this management account and environment that no stack created is taken over. */
  ADOPT_EXISTING: 'AdoptExisting',
} as const;

/** Attributes (`Fn::GetAtt`) of `Custom::ProtonEnvironmentAccountConnection`. */
export const EnvironmentAccountConnectionAttributes = {
  ID: 'Id',
  ARN: 'Arn',
  STATUS: 'Status',
} as const;

/**
 * Properties of `Custom::ProtonEnvironmentAccountConnectionAcceptance`, deployed in the management account. The
 * physical id is the connection's id.
 */
export const EnvironmentAccountConnectionAcceptanceProperties = {
  /** The connection's id. A new one accepts another connection (a new resource). */
  CONNECTION_ID: 'ConnectionId',
  /** 'true': deleting the acceptance rejects the connection (terminal); absent or 'false' leaves it as it is. */
  REJECT_ON_DELETE: 'RejectOnDelete',
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Components, repositories and sync configs (Custom::ProtonComponent, Custom::ProtonRepository,
// Custom::ProtonTemplateSyncConfig, Custom::ProtonServiceSyncConfig).

/** Properties of `Custom::ProtonComponent` (a directly defined component). */
export const ComponentProperties = {
  /** The component's name, also its physical id. A new name replaces the component. */
  COMPONENT_NAME: 'ComponentName',
  /** The manifest's contents (YAML). Proton can't change it: a new manifest needs a new component name. */
  MANIFEST: 'Manifest',
  /** The CloudFormation template's contents (YAML, Jinja-rendered by Proton); a change redeploys the component. */
  TEMPLATE_FILE: 'TemplateFile',
  /** The environment of a component attached to no service instance (absent for an attached one). */
  ENVIRONMENT_NAME: 'EnvironmentName',
  /** The service and instance the component is attached to; both or neither. */
  SERVICE_NAME: 'ServiceName',
  SERVICE_INSTANCE_NAME: 'ServiceInstanceName',
  /** The service spec (YAML) an attached component reads service inputs from. */
  SERVICE_SPEC: 'ServiceSpec',
  DESCRIPTION: 'Description',
  /** 'true': a component of that name that the stack did not create is taken over instead of failing. */
  ADOPT_EXISTING: 'AdoptExisting',
  /** JSON list of `{ "key", "value" }`. */
  TAGS: 'Tags',
  /** JSON list of the attribute names the app reads (`Outputs.<key>`): Data holds only these. */
  OUTPUT_KEYS: 'OutputKeys',
} as const;

/** Properties of `Custom::ProtonRepository` (a repository link). The physical id is `<provider>:<name>`. */
export const RepositoryProperties = {
  /** 'GITHUB' | 'GITHUB_ENTERPRISE' | 'BITBUCKET'. A new provider or name is a new repository link. */
  PROVIDER: 'Provider',
  /** `owner/repository`. */
  REPOSITORY_NAME: 'RepositoryName',
  /** The CodeStar (CodeConnections) connection's ARN. Proton can't change it on an existing link. */
  CONNECTION_ARN: 'ConnectionArn',
  /** A KMS key ARN. Proton can't change it on an existing link. */
  ENCRYPTION_KEY: 'EncryptionKey',
  /** 'true': a link that the stack did not create is taken over instead of failing. */
  ADOPT_EXISTING: 'AdoptExisting',
  /** JSON list of `{ "key", "value" }`. */
  TAGS: 'Tags',
} as const;

/** Attributes (`Fn::GetAtt`) of `Custom::ProtonRepository`. */
export const RepositoryAttributes = {
  ARN: 'Arn',
} as const;

/** Properties of `Custom::ProtonTemplateSyncConfig`. The physical id is `<templateType>:<templateName>`. */
export const TemplateSyncConfigProperties = {
  /** The template's name; a new one replaces the sync config. */
  TEMPLATE_NAME: 'TemplateName',
  /** 'ENVIRONMENT' | 'SERVICE'; a new one replaces the sync config. */
  TEMPLATE_TYPE: 'TemplateType',
  REPOSITORY_PROVIDER: 'RepositoryProvider',
  REPOSITORY_NAME: 'RepositoryName',
  BRANCH: 'Branch',
  /** The template's folder in the repository; absent for the repository root. */
  SUBDIRECTORY: 'Subdirectory',
} as const;

/** Properties of `Custom::ProtonServiceSyncConfig`. The physical id is the service's name. */
export const ServiceSyncConfigProperties = {
  /** The service's name; a new one replaces the sync config. */
  SERVICE_NAME: 'ServiceName',
  REPOSITORY_PROVIDER: 'RepositoryProvider',
  REPOSITORY_NAME: 'RepositoryName',
  BRANCH: 'Branch',
  /** The path of the service's Proton Ops file in the repository. */
  FILE_PATH: 'FilePath',
} as const;
