/**
 * Template versions across stacks. A version is identified by what is known at synth time (template name, declared
 * major, bundle content hash, recorded on the version as a tag), never by the minor Proton assigns, so no stack exports
 * a value that changes on upgrade. A replaced version that something still runs on is marked superseded and deleted
 * by whichever deployment frees it.
 */
import { TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-proton';
import { errorMessage, errorName, isConflict, isTransient } from './errors';
import type { StepContext } from './lifecycle';
import { tagsOf } from './tags';
import { TemplateApi, Version, versionId } from './template-api';
import { SystemTags } from '../../src/private/properties';

/** Which version an environment, service instance or pipeline runs on. */
export interface VersionSelector {
  readonly templateName: string;
  /** The major the app declares (Proton may have numbered it differently: see DECLARED_MAJOR_TAG). */
  readonly majorVersion: string;
  /** A pinned minor. */
  readonly minorVersion?: string;
  /** The bundle's content hash: the version registered from that bundle. */
  readonly bundleHash?: string;
}

export interface ResolvedVersion {
  readonly major: string;
  readonly minor: string;
}

/**
 * Set on a version whose major Proton numbered differently from the declared one (Proton never reuses a deleted major
 * number, or may: the API reference does not say), so the declared major still finds it.
 */
export const DECLARED_MAJOR_TAG = 'cdk-proton:declared-major';

const byNewest = (a: Version, b: Version) =>
  Number(b.majorVersion) - Number(a.majorVersion) || Number(b.minorVersion) - Number(a.minorVersion);

export function describeSelector(api: TemplateApi, selector: VersionSelector): string {
  const which = selector.minorVersion !== undefined ? `${selector.majorVersion}.${selector.minorVersion}`
    : selector.bundleHash !== undefined ? `major ${selector.majorVersion} registered from bundle sha256:${selector.bundleHash.slice(0, 12)}`
      : `the recommended minor of major ${selector.majorVersion}`;
  return `${api.words} '${selector.templateName}' version ${which}`;
}

export function sameSelector(a: VersionSelector, b: VersionSelector): boolean {
  return a.templateName === b.templateName && a.majorVersion === b.majorVersion
    && a.minorVersion === b.minorVersion && a.bundleHash === b.bundleHash;
}

/** The versions of a template (of one major when given), listed once per poll. */
export function versionsOf(ctx: StepContext, api: TemplateApi, templateName: string, majorVersion?: string): Promise<Version[]> {
  return ctx.cached(`versions ${api.kind} ${templateName} ${majorVersion ?? '*'}`, () => api.listVersions(ctx.client, templateName, majorVersion));
}

/** Forgets the cached lists of a template's versions (after a call that added or removed one). */
export function forgetVersions(ctx: StepContext, api: TemplateApi, templateName: string): void {
  ctx.forgetAll(`versions ${api.kind} ${templateName} `);
}

/**
 * The Proton major that holds the declared one: the declared number itself while Proton has versions of it, else the
 * major of a version tagged as declared in it (Proton numbered it otherwise); undefined when there is none yet.
 */
export async function protonMajorOf(ctx: StepContext, api: TemplateApi, templateName: string, declaredMajor: string): Promise<string | undefined> {
  if ((await versionsOf(ctx, api, templateName, declaredMajor)).length > 0) return declaredMajor;
  for (const version of [...await versionsOf(ctx, api, templateName)].sort(byNewest)) {
    if ((await tagsOf(ctx, version.arn)).get(DECLARED_MAJOR_TAG) === declaredMajor) return version.majorVersion;
  }
  return undefined;
}

/**
 * The version registered from a bundle in the declared major (Proton's own major of that number, or the one Proton
 * numbered otherwise for it), newest first: a published one before a draft (publish true to false registers a draft
 * of the same bundle, which environments can't deploy).
 */
export async function findVersionByHash(
  ctx: StepContext, api: TemplateApi, templateName: string, declaredMajor: string, bundleHash: string,
): Promise<Version | undefined> {
  const major = await protonMajorOf(ctx, api, templateName, declaredMajor);
  if (major === undefined) return undefined;
  const matches: Version[] = [];
  for (const version of [...await versionsOf(ctx, api, templateName, major)].sort(byNewest)) {
    if ((await tagsOf(ctx, version.arn)).get(SystemTags.BUNDLE_HASH) !== bundleHash) continue;
    // The newest published match is the answer: older versions need not be read.
    if (version.status === 'PUBLISHED') return version;
    matches.push(version);
  }
  return matches[0];
}

/**
 * The version a selector designates, or a reason to wait (the version is still registering). Resolved once per
 * event: the answer is carried from onEvent to isComplete.
 */
export async function resolveVersion(
  ctx: StepContext, api: TemplateApi, selector: VersionSelector, carryKey: string,
): Promise<{ version: ResolvedVersion } | { waiting: string }> {
  if (selector.minorVersion !== undefined) {
    return { version: { major: selector.majorVersion, minor: selector.minorVersion } };
  }
  const carried = ctx.recall(carryKey);
  if (carried) {
    const [major, minor] = carried.split('.');
    return { version: { major, minor } };
  }
  const what = describeSelector(api, selector);
  let found: Version | undefined;
  if (selector.bundleHash !== undefined) {
    found = await findVersionByHash(ctx, api, selector.templateName, selector.majorVersion, selector.bundleHash);
    if (!found) {
      throw new Error(`${what} does not exist: deploy the stack that defines that template version first (stacks of one app `
        + 'depend on it automatically; stages of a pipeline deploy in the order the pipeline gives them)');
    }
  } else {
    const major = await protonMajorOf(ctx, api, selector.templateName, selector.majorVersion) ?? selector.majorVersion;
    const minors = await versionsOf(ctx, api, selector.templateName, major);
    const recommended = minors.find(v => v.recommendedMinorVersion !== undefined)?.recommendedMinorVersion;
    found = minors.find(v => v.minorVersion === recommended);
    if (!found) {
      throw new Error(`${what} does not exist: the major has no published version`);
    }
  }
  if (found.status === 'REGISTRATION_IN_PROGRESS' || found.status === 'REGISTRATION_FAILED') {
    if (found.status === 'REGISTRATION_FAILED') {
      throw new Error(`${what} (${versionId(found)}) failed to register: ${found.statusMessage ?? 'Proton gave no reason'}`);
    }
    return { waiting: `${what} (${versionId(found)}) is ${found.status}` };
  }
  ctx.remember(carryKey, `${found.majorVersion}.${found.minorVersion}`);
  return { version: { major: found.majorVersion, minor: found.minorVersion } };
}

/** Marks a version that Proton keeps although its resource left the stack. */
export async function markSuperseded(ctx: StepContext, version: Version): Promise<void> {
  await ctx.client.send(new TagResourceCommand({ resourceArn: version.arn, tags: [{ key: SystemTags.SUPERSEDED, value: 'true' }] }));
}

/** A superseded version that a stack declares again is its own again. */
export async function clearSuperseded(ctx: StepContext, version: Version): Promise<void> {
  await ctx.client.send(new UntagResourceCommand({ resourceArn: version.arn, tagKeys: [SystemTags.SUPERSEDED] }));
}

/**
 * Deletes the template's superseded versions that Proton now lets go (nothing runs on them, and a recommended one
 * only once it is the last of its major or template). Proton's refusals never fail the caller: what can't go yet stays
 * marked, for the next deployment that frees it. Throttling and transient errors propagate, so the step is retried.
 *
 * @returns the versions deleted
 */
export async function collectSupersededVersions(ctx: StepContext, api: TemplateApi, templateName: string): Promise<string[]> {
  const deleted: string[] = [];
  try {
    const versions = await versionsOf(ctx, api, templateName);
    const superseded: Version[] = [];
    for (const version of versions) {
      if ((await tagsOf(ctx, version.arn)).get(SystemTags.SUPERSEDED) === 'true') superseded.push(version);
    }
    // Recommended versions go last: Proton deletes them only after the other versions of their major.
    superseded.sort((a, b) => Number(a.recommendedMinorVersion === a.minorVersion) - Number(b.recommendedMinorVersion === b.minorVersion));
    for (const version of superseded) {
      try {
        await api.deleteVersion(ctx.client, version);
        deleted.push(versionId(version));
      } catch (error) {
        if (!isConflict(error) && errorName(error) !== 'ValidationException') throw error;
      }
    }
    if (deleted.length > 0) {
      forgetVersions(ctx, api, templateName);
      ctx.log('deleted superseded template versions', { versions: deleted });
    }
  } catch (error) {
    if (isTransient(error)) throw error;
    ctx.log('could not delete superseded template versions; the next deployment tries again', { error: errorMessage(error) });
  }
  return deleted;
}
