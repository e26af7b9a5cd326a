/**
 * Custom::ProtonEnvironmentTemplateVersion and Custom::ProtonServiceTemplateVersion.
 *
 * Physical id: `<templateName>:<major>.<minor>` (the version ARN's suffix; Proton assigns the minor).
 * - Create: content-addressed. A version of the declared major registered from the same bundle (tag
 *   `cdk-proton:bundle-sha256`) is adopted: a re-delivered event, a killed deploy or a rolled-back upgrade's leftover
 *   never registers a duplicate. Otherwise one CreateXTemplateVersion call with a deterministic client token; a major
 *   with no versions is opened by omitting majorVersion, and whatever number Proton gives it is accepted (recorded in
 *   `cdk-proton:declared-major` when it differs), since Proton does not document reusing deleted major numbers.
 * - isComplete: waits for DRAFT (REGISTRATION_FAILED fails with Proton's statusMessage), brings description,
 *   compatible environment templates and component sources to the properties, publishes when asked (a version found
 *   already PUBLISHED counts as published: a dropped response must not fail the stack), syncs tags.
 * - Update: a new template, major, bundle, or publish true→false creates a new version (a new physical id:
 *   CloudFormation deletes the old one during cleanup); everything else is updated in place.
 * - Delete: gone counts as deleted. A version Proton keeps (something still runs on it, or it is the recommended one
 *   while older versions exist) is marked `cdk-proton:superseded` and the delete succeeds with a notice: the deployment
 *   that frees it deletes it, and a later deploy of the same bundle reuses it. No path waits into a timeout.
 */
import { TagResourceCommand, TemplateVersionStatus } from '@aws-sdk/client-proton';
import { usualBundleObjectKey } from '../../src/private/bundle-key';
import {
  BUNDLE_BUCKET_VARIABLE, CompatibleEnvironmentTemplateProperty, ResourceTypes, SystemTags, TemplateVersionAttributes, TemplateVersionProperties as P,
} from '../../src/private/properties';
import { errorMessage, errorName, isConflict, isIdempotentParameterMismatch, isNotDraft } from '../shared/errors';
import { acted, DONE, lifecycle, pending, Progress, ProtonResource, StepContext } from '../shared/lifecycle';
import { PropertyReader } from '../shared/properties';
import { readTags, syncTags, Tag, tagsOf, whenFree } from '../shared/tags';
import {
  ENVIRONMENT_TEMPLATES, parseVersionId, SERVICE_TEMPLATES, TemplateApi, Version, versionId, VersionRef, VersionUpdate,
} from '../shared/template-api';
import { clientToken } from '../shared/tokens';
import type { ResourceHandler, ResourceProperties } from '../shared/types';
import {
  clearSuperseded, collectSupersededVersions, DECLARED_MAJOR_TAG, findVersionByHash, forgetVersions, markSuperseded, protonMajorOf,
} from '../shared/versions';

/** The version properties, decoded. */
export interface TemplateVersionSpec {
  readonly templateName: string;
  readonly majorVersion: string;
  readonly description?: string;
  readonly publish: boolean;
  readonly sourceBucket: string;
  readonly sourceKey: string;
  /** Absent in stacks deployed before versions were content-addressed. */
  readonly bundleHash?: string;
  readonly compatibleEnvironmentTemplates?: CompatibleEnvironmentTemplateProperty[];
  readonly supportedComponentSources?: string[];
  readonly tags: Tag[];
}

/** Decodes the properties of either version resource type. */
export function decodeTemplateVersionProperties(properties: ResourceProperties | undefined, resourceType: string): TemplateVersionSpec {
  const reader = new PropertyReader(properties, resourceType);
  const spec: TemplateVersionSpec = {
    templateName: reader.string(P.TEMPLATE_NAME),
    majorVersion: reader.string(P.MAJOR_VERSION),
    description: reader.optionalString(P.DESCRIPTION),
    publish: reader.boolean(P.PUBLISH, true),
    sourceBucket: reader.optionalString(P.SOURCE_S3_BUCKET) ?? stackBundleBucket(resourceType),
    sourceKey: reader.optionalString(P.SOURCE_S3_KEY) ?? usualKey(resourceType, reader.optionalString(P.BUNDLE_HASH)),
    bundleHash: reader.optionalString(P.BUNDLE_HASH),
    compatibleEnvironmentTemplates: reader.objectList(P.COMPATIBLE_ENVIRONMENT_TEMPLATES, ['templateName', 'majorVersion']),
    supportedComponentSources: reader.stringList(P.SUPPORTED_COMPONENT_SOURCES),
    tags: readTags(reader, P.TAGS),
  };
  if (resourceType === ResourceTypes.SERVICE_TEMPLATE_VERSION && !spec.compatibleEnvironmentTemplates?.length) {
    throw new Error(`${resourceType} property ${P.COMPATIBLE_ENVIRONMENT_TEMPLATES}: at least one compatible environment template is required`);
  }
  return spec;
}

/** The bucket of a version whose properties leave SourceS3Bucket out: the stack's bundle bucket, set in the handler's environment. */
function stackBundleBucket(resourceType: string): string {
  const bucket = process.env[BUNDLE_BUCKET_VARIABLE];
  if (!bucket) {
    throw new Error(`${resourceType} property ${P.SOURCE_S3_BUCKET}: absent, and the handler's ${BUNDLE_BUCKET_VARIABLE} environment `
      + 'variable (the stack\'s bundle bucket) is not set: the properties must name the bundle\'s bucket');
  }
  return bucket;
}

/** The key of a version whose properties leave SourceS3Key out: the usual one of its bundle's asset. */
function usualKey(resourceType: string, bundleHash: string | undefined): string {
  if (bundleHash === undefined) {
    throw new Error(`${resourceType} property ${P.SOURCE_S3_KEY}: absent, and so is ${P.BUNDLE_HASH}, from which the usual key is derived: `
      + 'the properties must name the bundle\'s key');
  }
  return usualBundleObjectKey(bundleHash);
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const sortedCompatible = (list: CompatibleEnvironmentTemplateProperty[] | undefined) =>
  (list ?? []).map(c => ({ templateName: c.templateName, majorVersion: c.majorVersion }))
    .sort((a, b) => `${a.templateName}:${a.majorVersion}`.localeCompare(`${b.templateName}:${b.majorVersion}`));

const SYSTEM_TAGS_CHECKED = 'SystemTagsChecked';

function versionResource(api: TemplateApi, resourceType: string, createOperation: string): ProtonResource<TemplateVersionSpec> {
  const what = (id: string) => `${api.words} version ${id}`;
  const readKey = (ref: VersionRef) => `version ${api.kind} ${versionId(ref)}`;
  /** The version as Proton reports it, read once per poll. */
  const getVersion = (ctx: StepContext, ref: VersionRef) => ctx.cached(readKey(ref), () => api.getVersion(ctx.client, ref));
  /** What a call answered about the version is what the rest of the poll (its Data) sees. */
  const answered = (ctx: StepContext, version: Version) => {
    ctx.forget(readKey(version));
    void ctx.cached(readKey(version), async () => version);
  };

  /** The in-place changes that bring Proton's version to the properties, or undefined when it matches. */
  const inPlaceUpdate = (spec: TemplateVersionSpec, version: Version): VersionUpdate | undefined => {
    const descriptionChanged = (spec.description ?? '') !== (version.description ?? '');
    const compatibleChanged = api.kind === 'service' && version.compatibleEnvironmentTemplates !== undefined
      && !sameJson(sortedCompatible(spec.compatibleEnvironmentTemplates), sortedCompatible(version.compatibleEnvironmentTemplates));
    const sourcesChanged = api.kind === 'service'
      && !sameJson([...spec.supportedComponentSources ?? []].sort(), [...version.supportedComponentSources ?? []].sort());
    if (!descriptionChanged && !compatibleChanged && !sourcesChanged) return undefined;
    return {
      // Proton keeps a description it is not sent: an emptied one is sent as ''.
      description: descriptionChanged ? spec.description ?? '' : undefined,
      compatibleEnvironmentTemplates: compatibleChanged ? spec.compatibleEnvironmentTemplates : undefined,
      supportedComponentSources: sourcesChanged ? spec.supportedComponentSources ?? [] : undefined,
    };
  };

  /** The library's tags the version must carry: its bundle hash, the declared major when Proton numbered it otherwise. */
  const systemTagProgress = async (ctx: StepContext, spec: TemplateVersionSpec, version: Version): Promise<Progress> => {
    if (ctx.recall(SYSTEM_TAGS_CHECKED) === 'true') return DONE;
    const tags = await tagsOf(ctx, version.arn);
    if (tags.get(SystemTags.SUPERSEDED) !== undefined) {
      await clearSuperseded(ctx, version);
      return acted(`${what(versionId(version))} is declared again: no longer superseded`);
    }
    const wanted: Tag[] = [];
    if (spec.bundleHash !== undefined && tags.get(SystemTags.BUNDLE_HASH) !== spec.bundleHash) {
      wanted.push({ key: SystemTags.BUNDLE_HASH, value: spec.bundleHash });
    }
    if (version.majorVersion !== spec.majorVersion && tags.get(DECLARED_MAJOR_TAG) !== spec.majorVersion) {
      wanted.push({ key: DECLARED_MAJOR_TAG, value: spec.majorVersion });
    }
    if (wanted.length > 0) {
      return whenFree(`tagging ${what(versionId(version))}`, () => ctx.client.send(new TagResourceCommand({
        resourceArn: version.arn, tags: wanted,
      })));
    }
    ctx.remember(SYSTEM_TAGS_CHECKED, 'true');
    return DONE;
  };

  const publish = async (ctx: StepContext, version: Version): Promise<Progress> => {
    try {
      const published = await api.updateVersion(ctx.client, version, { status: TemplateVersionStatus.PUBLISHED });
      // Publishing is synchronous: Proton's answer shows the version PUBLISHED, and with the tags this event's create
      // sent, nothing is left to do (the Data comes from the answer too).
      if (published?.status === TemplateVersionStatus.PUBLISHED && ctx.sentTags) {
        answered(ctx, { ...version, ...published });
        return DONE;
      }
      return acted(`publishing ${what(versionId(version))}`);
    } catch (error) {
      if (isConflict(error)) return pending(`publishing ${what(versionId(version))}: Proton reported a conflict`);
      // A retried publish whose first response was lost finds the version already published: that is success.
      ctx.forget(readKey(version));
      if (isNotDraft(error) && (await getVersion(ctx, version))?.status === TemplateVersionStatus.PUBLISHED) {
        return acted(`${what(versionId(version))} was already published`);
      }
      throw error;
    }
  };

  return {
    resourceType,
    decode: properties => decodeTemplateVersionProperties(properties, resourceType),

    needsNewResource(previous, desired, physicalId) {
      return !parseVersionId(physicalId)
        || previous.templateName !== desired.templateName
        || previous.majorVersion !== desired.majorVersion
        || (previous.bundleHash ?? `${previous.sourceBucket}/${previous.sourceKey}`) !== (desired.bundleHash ?? `${desired.sourceBucket}/${desired.sourceKey}`)
        || (previous.publish && !desired.publish); // Proton cannot unpublish
    },

    async create(ctx, spec) {
      if (spec.bundleHash !== undefined) {
        const existing = await findVersionByHash(ctx, api, spec.templateName, spec.majorVersion, spec.bundleHash);
        const usable = existing && existing.status !== TemplateVersionStatus.REGISTRATION_FAILED
          && (spec.publish || existing.status !== TemplateVersionStatus.PUBLISHED);
        if (existing && usable) {
          ctx.log('adopted the version registered from the same bundle', { version: versionId(existing) });
          return versionId(existing);
        }
      }
      // The declared major may live under another number in Proton (see DECLARED_MAJOR_TAG): a new minor goes there.
      const protonMajor = await protonMajorOf(ctx, api, spec.templateName, spec.majorVersion);
      const majorExists = protonMajor !== undefined;
      const token = clientToken(ctx.event, createOperation);
      const tags = [...spec.bundleHash !== undefined ? [{ key: SystemTags.BUNDLE_HASH, value: spec.bundleHash }] : [], ...spec.tags];
      const request = (majorVersion: string | undefined) => api.createVersion(ctx.client, {
        templateName: spec.templateName,
        majorVersion,
        description: spec.description,
        bucket: spec.sourceBucket,
        key: spec.sourceKey,
        compatibleEnvironmentTemplates: spec.compatibleEnvironmentTemplates,
        supportedComponentSources: spec.supportedComponentSources,
        clientToken: token,
        tags: tags.length > 0 ? tags : undefined,
      });
      let version: Version;
      try {
        version = await request(protonMajor);
      } catch (error) {
        if (!isIdempotentParameterMismatch(error)) throw error;
        // A delivery of this event already opened the major (its response was lost), so this delivery saw the major and
        // sent it. Repeating the first delivery's call returns the version it created.
        ctx.log('client token already used with the other major-version shape; repeating the first call');
        version = await request(majorExists ? undefined : spec.majorVersion);
      }
      ctx.log('template version created', { version: versionId(version), status: version.status });
      forgetVersions(ctx, api, spec.templateName);
      // The create carried the bundle hash and the user's tags; the declared major needs a tag only when Proton
      // numbered the major otherwise.
      if (version.majorVersion === spec.majorVersion) ctx.remember(SYSTEM_TAGS_CHECKED, 'true');
      ctx.tagsSent();
      return versionId(version);
    },

    async advance(ctx, physicalId, spec, previous) {
      const ref = parseVersionId(physicalId);
      if (!ref) throw new Error(`${resourceType}: unexpected physical resource id ${JSON.stringify(physicalId)}`);
      const version = await getVersion(ctx, ref);
      if (!version) throw new Error(`The ${what(physicalId)} no longer exists in Proton (deleted outside this stack?)`);
      switch (version.status) {
        case TemplateVersionStatus.REGISTRATION_IN_PROGRESS:
          return pending(`${what(physicalId)} is REGISTRATION_IN_PROGRESS`);
        case TemplateVersionStatus.REGISTRATION_FAILED:
          throw new Error(`Proton could not register the ${what(physicalId)}: ${version.statusMessage ?? 'no reason given'}`);
        case TemplateVersionStatus.DRAFT:
        case TemplateVersionStatus.PUBLISHED:
          break;
        default:
          throw new Error(`The ${what(physicalId)} has a status this handler does not know: ${version.status}`);
      }
      const tagged = await systemTagProgress(ctx, spec, version);
      if (!tagged.done) return tagged;
      const update = inPlaceUpdate(spec, version);
      if (update) {
        return whenFree(`updating ${what(physicalId)} in place`, () => api.updateVersion(ctx.client, version, update));
      }
      if (spec.publish && version.status === TemplateVersionStatus.DRAFT) {
        return publish(ctx, version);
      }
      return syncTags(ctx, version.arn, spec.tags, previous?.tags ?? []);
    },

    async advanceDeletion(ctx, physicalId) {
      const ref = parseVersionId(physicalId);
      if (!ref) return DONE; // nothing was created under this id
      const version = await getVersion(ctx, ref);
      if (!version) {
        // Deleted by an earlier attempt of this step, whose collection of the siblings it freed may not have finished.
        await collectSupersededVersions(ctx, api, ref.templateName);
        return DONE;
      }
      if (version.status === TemplateVersionStatus.REGISTRATION_IN_PROGRESS) {
        return pending(`${what(physicalId)} is REGISTRATION_IN_PROGRESS`);
      }
      try {
        await api.deleteVersion(ctx.client, ref);
      } catch (error) {
        if (!isConflict(error) && errorName(error) !== 'ValidationException') throw error;
        ctx.forget(readKey(ref));
        if (!await getVersion(ctx, ref)) return DONE;
        await markSuperseded(ctx, version);
        return {
          done: true,
          notice: `Proton keeps the ${what(physicalId)} (${errorMessage(error)}). It is marked ${SystemTags.SUPERSEDED}: the deployment `
            + 'that frees it deletes it, and a later deploy of the same bundle reuses it.',
        };
      }
      ctx.log('template version deleted', { version: physicalId });
      // Deleting this one may be what lets Proton delete a superseded recommended sibling.
      forgetVersions(ctx, api, ref.templateName);
      await collectSupersededVersions(ctx, api, ref.templateName);
      return DONE;
    },

    async data(ctx, physicalId) {
      const version = await getVersion(ctx, parseVersionId(physicalId)!);
      if (!version) throw new Error(`The ${what(physicalId)} no longer exists in Proton`);
      return {
        [TemplateVersionAttributes.MAJOR_VERSION]: version.majorVersion,
        [TemplateVersionAttributes.MINOR_VERSION]: version.minorVersion,
        [TemplateVersionAttributes.TEMPLATE_VERSION_ARN]: version.arn,
      };
    },
  };
}

export const environmentTemplateVersionHandler: ResourceHandler = lifecycle(
  versionResource(ENVIRONMENT_TEMPLATES, ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION, 'CreateEnvironmentTemplateVersion'));
export const serviceTemplateVersionHandler: ResourceHandler = lifecycle(
  versionResource(SERVICE_TEMPLATES, ResourceTypes.SERVICE_TEMPLATE_VERSION, 'CreateServiceTemplateVersion'));

/** For tests: the resource definitions behind the handlers. */
export const VERSION_RESOURCES = {
  environment: versionResource(ENVIRONMENT_TEMPLATES, ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION, 'CreateEnvironmentTemplateVersion'),
  service: versionResource(SERVICE_TEMPLATES, ResourceTypes.SERVICE_TEMPLATE_VERSION, 'CreateServiceTemplateVersion'),
};
