/**
 * A template upgrade through CloudFormation's own ordering, on proton-local, every step through the handler: the new
 * version (a replacement of the version resource) registers and publishes, the environment moves to it, and the old
 * version is deleted in the cleanup phase.
 */
import {
  CreateEnvironmentTemplateCommand, GetEnvironmentCommand, ListEnvironmentTemplateVersionsCommand, ListTagsForResourceCommand,
} from '@aws-sdk/client-proton';
import { Properties, useHandlerWorkloads } from './workload-events';
import {
  EnvironmentProperties as E, ResourceTypes, SupersededVersionsProperties as S, SystemTags, TemplateVersionProperties as V,
} from '../../src/private/properties';
import { bundle, FARGATE_ENV, SERVICE_ROLE } from '../local/workload-helpers';

const w = useHandlerWorkloads();
const BUCKET = 'assets';

/** The fargate-env bundle; v2 changes a default, which keeps the schema backward compatible. */
function bundleFiles(revision: 1 | 2) {
  const files = bundle(FARGATE_ENV);
  if (revision === 2) {
    files['schema/schema.yaml'] = files['schema/schema.yaml'].replace('default: 10.0.0.0/16', 'default: 10.8.0.0/16');
  }
  return files;
}

function versionProperties(revision: 1 | 2): Properties {
  return {
    [V.TEMPLATE_NAME]: 'fargate',
    [V.MAJOR_VERSION]: '1',
    [V.PUBLISH]: 'true',
    [V.SOURCE_S3_BUCKET]: BUCKET,
    [V.SOURCE_S3_KEY]: `fargate/v${revision}.tar.gz`,
  };
}

function environmentProperties(minorVersion: string): Properties {
  return {
    [E.ENVIRONMENT_NAME]: 'prod',
    [E.TEMPLATE_NAME]: 'fargate',
    [E.TEMPLATE_MAJOR_VERSION]: '1',
    [E.TEMPLATE_MINOR_VERSION]: minorVersion,
    [E.SPEC]: JSON.stringify({ vpc_cidr: '10.0.0.0/16' }),
    [E.PROTON_SERVICE_ROLE_ARN]: SERVICE_ROLE,
  };
}

const versionEvent = (requestType: 'Create' | 'Update' | 'Delete', props: Properties, extra = {}) =>
  w.event(ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION, requestType, props, { LogicalResourceId: 'FargateVersion', ...extra });
const environmentEvent = (requestType: 'Create' | 'Update' | 'Delete', props: Properties, extra = {}) =>
  w.event(ResourceTypes.ENVIRONMENT, requestType, props, { LogicalResourceId: 'Prod', ...extra });
/** The stack's Custom::ProtonSupersededVersions, whose Generation changes when a version the stack runs on changes. */
const collectorProperties = (generation: string): Properties => ({
  [S.TEMPLATES]: JSON.stringify([{ kind: 'environment', templateName: 'fargate' }]),
  [S.GENERATION]: generation,
});
const collectorEvent = (requestType: 'Create' | 'Update' | 'Delete', extra = {}) =>
  w.event(ResourceTypes.SUPERSEDED_VERSIONS, requestType, collectorProperties('2'), { LogicalResourceId: 'CdkProtonSupersededVersions', ...extra });

async function versions() {
  const page = await w.env.proton.send(new ListEnvironmentTemplateVersionsCommand({ templateName: 'fargate', majorVersion: '1' }));
  return page.templateVersions!.map(v => `${v.majorVersion}.${v.minorVersion}:${v.status}`).sort();
}

async function environmentVersion() {
  const environment = (await w.env.proton.send(new GetEnvironmentCommand({ name: 'prod' }))).environment!;
  return `${environment.templateMajorVersion}.${environment.templateMinorVersion}:${environment.deploymentStatus}`;
}

/** The first deployment (version 1.0, environment on it), then the second deployment's replacement version (1.1). */
async function deployThenRegisterReplacement() {
  await w.env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'fargate' }));
  await w.env.uploadBundle(BUCKET, 'fargate/v1.tar.gz', bundleFiles(1));
  const first = await w.deploy(versionEvent('Create', versionProperties(1)));
  expect(first.PhysicalResourceId).toBe('fargate:1.0');
  await w.deploy(environmentEvent('Create', environmentProperties(first.Data!.MinorVersion)));
  expect(await environmentVersion()).toBe('1.0:SUCCEEDED');

  await w.env.uploadBundle(BUCKET, 'fargate/v2.tar.gz', bundleFiles(2));
  const replacement = await w.deploy(versionEvent('Update', versionProperties(2), {
    PhysicalResourceId: first.PhysicalResourceId, OldResourceProperties: versionProperties(1),
  }));
  expect(replacement.PhysicalResourceId).toBe('fargate:1.1');
  expect(await versions()).toEqual(['1.0:PUBLISHED', '1.1:PUBLISHED']);
  return { first, replacement };
}

test('the environment moves to the new version, then the old version is deleted in the cleanup phase', async () => {
  const { first, replacement } = await deployThenRegisterReplacement();
  await w.deploy(environmentEvent('Update', environmentProperties(replacement.Data!.MinorVersion), {
    PhysicalResourceId: 'prod', OldResourceProperties: environmentProperties(first.Data!.MinorVersion),
  }));
  expect(await environmentVersion()).toBe('1.1:SUCCEEDED');

  await w.deploy(versionEvent('Delete', versionProperties(1), { PhysicalResourceId: first.PhysicalResourceId }));
  expect(await versions()).toEqual(['1.1:PUBLISHED']);
  expect(await environmentVersion()).toBe('1.1:SUCCEEDED');
});

test('the old version deleted before the environment moved is kept and marked superseded; the stack\'s collector deletes it later', async () => {
  const { first, replacement } = await deployThenRegisterReplacement();
  const deleted = await w.deploy(versionEvent('Delete', versionProperties(1), { PhysicalResourceId: first.PhysicalResourceId }));
  expect(deleted.Data?.Notice).toMatch(/Proton keeps the environment template version fargate:1\.0 \(.*\)\. It is marked cdk-proton:superseded/);
  expect(await versions()).toEqual(['1.0:PUBLISHED', '1.1:PUBLISHED']);
  expect(await environmentVersion()).toBe('1.0:SUCCEEDED');

  await w.deploy(environmentEvent('Update', environmentProperties(replacement.Data!.MinorVersion), {
    PhysicalResourceId: 'prod', OldResourceProperties: environmentProperties(first.Data!.MinorVersion),
  }));
  expect(await environmentVersion()).toBe('1.1:SUCCEEDED');
  // The environment left 1.0, but the deployment could still roll back to it: only the collector, updated after every
  // environment and service of the stack, deletes it.
  expect(await versions()).toEqual(['1.0:PUBLISHED', '1.1:PUBLISHED']);
  await w.deploy(collectorEvent('Update', { PhysicalResourceId: 'superseded-versions', OldResourceProperties: collectorProperties('1') }));
  expect(await versions()).toEqual(['1.1:PUBLISHED']);
});

describe('content-addressed (the shape the constructs send)', () => {
  const hashOf = (revision: 1 | 2) => String(revision).repeat(64);
  const hashedVersion = (revision: 1 | 2) => ({ ...versionProperties(revision), [V.BUNDLE_HASH]: hashOf(revision) });
  const hashedEnvironment = (revision: 1 | 2) => {
    const { [E.TEMPLATE_MINOR_VERSION]: _, ...properties } = environmentProperties('0');
    return { ...properties, [E.TEMPLATE_BUNDLE_HASH]: hashOf(revision) };
  };

  test('an upgrade and its rollback: the environment follows the bundle; the rolled-back version is kept, superseded, and adopted again', async () => {
    await w.env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'fargate' }));
    await w.env.uploadBundle(BUCKET, 'fargate/v1.tar.gz', bundleFiles(1));
    await w.env.uploadBundle(BUCKET, 'fargate/v2.tar.gz', bundleFiles(2));
    const first = await w.deploy(versionEvent('Create', hashedVersion(1)));
    await w.deploy(environmentEvent('Create', hashedEnvironment(1)));
    expect(await environmentVersion()).toBe('1.0:SUCCEEDED');

    // The upgrade: a new version (replacement), then the environment by its new hash.
    const replacement = await w.deploy(versionEvent('Update', hashedVersion(2), {
      PhysicalResourceId: first.PhysicalResourceId, OldResourceProperties: hashedVersion(1),
    }));
    expect(replacement.PhysicalResourceId).toBe('fargate:1.1');
    await w.deploy(environmentEvent('Update', hashedEnvironment(2), { PhysicalResourceId: 'prod', OldResourceProperties: hashedEnvironment(1) }));
    expect(await environmentVersion()).toBe('1.1:SUCCEEDED');

    // Something later in the stack fails: CloudFormation rolls the environment back, then the version, by the old
    // properties; the old version still exists, so rolling the version back creates nothing.
    await w.deploy(environmentEvent('Update', hashedEnvironment(1), { PhysicalResourceId: 'prod', OldResourceProperties: hashedEnvironment(2) }));
    expect(await environmentVersion()).toBe('1.0:SUCCEEDED');
    const rolledBack = await w.deploy(versionEvent('Update', hashedVersion(1), {
      PhysicalResourceId: 'fargate:1.1', OldResourceProperties: hashedVersion(2),
    }));
    expect(rolledBack.PhysicalResourceId).toBe('fargate:1.0');
    expect(w.env.local.requestLog.count('CreateEnvironmentTemplateVersion')).toBe(2);
    // The rollback's cleanup deletes the replacement. Nothing runs on it, but it is the major's recommended version and
    // Proton deletes that only after the others: it is kept, marked superseded, and the cleanup does not wait.
    const cleanup = await w.deploy(versionEvent('Delete', hashedVersion(2), { PhysicalResourceId: 'fargate:1.1' }));
    expect(cleanup.Data?.Notice).toMatch(/Proton keeps the environment template version fargate:1\.1/);
    expect(await versions()).toEqual(['1.0:PUBLISHED', '1.1:PUBLISHED']);
    expect(await environmentVersion()).toBe('1.0:SUCCEEDED');
    const tags = (await w.env.proton.send(new ListTagsForResourceCommand({
      resourceArn: 'arn:aws:proton:us-east-1:123456789012:environment-template/fargate:1.1',
    }))).tags!;
    expect(tags).toContainEqual({ key: SystemTags.SUPERSEDED, value: 'true' });
    // Deploying the upgrade again adopts the kept version (by its hash) and makes it the stack's own again.
    const redeployed = await w.deploy(versionEvent('Update', hashedVersion(2), {
      PhysicalResourceId: 'fargate:1.0', OldResourceProperties: hashedVersion(1),
    }));
    expect(redeployed.PhysicalResourceId).toBe('fargate:1.1');
    expect(w.env.local.requestLog.count('CreateEnvironmentTemplateVersion')).toBe(2);
    const retagged = (await w.env.proton.send(new ListTagsForResourceCommand({
      resourceArn: 'arn:aws:proton:us-east-1:123456789012:environment-template/fargate:1.1',
    }))).tags!;
    expect(retagged.map(t => t.key)).not.toContain(SystemTags.SUPERSEDED);
  });
});

describe('a declared major Proton numbered otherwise (an adopted template whose versions were deleted)', () => {
  const DECLARED_MAJOR = '2';
  const hashOf = (revision: 1 | 2) => String(revision).repeat(64);
  const declaredVersion = (revision: 1 | 2) =>
    ({ ...versionProperties(revision), [V.MAJOR_VERSION]: DECLARED_MAJOR, [V.BUNDLE_HASH]: hashOf(revision) });
  const declaredEnvironment = (revision: 1 | 2) => {
    const { [E.TEMPLATE_MINOR_VERSION]: _, ...properties } = environmentProperties('0');
    return { ...properties, [E.TEMPLATE_MAJOR_VERSION]: DECLARED_MAJOR, [E.TEMPLATE_BUNDLE_HASH]: hashOf(revision) };
  };

  // BUG (reported to the lead): the second version of the declared major opens Proton major 2 (fargate:2.0) instead of
  // registering fargate:1.1, because template-version.ts create() checks only Proton's major '2' for existence; and the
  // rollback then fails ("does not exist"), because versions.ts findVersionByHash() skips versions tagged
  // cdk-proton:declared-major once Proton has a major numbered 2. test.failing passes while the bug exists; once fixed
  // it fails: make it a plain test then.
  test('a new bundle in the declared major is a new minor of it, and the rollback finds the old version', async () => {
    await w.env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'fargate' }));
    await w.env.uploadBundle(BUCKET, 'fargate/v1.tar.gz', bundleFiles(1));
    await w.env.uploadBundle(BUCKET, 'fargate/v2.tar.gz', bundleFiles(2));
    const first = await w.deploy(versionEvent('Create', declaredVersion(1)));
    expect(first.PhysicalResourceId).toBe('fargate:1.0');
    await w.deploy(environmentEvent('Create', declaredEnvironment(1)));
    const replacement = await w.deploy(versionEvent('Update', declaredVersion(2), {
      PhysicalResourceId: first.PhysicalResourceId, OldResourceProperties: declaredVersion(1),
    }));
    await w.deploy(environmentEvent('Update', declaredEnvironment(2), { PhysicalResourceId: 'prod', OldResourceProperties: declaredEnvironment(1) }));
    await w.deploy(environmentEvent('Update', declaredEnvironment(1), { PhysicalResourceId: 'prod', OldResourceProperties: declaredEnvironment(2) }));
    expect(await environmentVersion()).toBe('1.0:SUCCEEDED');
    expect(replacement.PhysicalResourceId).toBe('fargate:1.1');
  });
});

describe('publish true to false on the same bundle', () => {
  const HASH = '1'.repeat(64);
  const hashed = (publish: 'true' | 'false') => ({ ...versionProperties(1), [V.PUBLISH]: publish, [V.BUNDLE_HASH]: HASH });
  const environment = (vpcCidr: string) => {
    const { [E.TEMPLATE_MINOR_VERSION]: _, ...properties } = environmentProperties('0');
    return { ...properties, [E.TEMPLATE_BUNDLE_HASH]: HASH, [E.SPEC]: JSON.stringify({ vpc_cidr: vpcCidr }) };
  };

  // BUG (reported to the lead): Proton can't unpublish, so publish true→false registers a new DRAFT version (1.1)
  // tagged with the same bundle hash; versions.ts resolveVersion() then takes the newest version with that hash, the
  // draft, and every later update of an environment on the bundle fails ("fargate:1.1 is DRAFT: only a PUBLISHED
  // version can be deployed"). test.failing passes while the bug exists; once fixed it fails: make it a plain test then.
  test('an environment on the bundle keeps deploying on the published version', async () => {
    await w.env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'fargate' }));
    await w.env.uploadBundle(BUCKET, 'fargate/v1.tar.gz', bundleFiles(1));
    const first = await w.deploy(versionEvent('Create', hashed('true')));
    await w.deploy(environmentEvent('Create', environment('10.0.0.0/16')));
    const draft = await w.deploy(versionEvent('Update', hashed('false'), { PhysicalResourceId: first.PhysicalResourceId, OldResourceProperties: hashed('true') }));
    expect(draft.PhysicalResourceId).toBe('fargate:1.1');
    await w.deploy(environmentEvent('Update', environment('10.1.0.0/16'), { PhysicalResourceId: 'prod', OldResourceProperties: environment('10.0.0.0/16') }));
    expect(await environmentVersion()).toBe('1.0:SUCCEEDED');
  });
});
