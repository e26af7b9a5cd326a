/**
 * Custom::ProtonEnvironmentTemplateVersion and Custom::ProtonServiceTemplateVersion.
 *
 * Physical id: `<templateName>:<major>.<minor>` (the version ARN's suffix; Proton assigns the minor).
 * - Create: one CreateXTemplateVersion call with a deterministic client token. A declared major that does not exist
 *   yet is created by omitting majorVersion (Proton then opens the next major), so it must be the next in sequence.
 * - isComplete: waits for DRAFT (REGISTRATION_FAILED fails with Proton's statusMessage), publishes when asked, waits
 *   for PUBLISHED, and returns MajorVersion, MinorVersion and TemplateVersionArn.
 * - Update: a new template, major, bundle, or publish true→false creates a new version (a new physical id: CloudFormation
 *   deletes the old one during cleanup); description, compatible environment templates and component sources are
 *   updated in place; publish false→true publishes in place.
 * - Delete (in isComplete, retried): gone counts as deleted; a version Proton keeps because it is the recommended one
 *   while other versions exist is retried for a while (when a stack is deleted, its other versions are being deleted at
 *   the same time); any other refusal (a version in use) fails with Proton's message.
 */
import {
  CreateEnvironmentTemplateVersionCommand,
  CreateServiceTemplateVersionCommand,
  DeleteEnvironmentTemplateVersionCommand,
  DeleteServiceTemplateVersionCommand,
  GetEnvironmentTemplateCommand,
  GetEnvironmentTemplateVersionCommand,
  GetServiceTemplateCommand,
  GetServiceTemplateVersionCommand,
  ListEnvironmentTemplateVersionsCommand,
  ListServiceTemplateVersionsCommand,
  ServiceTemplateSupportedComponentSourceType,
  TemplateVersionStatus,
  UpdateEnvironmentTemplateVersionCommand,
  UpdateServiceTemplateVersionCommand,
} from '@aws-sdk/client-proton';
import {
  CompatibleEnvironmentTemplateProperty,
  ResourceTypes,
  TemplateVersionAttributes,
  TemplateVersionProperties as P,
} from '../../src/private/properties';
import { protonClient } from '../shared/client';
import { errorMessage, errorName, ignoreNotFound, isConflict, isIdempotentParameterMismatch, isNotFound } from '../shared/errors';
import { log } from '../shared/log';
import { PropertyReader } from '../shared/properties';
import { clientToken } from '../shared/tokens';
import type { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse, ResourceHandler, ResourceProperties } from '../shared/types';

/** How long a delete waits for the other versions that keep Proton from deleting a recommended version. */
export const RECOMMENDED_DELETE_WAIT_VARIABLE = 'PROTON_RECOMMENDED_DELETE_WAIT_SECONDS';
const DEFAULT_RECOMMENDED_DELETE_WAIT_SECONDS = 180;

type Kind = 'environment' | 'service';

/** The version properties, decoded. */
export interface TemplateVersionSpec {
  readonly templateName: string;
  readonly majorVersion: string;
  readonly description?: string;
  readonly publish: boolean;
  readonly sourceBucket: string;
  readonly sourceKey: string;
  readonly compatibleEnvironmentTemplates?: CompatibleEnvironmentTemplateProperty[];
  readonly supportedComponentSources?: string[];
}

/** A version as Proton reports it (the fields both kinds share). */
interface Version {
  readonly templateName: string;
  readonly majorVersion: string;
  readonly minorVersion: string;
  readonly status: string;
  readonly statusMessage?: string;
  readonly arn: string;
  readonly recommendedMinorVersion?: string;
}

interface VersionRef {
  readonly templateName: string;
  readonly majorVersion: string;
  readonly minorVersion: string;
}

interface VersionUpdate {
  readonly description?: string;
  readonly status?: TemplateVersionStatus;
  readonly compatibleEnvironmentTemplates?: CompatibleEnvironmentTemplateProperty[];
  readonly supportedComponentSources?: string[];
}

/** The Proton calls of one kind of template version. */
interface VersionApi {
  readonly kind: Kind;
  readonly resourceType: string;
  readonly createOperation: string;
  create(spec: TemplateVersionSpec, majorVersion: string | undefined, token: string): Promise<Version>;
  /** undefined when the version (or its template) does not exist. */
  get(ref: VersionRef): Promise<Version | undefined>;
  update(ref: VersionRef, update: VersionUpdate): Promise<Version>;
  delete(ref: VersionRef): Promise<void>;
  recommendedVersion(templateName: string): Promise<string | undefined>;
  /** Without a major: one entry per major version; with one: that major's minor versions. */
  list(templateName: string, majorVersion?: string): Promise<VersionRef[]>;
}

const client = () => protonClient();

const environmentApi: VersionApi = {
  kind: 'environment',
  resourceType: ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION,
  createOperation: 'CreateEnvironmentTemplateVersion',
  async create(spec, majorVersion, token) {
    const out = await client().send(new CreateEnvironmentTemplateVersionCommand({
      templateName: spec.templateName,
      majorVersion,
      description: spec.description,
      source: { s3: { bucket: spec.sourceBucket, key: spec.sourceKey } },
      clientToken: token,
    }));
    return out.environmentTemplateVersion as Version;
  },
  async get(ref) {
    return ignoreNotFound(async () =>
      (await client().send(new GetEnvironmentTemplateVersionCommand(ref))).environmentTemplateVersion as Version);
  },
  async update(ref, update) {
    const out = await client().send(new UpdateEnvironmentTemplateVersionCommand({
      ...ref, description: update.description, status: update.status,
    }));
    return out.environmentTemplateVersion as Version;
  },
  async delete(ref) {
    await client().send(new DeleteEnvironmentTemplateVersionCommand(ref));
  },
  async recommendedVersion(name) {
    return (await client().send(new GetEnvironmentTemplateCommand({ name }))).environmentTemplate?.recommendedVersion;
  },
  async list(templateName, majorVersion) {
    const refs: VersionRef[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client().send(new ListEnvironmentTemplateVersionsCommand({ templateName, majorVersion, nextToken }));
      refs.push(...(page.templateVersions ?? []) as VersionRef[]);
      nextToken = page.nextToken;
    } while (nextToken);
    return refs;
  },
};

const serviceApi: VersionApi = {
  kind: 'service',
  resourceType: ResourceTypes.SERVICE_TEMPLATE_VERSION,
  createOperation: 'CreateServiceTemplateVersion',
  async create(spec, majorVersion, token) {
    const out = await client().send(new CreateServiceTemplateVersionCommand({
      templateName: spec.templateName,
      majorVersion,
      description: spec.description,
      source: { s3: { bucket: spec.sourceBucket, key: spec.sourceKey } },
      compatibleEnvironmentTemplates: spec.compatibleEnvironmentTemplates,
      supportedComponentSources: componentSources(spec.supportedComponentSources),
      clientToken: token,
    }));
    return out.serviceTemplateVersion as Version;
  },
  async get(ref) {
    return ignoreNotFound(async () =>
      (await client().send(new GetServiceTemplateVersionCommand(ref))).serviceTemplateVersion as Version);
  },
  async update(ref, update) {
    const out = await client().send(new UpdateServiceTemplateVersionCommand({
      ...ref,
      description: update.description,
      status: update.status,
      compatibleEnvironmentTemplates: update.compatibleEnvironmentTemplates,
      supportedComponentSources: componentSources(update.supportedComponentSources),
    }));
    return out.serviceTemplateVersion as Version;
  },
  async delete(ref) {
    await client().send(new DeleteServiceTemplateVersionCommand(ref));
  },
  async recommendedVersion(name) {
    return (await client().send(new GetServiceTemplateCommand({ name }))).serviceTemplate?.recommendedVersion;
  },
  async list(templateName, majorVersion) {
    const refs: VersionRef[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client().send(new ListServiceTemplateVersionsCommand({ templateName, majorVersion, nextToken }));
      refs.push(...(page.templateVersions ?? []) as VersionRef[]);
      nextToken = page.nextToken;
    } while (nextToken);
    return refs;
  },
};

function componentSources(sources: string[] | undefined): ServiceTemplateSupportedComponentSourceType[] | undefined {
  return sources as ServiceTemplateSupportedComponentSourceType[] | undefined;
}

/** Decodes the properties of either version resource type. */
export function decodeTemplateVersionProperties(properties: ResourceProperties | undefined, resourceType: string): TemplateVersionSpec {
  const reader = new PropertyReader(properties, resourceType);
  const spec: TemplateVersionSpec = {
    templateName: reader.string(P.TEMPLATE_NAME),
    majorVersion: reader.string(P.MAJOR_VERSION),
    description: reader.optionalString(P.DESCRIPTION),
    publish: reader.boolean(P.PUBLISH, true),
    sourceBucket: reader.string(P.SOURCE_S3_BUCKET),
    sourceKey: reader.string(P.SOURCE_S3_KEY),
    compatibleEnvironmentTemplates: reader.objectList(P.COMPATIBLE_ENVIRONMENT_TEMPLATES, ['templateName', 'majorVersion']),
    supportedComponentSources: reader.stringList(P.SUPPORTED_COMPONENT_SOURCES),
  };
  if (resourceType === ResourceTypes.SERVICE_TEMPLATE_VERSION && !spec.compatibleEnvironmentTemplates?.length) {
    throw new Error(`${resourceType} property ${P.COMPATIBLE_ENVIRONMENT_TEMPLATES}: at least one compatible environment template is required`);
  }
  return spec;
}

export function physicalId(version: VersionRef): string {
  return `${version.templateName}:${version.majorVersion}.${version.minorVersion}`;
}

/** undefined for an id this handler never returned (the RequestId CloudFormation uses when a create failed early). */
export function parsePhysicalId(id: string | undefined): VersionRef | undefined {
  const match = /^([0-9A-Za-z][0-9A-Za-z_-]*):(0|[1-9]\d*)\.(0|[1-9]\d*)$/.exec(id ?? '');
  return match ? { templateName: match[1], majorVersion: match[2], minorVersion: match[3] } : undefined;
}

function describe(api: VersionApi, ref: VersionRef): string {
  return `${api.kind} template version ${physicalId(ref)}`;
}

/** A new version is needed when Proton cannot make the change in place. */
function needsReplacement(oldSpec: TemplateVersionSpec, newSpec: TemplateVersionSpec): boolean {
  return oldSpec.templateName !== newSpec.templateName
    || oldSpec.majorVersion !== newSpec.majorVersion
    || oldSpec.sourceBucket !== newSpec.sourceBucket
    || oldSpec.sourceKey !== newSpec.sourceKey
    || (oldSpec.publish && !newSpec.publish); // Proton cannot unpublish
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function inPlaceUpdate(api: VersionApi, oldSpec: TemplateVersionSpec, newSpec: TemplateVersionSpec): VersionUpdate | undefined {
  const descriptionChanged = (oldSpec.description ?? '') !== (newSpec.description ?? '');
  const compatibleChanged = api.kind === 'service' && !sameJson(oldSpec.compatibleEnvironmentTemplates, newSpec.compatibleEnvironmentTemplates);
  const sourcesChanged = api.kind === 'service' && !sameJson(oldSpec.supportedComponentSources, newSpec.supportedComponentSources);
  if (!descriptionChanged && !compatibleChanged && !sourcesChanged) {
    return undefined;
  }
  return {
    // Proton keeps a description it is not sent: an emptied one is sent as ''.
    description: descriptionChanged ? newSpec.description ?? '' : undefined,
    compatibleEnvironmentTemplates: compatibleChanged ? newSpec.compatibleEnvironmentTemplates : undefined,
    supportedComponentSources: sourcesChanged ? newSpec.supportedComponentSources ?? [] : undefined,
  };
}

/**
 * Registers a new version. A major that already exists gets a new minor; a major that does not exist yet is opened by
 * omitting majorVersion, which Proton only does for the next major in sequence.
 */
async function createVersion(api: VersionApi, event: OnEventRequest, spec: TemplateVersionSpec): Promise<OnEventResponse> {
  const majorExists = (await ignoreNotFound(() => api.list(spec.templateName, spec.majorVersion)) ?? []).length > 0;
  if (!majorExists) {
    const majors = await ignoreNotFound(() => api.list(spec.templateName)) ?? [];
    const highest = Math.max(0, ...majors.map(version => Number(version.majorVersion)));
    if (Number(spec.majorVersion) !== highest + 1) {
      throw new Error(`Cannot create ${api.kind} template version with MajorVersion '${spec.majorVersion}' in template ` +
        `${spec.templateName}: Proton opens major versions in sequence and the template's highest major is ${highest || 'none'}, ` +
        `so the next major must be '${highest + 1}'. Deploy a version of each missing major first.`);
    }
  }
  const token = clientToken(event, api.createOperation);
  let version: Version;
  try {
    version = await api.create(spec, majorExists ? spec.majorVersion : undefined, token);
  } catch (error) {
    if (!isIdempotentParameterMismatch(error)) {
      throw error;
    }
    // A delivery of this event already opened the major (its response was lost), so this delivery saw the major and sent
    // it. Repeating the first delivery's call returns the version it created.
    log('client token already used with the other major-version shape; repeating the first call', event);
    version = await api.create(spec, majorExists ? undefined : spec.majorVersion, token);
  }
  log('template version created', event, { version: physicalId(version), status: version.status });
  return { PhysicalResourceId: physicalId(version) };
}

async function onEvent(api: VersionApi, event: OnEventRequest): Promise<OnEventResponse> {
  switch (event.RequestType) {
    case 'Create':
      return createVersion(api, event, decodeTemplateVersionProperties(event.ResourceProperties, api.resourceType));
    case 'Update': {
      const newSpec = decodeTemplateVersionProperties(event.ResourceProperties, api.resourceType);
      const oldSpec = decodeTemplateVersionProperties(event.OldResourceProperties, api.resourceType);
      const current = parsePhysicalId(event.PhysicalResourceId);
      if (!current || needsReplacement(oldSpec, newSpec)) {
        return createVersion(api, event, newSpec);
      }
      const update = inPlaceUpdate(api, oldSpec, newSpec);
      if (update) {
        await api.update(current, update);
        log('template version updated in place', event);
      }
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    case 'Delete':
      // Deleting happens in isComplete, which can wait; the deadline bounds the wait for other versions (see isDeleted).
      return { PhysicalResourceId: event.PhysicalResourceId, DeleteWaitDeadline: String(Date.now() + recommendedDeleteWaitMs()) };
  }
}

function recommendedDeleteWaitMs(): number {
  const configured = Number(process.env[RECOMMENDED_DELETE_WAIT_VARIABLE]);
  return (Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_RECOMMENDED_DELETE_WAIT_SECONDS) * 1000;
}

async function isComplete(api: VersionApi, event: IsCompleteRequest): Promise<IsCompleteResponse> {
  if (event.RequestType === 'Delete') {
    return { IsComplete: await isDeleted(api, event) };
  }
  const ref = parsePhysicalId(event.PhysicalResourceId);
  if (!ref) {
    throw new Error(`${api.resourceType}: unexpected physical resource id ${JSON.stringify(event.PhysicalResourceId)}`);
  }
  const spec = decodeTemplateVersionProperties(event.ResourceProperties, api.resourceType);
  const version = await api.get(ref);
  if (!version) {
    throw new Error(`The ${describe(api, ref)} no longer exists in Proton`);
  }
  if (version.majorVersion !== spec.majorVersion) {
    throw new Error(`Proton registered the ${describe(api, ref)} in major version ${version.majorVersion}, not in ` +
      `MajorVersion '${spec.majorVersion}': Proton numbers new majors itself. Set majorVersion to '${version.majorVersion}'.`);
  }
  switch (version.status) {
    case TemplateVersionStatus.REGISTRATION_IN_PROGRESS:
      return { IsComplete: false };
    case TemplateVersionStatus.REGISTRATION_FAILED:
      throw new Error(`Proton could not register the ${describe(api, ref)}: ${version.statusMessage ?? 'no reason given'}`);
    case TemplateVersionStatus.DRAFT: {
      if (!spec.publish) {
        return completed(version);
      }
      const published = await whenNotBusy(() => api.update(ref, { status: TemplateVersionStatus.PUBLISHED }));
      log('template version published', event);
      return published?.status === TemplateVersionStatus.PUBLISHED ? completed(published) : { IsComplete: false };
    }
    case TemplateVersionStatus.PUBLISHED:
      return completed(version);
    default:
      throw new Error(`The ${describe(api, ref)} has a status this handler does not know: ${version.status}`);
  }
}

function completed(version: Version): IsCompleteResponse {
  return {
    IsComplete: true,
    Data: {
      [TemplateVersionAttributes.MAJOR_VERSION]: version.majorVersion,
      [TemplateVersionAttributes.MINOR_VERSION]: version.minorVersion,
      [TemplateVersionAttributes.TEMPLATE_VERSION_ARN]: version.arn,
    },
  };
}

/** The call's result, or undefined when Proton answered ConflictException (busy: the caller polls again). */
async function whenNotBusy<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isConflict(error)) {
      return undefined;
    }
    throw error;
  }
}

async function isDeleted(api: VersionApi, event: IsCompleteRequest): Promise<boolean> {
  const ref = parsePhysicalId(event.PhysicalResourceId);
  if (!ref) {
    return true; // nothing was created under this id
  }
  // A refusal is explained by the versions that exist after it; when none explains it, they changed in between
  // (another version of the stack was deleted at the same time), so the delete is tried once more.
  for (let attempt = 1; ; attempt++) {
    try {
      await api.delete(ref);
      log('template version deleted', event);
      return true;
    } catch (error) {
      if (isNotFound(error)) {
        return true;
      }
      if (errorName(error) !== 'ConflictException' && errorName(error) !== 'ValidationException') {
        throw error;
      }
      const version = await api.get(ref);
      if (!version) {
        return true;
      }
      if (version.status === TemplateVersionStatus.REGISTRATION_IN_PROGRESS) {
        return false;
      }
      const blockers = await otherVersionsKeepingRecommended(api, version);
      if (blockers.length === 0 && attempt === 1) {
        continue;
      }
      if (blockers.length === 0) {
        throw new Error(`Proton refused to delete the ${describe(api, ref)}: ${errorMessage(error)}`);
      }
      if (Date.now() < Number(event.DeleteWaitDeadline ?? 0)) {
        log('waiting for the other versions of the template to be deleted first', event, { otherVersions: blockers });
        return false;
      }
      throw new Error(`Proton refused to delete the ${describe(api, ref)}: ${errorMessage(error)}. ` +
        `Versions ${blockers.join(', ')} still exist, and Proton deletes a recommended version only after them: ` +
        'delete them first, or keep this version with RemovalPolicy.RETAIN.');
    }
  }
}

/**
 * The versions that keep Proton from deleting this one: a recommended minor goes only after the other minors of its
 * major, and the template's recommended version only after every other version.
 */
async function otherVersionsKeepingRecommended(api: VersionApi, version: Version): Promise<string[]> {
  const self = physicalId(version);
  const recommendedOverall = await api.recommendedVersion(version.templateName) === `${version.majorVersion}.${version.minorVersion}`;
  const recommendedMinor = version.recommendedMinorVersion === version.minorVersion;
  if (!recommendedOverall && !recommendedMinor) {
    return [];
  }
  const others = (await api.list(version.templateName, version.majorVersion)).map(physicalId);
  if (recommendedOverall) {
    for (const major of await api.list(version.templateName)) {
      if (major.majorVersion !== version.majorVersion) {
        others.push(...(await api.list(version.templateName, major.majorVersion)).map(physicalId));
      }
    }
  }
  return [...new Set(others)].filter(id => id !== self).sort();
}

function resourceHandler(api: VersionApi): ResourceHandler {
  return {
    onEvent: event => onEvent(api, event),
    isComplete: event => isComplete(api, event),
  };
}

export const environmentTemplateVersionHandler = resourceHandler(environmentApi);
export const serviceTemplateVersionHandler = resourceHandler(serviceApi);
