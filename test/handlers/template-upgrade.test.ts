/**
 * A template upgrade through CloudFormation's own ordering, on proton-local, every step through the handler: the new
 * version (a replacement of the version resource) registers and publishes, the environment moves to it, and the old
 * version is deleted in the cleanup phase.
 */
import { CreateEnvironmentTemplateCommand, GetEnvironmentCommand, ListEnvironmentTemplateVersionsCommand } from '@aws-sdk/client-proton';
import { failure, Properties, useHandlerWorkloads } from './workload-events';
import { EnvironmentProperties as E, ResourceTypes, TemplateVersionProperties as V } from '../../src/private/properties';
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

test('deleting the old version before the environment moved fails, naming the environment', async () => {
  const { first } = await deployThenRegisterReplacement();
  const error = await failure(w.deploy(versionEvent('Delete', versionProperties(1), { PhysicalResourceId: first.PhysicalResourceId })));
  expect(error.message).toMatch(/environment 'prod'/);
  expect(await versions()).toEqual(['1.0:PUBLISHED', '1.1:PUBLISHED']);
  expect(await environmentVersion()).toBe('1.0:SUCCEEDED');
});
