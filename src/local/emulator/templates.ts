/**
 * Environment and service templates and their versions: Create/Get/List/Update/Delete of both, registration
 * (REGISTRATION_IN_PROGRESS → DRAFT | REGISTRATION_FAILED after registrationDelayMs, with the bundle checked by the
 * shared bundle and schema code the constructs use), publishing, recommended versions and the deletion rules.
 */
import { canonicalJson, repeatsCreate, paginate, protonArn, rememberClientToken, replayClientToken, toDate } from './shared';
import {
  CompatibleEnvironmentTemplate, EmulatorState, nameMap, PendingRegistration, TemplateRecord, TemplateVersionRecord,
  templateVersionUsage,
} from './state';
import { checkCreateTags, dropTags, initTags, Tag } from './tags';
import { conflict, notFound, OperationContext, OperationTable, quotaExceeded, Settler, validation } from './types';
import { BundleError, BundleFile, checkBundle, TemplateKind, unpackBundle } from '../../private/bundle';
import { backwardIncompatibility, parseTemplateSchema } from '../../private/schema';

/** Proton's default quotas (user guide, "AWS Proton quotas"). */
const MAX_TEMPLATES = 100;
const MAX_VERSIONS_PER_TEMPLATE = 500;

interface KindNames {
  /** 'environment-template': ARN resource type. */
  readonly arnType: string;
  /** 'environment template': for messages. */
  readonly words: string;
  /** 'environmentTemplate': output member of template operations. */
  readonly templateMember: string;
  /** 'environmentTemplateVersion': output member of version operations. */
  readonly versionMember: string;
  readonly collection: 'environmentTemplates' | 'serviceTemplates';
}

const KINDS: { [kind in TemplateKind]: KindNames } = {
  ENVIRONMENT: {
    arnType: 'environment-template',
    words: 'environment template',
    templateMember: 'environmentTemplate',
    versionMember: 'environmentTemplateVersion',
    collection: 'environmentTemplates',
  },
  SERVICE: {
    arnType: 'service-template',
    words: 'service template',
    templateMember: 'serviceTemplate',
    versionMember: 'serviceTemplateVersion',
    collection: 'serviceTemplates',
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Lookups, also used by the workload operations.

export function templateOf(state: EmulatorState, kind: TemplateKind, name: string): TemplateRecord | undefined {
  return state[KINDS[kind].collection][name];
}

export function templateVersionOf(
  state: EmulatorState, kind: TemplateKind, name: string, majorVersion: string, minorVersion: string,
): TemplateVersionRecord | undefined {
  return templateOf(state, kind, name)?.versions[`${majorVersion}.${minorVersion}`];
}

const byVersion = (a: TemplateVersionRecord, b: TemplateVersionRecord) =>
  Number(a.majorVersion) - Number(b.majorVersion) || Number(a.minorVersion) - Number(b.minorVersion);

function sortedVersions(template: TemplateRecord, majorVersion?: string): TemplateVersionRecord[] {
  return Object.values(template.versions)
    .filter(version => majorVersion === undefined || version.majorVersion === majorVersion)
    .sort(byVersion);
}

/** The template's recommended version: its highest PUBLISHED version (a newly published highest one takes over). */
export function recommendedVersionOf(template: TemplateRecord): TemplateVersionRecord | undefined {
  return sortedVersions(template).filter(version => version.status === 'PUBLISHED').pop();
}

/** The recommended minor of a major: its highest PUBLISHED minor. */
export function recommendedMinorVersionOf(template: TemplateRecord, majorVersion: string): string | undefined {
  return sortedVersions(template, majorVersion).filter(version => version.status === 'PUBLISHED').pop()?.minorVersion;
}

// ---------------------------------------------------------------------------------------------------------------
// Registration.

/** Applies the registrations whose delay has passed, of the templates of one collection (environment or service). */
function registrationSettler(collection: KindNames['collection']): Settler {
  return {
    collection,
    dueAt: (template: TemplateRecord) => {
      const times = Object.values(template.versions).flatMap(version => version.pendingRegistration ? [version.pendingRegistration.completesAt] : []);
      return times.length ? Math.min(...times) : undefined;
    },
    settle: (ctx, names) => {
      const now = ctx.clock.now();
      for (const name of names) {
        for (const version of Object.values(ctx.state[collection][name]?.versions ?? {})) {
          const pending = version.pendingRegistration;
          if (pending && pending.completesAt <= now) {
            version.status = pending.status;
            version.statusMessage = pending.statusMessage;
            version.schema = pending.schema;
            version.lastModifiedAt = pending.completesAt;
            delete version.pendingRegistration;
          }
        }
      }
    },
  };
}

export const templateRegistrationSettlers: Settler[] = [registrationSettler('environmentTemplates'), registrationSettler('serviceTemplates')];

/** The schema a version has or will have once registered; undefined when its registration failed or will. */
function registeredSchemaOf(version: TemplateVersionRecord): string | undefined {
  return version.pendingRegistration ? version.pendingRegistration.schema : version.schema;
}

/** Checks the bundle the way Proton's registration does; the outcome is applied after registrationDelayMs. */
async function register(
  ctx: OperationContext, template: TemplateRecord, archive: Buffer, previousMinor: TemplateVersionRecord | undefined,
): Promise<PendingRegistration> {
  const completesAt = ctx.clock.now() + ctx.settings.registrationDelayMs;
  const failed = (statusMessage: string): PendingRegistration => ({ completesAt, status: 'REGISTRATION_FAILED', statusMessage });
  let files: BundleFile[];
  try {
    files = await unpackBundle(archive);
  } catch (error) {
    if (error instanceof BundleError) {
      return failed(`Template bundle is not valid: ${error.message}`);
    }
    throw error;
  }
  const customerManaged = (template.kind === 'ENVIRONMENT' ? template.provisioning : template.pipelineProvisioning) === 'CUSTOMER_MANAGED';
  let schema;
  try {
    schema = checkBundle(files, template.kind, customerManaged).schema;
  } catch (error) {
    if (error instanceof BundleError) {
      return failed(`Template bundle is not valid: ${error.message}`);
    }
    throw error;
  }
  const schemaText = files.find(file => file.path === 'schema/schema.yaml')!.content.toString('utf8');
  const previousSchema = previousMinor && registeredSchemaOf(previousMinor);
  if (previousSchema !== undefined) {
    const incompatibility = backwardIncompatibility(parseTemplateSchema(previousSchema), schema);
    if (incompatibility) {
      return failed(`Schema is not backward compatible with version ${previousMinor!.majorVersion}.${previousMinor!.minorVersion} ` +
        `(a new minor version must accept every spec the previous one accepted; create a new major version instead): ${incompatibility}`);
    }
  }
  // A registered version answers statusMessage "" (observed in Proton's answers and the user guide's examples).
  return { completesAt, status: 'DRAFT', statusMessage: '', schema: schemaText };
}

/**
 * The AWS managed tags Proton adds to a template and to each of its versions: "When you create an AWS Proton resource,
 * AWS Proton automatically generates AWS managed tags for your new resource" (user guide, "AWS Proton resources and
 * tagging"), e.g. `"aws:proton:template" = "arn:aws:proton:region-id:account-id:environment-template/env-template"`.
 */
function managedTags(template: TemplateRecord): { [key: string]: string } {
  return { 'aws:proton:template': template.arn };
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs.

function templateOutput(template: TemplateRecord) {
  return {
    arn: template.arn,
    name: template.name,
    displayName: template.displayName,
    description: template.description,
    encryptionKey: template.encryptionKey,
    provisioning: template.provisioning,
    pipelineProvisioning: template.pipelineProvisioning,
    recommendedVersion: (version => version && `${version.majorVersion}.${version.minorVersion}`)(recommendedVersionOf(template)),
    createdAt: toDate(template.createdAt),
    lastModifiedAt: toDate(template.lastModifiedAt),
  };
}

function templateSummary(template: TemplateRecord) {
  const { encryptionKey: _, ...summary } = templateOutput(template);
  return summary;
}

function versionSummary(template: TemplateRecord, version: TemplateVersionRecord) {
  return {
    templateName: version.templateName,
    majorVersion: version.majorVersion,
    minorVersion: version.minorVersion,
    recommendedMinorVersion: recommendedMinorVersionOf(template, version.majorVersion),
    arn: version.arn,
    description: version.description,
    status: version.status,
    statusMessage: version.statusMessage,
    createdAt: toDate(version.createdAt),
    lastModifiedAt: toDate(version.lastModifiedAt),
  };
}

function versionOutput(template: TemplateRecord, version: TemplateVersionRecord) {
  return {
    ...versionSummary(template, version),
    schema: version.schema,
    compatibleEnvironmentTemplates: version.compatibleEnvironmentTemplates,
    supportedComponentSources: version.supportedComponentSources,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Checks.

function existingTemplate(ctx: OperationContext, kind: TemplateKind, name: string): TemplateRecord {
  const template = templateOf(ctx.state, kind, name);
  if (!template) {
    throw notFound(`The ${KINDS[kind].words} ${protonArn(ctx, `${KINDS[kind].arnType}/${name}`)} does not exist`);
  }
  return template;
}

function existingVersion(ctx: OperationContext, kind: TemplateKind, input: VersionKey): [TemplateRecord, TemplateVersionRecord] {
  const template = existingTemplate(ctx, kind, input.templateName);
  const version = template.versions[`${input.majorVersion}.${input.minorVersion}`];
  if (!version) {
    throw notFound(`The requested ${KINDS[kind].words} version does not exist: ` +
      `${template.arn}:${input.majorVersion}.${input.minorVersion}`);
  }
  return [template, version];
}

/** Every compatible environment template must name an existing major version of an existing environment template. */
function checkCompatibleEnvironmentTemplates(ctx: OperationContext, compatible: readonly CompatibleEnvironmentTemplate[]): void {
  compatible.forEach(({ templateName, majorVersion }, index) => {
    const where = `compatibleEnvironmentTemplates[${index}]`;
    const environmentTemplate = templateOf(ctx.state, 'ENVIRONMENT', templateName);
    if (!environmentTemplate) {
      throw validation(`Invalid ${where}: the environment template '${templateName}' does not exist`);
    }
    if (!sortedVersions(environmentTemplate, majorVersion).length) {
      const majors = [...new Set(sortedVersions(environmentTemplate).map(version => version.majorVersion))];
      throw validation(`Invalid ${where}: the environment template '${templateName}' has no major version ${majorVersion} ` +
        `(its major versions: ${majors.length ? majors.join(', ') : 'none'})`);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Operations.

interface CreateTemplateInput {
  readonly name: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly encryptionKey?: string;
  readonly provisioning?: string;
  readonly pipelineProvisioning?: string;
  readonly tags?: Tag[];
}

interface VersionKey {
  readonly templateName: string;
  readonly majorVersion: string;
  readonly minorVersion: string;
}

interface CreateVersionInput {
  readonly templateName: string;
  readonly majorVersion?: string;
  readonly description?: string;
  readonly source: { readonly s3: { readonly bucket: string; readonly key: string } };
  readonly clientToken?: string;
  readonly tags?: Tag[];
  readonly compatibleEnvironmentTemplates?: CompatibleEnvironmentTemplate[];
  readonly supportedComponentSources?: string[];
}

interface UpdateVersionInput extends VersionKey {
  readonly description?: string;
  readonly status?: string;
  readonly compatibleEnvironmentTemplates?: CompatibleEnvironmentTemplate[];
  readonly supportedComponentSources?: string[];
}

function createTemplate(ctx: OperationContext, kind: TemplateKind, input: CreateTemplateInput) {
  const names = KINDS[kind];
  const existing = templateOf(ctx.state, kind, input.name);
  if (repeatsCreate(existing, input, `the ${names.words} '${input.name}'`, existing?.updatedSinceCreate ?? false)) {
    return { [names.templateMember]: templateOutput(existing!) };
  }
  const templateCount = Object.keys(ctx.state.environmentTemplates).length + Object.keys(ctx.state.serviceTemplates).length;
  if (templateCount >= MAX_TEMPLATES) {
    throw quotaExceeded(`Quota exceeded: an account can register at most ${MAX_TEMPLATES} templates (environment and service templates together)`);
  }
  const arn = protonArn(ctx, `${names.arnType}/${input.name}`);
  checkCreateTags(input.tags, arn);
  const now = ctx.clock.now();
  const template: TemplateRecord = {
    kind,
    name: input.name,
    arn,
    displayName: input.displayName,
    description: input.description,
    encryptionKey: input.encryptionKey,
    provisioning: kind === 'ENVIRONMENT' ? input.provisioning : undefined,
    pipelineProvisioning: kind === 'SERVICE' ? input.pipelineProvisioning : undefined,
    createdAt: now,
    lastModifiedAt: now,
    createRequest: canonicalJson(input),
    versions: nameMap(),
    lastMajor: 0,
    lastMinorByMajor: nameMap(),
  };
  ctx.state[names.collection][input.name] = template;
  initTags(ctx, arn, input.tags, managedTags(template));
  return { [names.templateMember]: templateOutput(template) };
}

function updateTemplate(ctx: OperationContext, kind: TemplateKind, input: { name: string; displayName?: string; description?: string }) {
  const template = existingTemplate(ctx, kind, input.name);
  if (input.displayName !== undefined) {
    template.displayName = input.displayName;
  }
  if (input.description !== undefined) {
    template.description = input.description;
  }
  template.lastModifiedAt = ctx.clock.now();
  template.updatedSinceCreate = true;
  return { [KINDS[kind].templateMember]: templateOutput(template) };
}

function deleteTemplate(ctx: OperationContext, kind: TemplateKind, input: { name: string }) {
  const names = KINDS[kind];
  const template = templateOf(ctx.state, kind, input.name);
  if (!template) {
    return {}; // Idempotent delete: already gone.
  }
  const versions = sortedVersions(template);
  if (versions.length) {
    const majors = [...new Set(versions.map(version => version.majorVersion))];
    throw conflict(`The ${names.words} '${input.name}' has major versions that must first be deleted: ` +
      `${majors.join(', ')} (versions ${versions.map(version => `${version.majorVersion}.${version.minorVersion}`).join(', ')})`);
  }
  delete ctx.state[names.collection][input.name];
  dropTags(ctx, template.arn);
  return { [names.templateMember]: templateOutput(template) };
}

async function createVersion(ctx: OperationContext, kind: TemplateKind, operation: string, input: CreateVersionInput) {
  const names = KINDS[kind];
  const template = existingTemplate(ctx, kind, input.templateName);
  const replayedArn = replayClientToken(ctx, operation, input);
  const replayed = replayedArn && Object.values(template.versions).find(version => version.arn === replayedArn);
  if (replayed) {
    return { [names.versionMember]: versionOutput(template, replayed) };
  }
  if (input.majorVersion !== undefined && !sortedVersions(template, input.majorVersion).length) {
    throw validation(`Invalid majorVersion '${input.majorVersion}': the ${names.words} '${input.templateName}' has no major version ` +
      `${input.majorVersion}. Omit majorVersion to create a new major version, or give an existing one to add a minor version to it`);
  }
  if (Object.keys(template.versions).length >= MAX_VERSIONS_PER_TEMPLATE) {
    throw quotaExceeded(`Quota exceeded: the ${names.words} '${input.templateName}' already has ${MAX_VERSIONS_PER_TEMPLATE} versions; delete some first`);
  }
  if (kind === 'SERVICE') {
    checkCompatibleEnvironmentTemplates(ctx, input.compatibleEnvironmentTemplates ?? []);
  }
  const { bucket, key } = input.source.s3;
  const archive = ctx.getObject(bucket, key);
  if (!archive) {
    // The bundle's location is an input: Proton can't start a registration without reading it.
    throw validation(`Invalid source: the template bundle s3://${bucket}/${key} does not exist or can't be read; ` +
      'upload the bundle before creating the version');
  }
  const majorVersion = input.majorVersion ?? String(template.lastMajor + 1);
  const minorVersion = input.majorVersion === undefined ? '0' : String(template.lastMinorByMajor[majorVersion] + 1);
  const arn = `${template.arn}:${majorVersion}.${minorVersion}`;
  checkCreateTags(input.tags, arn);
  const previousMinor = sortedVersions(template, majorVersion).filter(version => registeredSchemaOf(version) !== undefined).pop();
  const pendingRegistration = await register(ctx, template, archive, previousMinor);

  // State changes only from here: nothing above awaited after reading the numbers, and operations run one at a time.
  const now = ctx.clock.now();
  const version: TemplateVersionRecord = {
    templateName: template.name,
    majorVersion,
    minorVersion,
    arn,
    description: input.description,
    status: 'REGISTRATION_IN_PROGRESS',
    source: { s3: { bucket, key } },
    bundleBlob: ctx.storeBlob(archive),
    createdAt: now,
    lastModifiedAt: now,
    pendingRegistration,
    ...(kind === 'SERVICE' ? {
      compatibleEnvironmentTemplates: input.compatibleEnvironmentTemplates,
      supportedComponentSources: input.supportedComponentSources,
    } : {}),
  };
  template.versions[`${majorVersion}.${minorVersion}`] = version;
  template.lastMajor = Math.max(template.lastMajor, Number(majorVersion));
  template.lastMinorByMajor[majorVersion] = Number(minorVersion);
  initTags(ctx, arn, input.tags, managedTags(template));
  rememberClientToken(ctx, operation, input, arn);
  return { [names.versionMember]: versionOutput(template, version) };
}

interface ListVersionsInput {
  readonly templateName: string;
  readonly majorVersion?: string;
  readonly maxResults?: number;
  readonly nextToken?: string;
}

function listVersions(ctx: OperationContext, kind: TemplateKind, input: ListVersionsInput) {
  const template = existingTemplate(ctx, kind, input.templateName);
  // Without majorVersion Proton lists every minor of every major (observed: `aws proton list-environment-template-versions`
  // answers 1.0, 1.1 and 1.2 of a template's one major), ordered by major then minor.
  const page = paginate(sortedVersions(template, input.majorVersion), input);
  return { templateVersions: page.items.map(version => versionSummary(template, version)), nextToken: page.nextToken };
}

function updateVersion(ctx: OperationContext, kind: TemplateKind, input: UpdateVersionInput) {
  const [template, version] = existingVersion(ctx, kind, input);
  if (input.status !== undefined && !(input.status === 'PUBLISHED' && version.status === 'DRAFT')) {
    throw validation(`Invalid status '${input.status}' for ${version.arn}, which is ${version.status}: ` +
      'a template version can only change from DRAFT to PUBLISHED');
  }
  if (kind === 'SERVICE' && input.compatibleEnvironmentTemplates) {
    checkCompatibleEnvironmentTemplates(ctx, input.compatibleEnvironmentTemplates);
    version.compatibleEnvironmentTemplates = input.compatibleEnvironmentTemplates;
  }
  if (kind === 'SERVICE' && input.supportedComponentSources) {
    version.supportedComponentSources = input.supportedComponentSources;
  }
  if (input.description !== undefined) {
    version.description = input.description;
  }
  if (input.status !== undefined) {
    version.status = 'PUBLISHED';
  }
  version.lastModifiedAt = ctx.clock.now();
  return { [KINDS[kind].versionMember]: versionOutput(template, version) };
}

function deleteVersion(ctx: OperationContext, kind: TemplateKind, input: VersionKey) {
  const names = KINDS[kind];
  const template = templateOf(ctx.state, kind, input.templateName);
  const version = template?.versions[`${input.majorVersion}.${input.minorVersion}`];
  if (!template || !version) {
    return {}; // Idempotent delete: already gone.
  }
  const number = `${version.majorVersion}.${version.minorVersion}`;
  const user = templateVersionUsage(ctx.state, kind, template.name, version.majorVersion, version.minorVersion);
  if (user) {
    throw conflict(`The ${names.words} version ${version.arn} is in use by ${user}; move it to another version or delete it first`);
  }
  const others = sortedVersions(template).filter(other => other !== version);
  if (recommendedVersionOf(template) === version && others.length) {
    throw conflict(`The ${names.words} version ${number} is the recommended version of '${template.name}' and can only be deleted ` +
      `after every other version (${others.map(other => `${other.majorVersion}.${other.minorVersion}`).join(', ')})`);
  }
  const otherMinors = others.filter(other => other.majorVersion === version.majorVersion);
  if (recommendedMinorVersionOf(template, version.majorVersion) === version.minorVersion && otherMinors.length) {
    throw conflict(`The ${names.words} version ${number} is the recommended minor version of major version ${version.majorVersion} ` +
      `and can only be deleted after the other minor versions (${otherMinors.map(other => `${other.majorVersion}.${other.minorVersion}`).join(', ')})`);
  }
  const output = versionOutput(template, version);
  delete template.versions[number];
  dropTags(ctx, version.arn);
  return { [names.versionMember]: output };
}

function listTemplates(ctx: OperationContext, kind: TemplateKind, input: { maxResults?: number; nextToken?: string }) {
  const templates = Object.values(ctx.state[KINDS[kind].collection]).sort((a, b) => a.name.localeCompare(b.name));
  const page = paginate(templates, input);
  return { templates: page.items.map(templateSummary), nextToken: page.nextToken };
}

function operationsFor(kind: TemplateKind, prefix: 'Environment' | 'Service'): OperationTable {
  const names = KINDS[kind];
  return {
    [`Create${prefix}Template`]: (ctx, input) => createTemplate(ctx, kind, input),
    [`Get${prefix}Template`]: (ctx, input: { name: string }) => ({ [names.templateMember]: templateOutput(existingTemplate(ctx, kind, input.name)) }),
    [`List${prefix}Templates`]: (ctx, input) => listTemplates(ctx, kind, input),
    [`Update${prefix}Template`]: (ctx, input) => updateTemplate(ctx, kind, input),
    [`Delete${prefix}Template`]: (ctx, input) => deleteTemplate(ctx, kind, input),
    [`Create${prefix}TemplateVersion`]: (ctx, input) => createVersion(ctx, kind, `Create${prefix}TemplateVersion`, input),
    [`Get${prefix}TemplateVersion`]: (ctx, input: VersionKey) => ({ [names.versionMember]: versionOutput(...existingVersion(ctx, kind, input)) }),
    [`List${prefix}TemplateVersions`]: (ctx, input) => listVersions(ctx, kind, input),
    [`Update${prefix}TemplateVersion`]: (ctx, input) => updateVersion(ctx, kind, input),
    [`Delete${prefix}TemplateVersion`]: (ctx, input) => deleteVersion(ctx, kind, input),
  };
}

export const templateOperations: OperationTable = {
  ...operationsFor('ENVIRONMENT', 'Environment'),
  ...operationsFor('SERVICE', 'Service'),
};
