/** Synth-time helpers shared by the template and template version constructs. */
import { Annotations, CustomResource, RemovalPolicy, Stack, Token, aws_iam as iam } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { TemplateVersionProperties } from './properties';
import { ProtonProvider } from './provider';
import { checkDescription, checkResourceName } from './workload';
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
  const provider = ProtonProvider.of(scope);
  const kind = options.apiKind;
  provider.addToRolePolicy(new iam.PolicyStatement({
    actions: [
      `proton:Create${kind}TemplateVersion`,
      `proton:Get${kind}TemplateVersion`,
      `proton:Update${kind}TemplateVersion`,
      `proton:Delete${kind}TemplateVersion`,
      `proton:List${kind}TemplateVersions`,
      `proton:Get${kind}Template`,
    ],
    resources: [options.templateArn, `${options.templateArn}:*`],
  }));
  provider.grantBundleRead(bundle.bucketName, bundle.objectKey);
  return provider.customResource(scope, 'Resource', {
    resourceType: options.resourceType,
    removalPolicy: options.removalPolicy,
    properties: {
      [TemplateVersionProperties.TEMPLATE_NAME]: options.templateName,
      [TemplateVersionProperties.MAJOR_VERSION]: options.majorVersion,
      ...(options.description !== undefined ? { [TemplateVersionProperties.DESCRIPTION]: options.description } : {}),
      [TemplateVersionProperties.PUBLISH]: String(options.publish),
      [TemplateVersionProperties.SOURCE_S3_BUCKET]: bundle.bucketName,
      [TemplateVersionProperties.SOURCE_S3_KEY]: bundle.objectKey,
      ...options.extraProperties,
    },
  });
}
