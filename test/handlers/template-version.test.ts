/**
 * The template version handler's lifecycle, driven through the Provider framework's contract (provider-runner) against
 * proton-local, as CloudFormation would drive it.
 */
import {
  CreateEnvironmentCommand,
  CreateEnvironmentTemplateCommand,
  CreateServiceTemplateCommand,
  GetEnvironmentTemplateVersionCommand,
  GetServiceTemplateVersionCommand,
  ListEnvironmentTemplateVersionsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
} from '@aws-sdk/client-proton';
import { handler } from '../../lambda/proton.lambda';
import { POLL_BUDGET_VARIABLE } from '../../lambda/shared/lifecycle';
import { CustomResourceEvent, ProviderFailure, runProvider } from '../../src/local/deploy/provider-runner';
import { usualBundleObjectKey } from '../../src/private/bundle-key';
import { BUNDLE_BUCKET_VARIABLE, ResourceTypes, SystemTags, TemplateVersionProperties as P } from '../../src/private/properties';
import { sampleBundle, TEST_CREDENTIALS, TEST_REGION, useProtonLocal } from '../local/helpers';

const env = useProtonLocal({ registrationDelayMs: 30 });
const BUCKET = 'bundles';
const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/templates/2f7e5c10-0000-4000-8000-000000000001';
const ENV_BUNDLE = sampleBundle('environment-templates/vpc-env/v1');
const SVC_BUNDLE = sampleBundle('service-templates/load-balanced-fargate-svc/v1');

beforeAll(() => {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_PROTON: env.local.endpoint,
    AWS_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    // One step per isComplete invocation: the framework's query interval (10 ms here) paces the polls.
    [POLL_BUDGET_VARIABLE]: '0',
  });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

let requestNumber = 0;

function versionEvent(
  requestType: 'Create' | 'Update' | 'Delete', properties: { [name: string]: string }, extra: Partial<CustomResourceEvent> = {},
): CustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent',
    ResponseURL: 'https://cloudformation-custom-resource-response.invalid/secret-presigned',
    StackId: STACK_ID,
    RequestId: `request-${++requestNumber}`,
    LogicalResourceId: 'Version',
    ResourceType: ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent', ...properties },
    ...extra,
  };
}

/** Runs an event as the Provider framework would: the onEvent function, then the isComplete function until done. */
function deploy(event: CustomResourceEvent) {
  const phase = (name: string) => async (payload: any) => {
    process.env.PROTON_HANDLER_PHASE = name;
    return handler(payload);
  };
  return runProvider(event, { onEvent: phase('onEvent'), isComplete: phase('isComplete'), queryIntervalMs: 10, totalTimeoutMs: 10_000 });
}

async function failure(promise: Promise<unknown>): Promise<ProviderFailure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderFailure);
    return error as ProviderFailure;
  }
  throw new Error('expected the deployment to fail');
}

async function environmentTemplate(name = 'vpc') {
  await env.proton.send(new CreateEnvironmentTemplateCommand({ name }));
  await env.uploadBundle(BUCKET, `${name}/v1.tar.gz`, ENV_BUNDLE);
  return {
    [P.TEMPLATE_NAME]: name,
    [P.MAJOR_VERSION]: '1',
    [P.PUBLISH]: 'true',
    [P.SOURCE_S3_BUCKET]: BUCKET,
    [P.SOURCE_S3_KEY]: `${name}/v1.tar.gz`,
  };
}

async function getVersion(templateName: string, majorVersion: string, minorVersion: string) {
  return (await env.proton.send(new GetEnvironmentTemplateVersionCommand({ templateName, majorVersion, minorVersion })))
    .environmentTemplateVersion!;
}

async function versionsOf(templateName: string, majorVersion = '1') {
  const page = await env.proton.send(new ListEnvironmentTemplateVersionsCommand({ templateName, majorVersion }));
  return page.templateVersions!.map(v => `${v.majorVersion}.${v.minorVersion}:${v.status}`);
}

async function uploadAs(key: string, files: { [path: string]: string }) {
  await env.uploadBundle(BUCKET, key, files);
}

const HASH = 'c'.repeat(64);
const versionArn = (id: string) => `arn:aws:proton:us-east-1:123456789012:environment-template/${id}`;

async function tagsOf(id: string): Promise<{ [key: string]: string }> {
  const tags = (await env.proton.send(new ListTagsForResourceCommand({ resourceArn: versionArn(id) }))).tags ?? [];
  return Object.fromEntries(tags.map(t => [t.key!, t.value!]));
}

describe('create', () => {
  test('registers the version, publishes it and returns its numbers and ARN', async () => {
    const properties = await environmentTemplate();
    const result = await deploy(versionEvent('Create', { ...properties, [P.DESCRIPTION]: 'first' }));
    expect(result.PhysicalResourceId).toBe('vpc:1.0');
    expect(result.Data).toEqual({
      MajorVersion: '1',
      MinorVersion: '0',
      TemplateVersionArn: 'arn:aws:proton:us-east-1:123456789012:environment-template/vpc:1.0',
    });
    const version = await getVersion('vpc', '1', '0');
    expect(version.status).toBe('PUBLISHED');
    expect(version.description).toBe('first');
  });

  test('a version that is not published stays a draft', async () => {
    const properties = await environmentTemplate();
    const result = await deploy(versionEvent('Create', { ...properties, [P.PUBLISH]: 'false' }));
    expect(result.Data?.MinorVersion).toBe('0');
    expect((await getVersion('vpc', '1', '0')).status).toBe('DRAFT');
  });

  test('the same create event delivered twice registers one version', async () => {
    const properties = await environmentTemplate();
    const event = versionEvent('Create', properties);
    const first = await deploy(event);
    // The second delivery finds major 1 open and sends majorVersion, unlike the first: Proton's parameter mismatch is
    // answered by repeating the first call's shape with the same client token.
    const second = await deploy(event);
    expect(second.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(await versionsOf('vpc')).toEqual(['1.0:PUBLISHED']);
    // first delivery, second delivery's mismatched shape, its repeat of the first shape
    expect(env.local.requestLog.count('CreateEnvironmentTemplateVersion')).toBe(3);
  });

  test('a create whose response is lost is retried with the same client token: one version', async () => {
    const properties = await environmentTemplate();
    await deploy(versionEvent('Create', properties));
    env.local.setFaults({ operations: { CreateEnvironmentTemplateVersion: { dropRate: 1, count: 1 } } });
    const result = await deploy(versionEvent('Create', properties, { LogicalResourceId: 'Second' }));
    expect(result.PhysicalResourceId).toBe('vpc:1.1');
    // the first version, the dropped call, the SDK's retry of it
    expect(env.local.requestLog.count('CreateEnvironmentTemplateVersion')).toBe(3);
    expect(await versionsOf('vpc')).toEqual(['1.0:PUBLISHED', '1.1:PUBLISHED']);
  });

  test('throttling and server errors are retried with backoff', async () => {
    const properties = await environmentTemplate();
    env.local.setFaults({
      operations: {
        CreateEnvironmentTemplateVersion: { errorRate: 1, count: 2 },
        GetEnvironmentTemplateVersion: { throttleRps: 0, count: 1 },
      },
    });
    const result = await deploy(versionEvent('Create', properties));
    expect(result.PhysicalResourceId).toBe('vpc:1.0');
    expect(await versionsOf('vpc')).toEqual(['1.0:PUBLISHED']);
    expect(env.local.requestLog.count('CreateEnvironmentTemplateVersion', 'InternalServerException')).toBe(2);
    expect(env.local.requestLog.count('GetEnvironmentTemplateVersion', 'ThrottlingException')).toBe(1);
  });

  test('with a bundle hash, a create delivered twice (or after a killed deploy) adopts the version it registered', async () => {
    const properties = { ...await environmentTemplate(), [P.BUNDLE_HASH]: HASH };
    const first = await deploy(versionEvent('Create', properties));
    expect(await tagsOf(first.PhysicalResourceId)).toMatchObject({ [SystemTags.BUNDLE_HASH]: HASH });
    // Another request (a new client token): only the hash can tell it is the same version.
    const second = await deploy(versionEvent('Create', properties));
    expect(second.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(env.local.requestLog.count('CreateEnvironmentTemplateVersion')).toBe(1);
    expect(await versionsOf('vpc')).toEqual(['1.0:PUBLISHED']);
  });

  test('a publish whose response is lost is retried; Proton\'s "not a DRAFT" answer then counts as published', async () => {
    const properties = await environmentTemplate();
    env.local.setFaults({ operations: { UpdateEnvironmentTemplateVersion: { dropRate: 1, count: 1 } } });
    const result = await deploy(versionEvent('Create', properties));
    expect(result.PhysicalResourceId).toBe('vpc:1.0');
    expect(await versionsOf('vpc')).toEqual(['1.0:PUBLISHED']);
    // The dropped publish took effect; its retry found the version no longer a draft.
    expect(env.local.requestLog.count('UpdateEnvironmentTemplateVersion', 'ValidationException')).toBeGreaterThanOrEqual(1);
  });

  test('a declared major that does not exist yet opens the next major', async () => {
    const properties = await environmentTemplate();
    await deploy(versionEvent('Create', properties));
    const result = await deploy(versionEvent('Create', { ...properties, [P.MAJOR_VERSION]: '2' }, { LogicalResourceId: 'V2' }));
    expect(result.PhysicalResourceId).toBe('vpc:2.0');
  });

  test('a declared major Proton numbers otherwise is accepted, and recorded on the version so the declared major finds it', async () => {
    // An adopted template whose versions were deleted: Proton opens the next major under whatever number it gives it.
    const properties = { ...await environmentTemplate(), [P.MAJOR_VERSION]: '3', [P.BUNDLE_HASH]: HASH };
    const result = await deploy(versionEvent('Create', properties));
    expect(result.PhysicalResourceId).toBe('vpc:1.0');
    expect(result.Data).toMatchObject({ MajorVersion: '1', MinorVersion: '0' });
    expect(await tagsOf('vpc:1.0')).toMatchObject({ [SystemTags.BUNDLE_HASH]: HASH, 'cdk-proton:declared-major': '3' });
    // A re-delivery of the create finds it under the declared major: no second version.
    const again = await deploy(versionEvent('Create', properties));
    expect(again.PhysicalResourceId).toBe('vpc:1.0');
    expect(await versionsOf('vpc')).toEqual(['1.0:PUBLISHED']);
  });

  test("registration failure fails the deployment with Proton's statusMessage and leaves an id to delete", async () => {
    const properties = await environmentTemplate();
    await uploadAs('broken.tar.gz', { 'schema/schema.yaml': ENV_BUNDLE['schema/schema.yaml'] });
    const error = await failure(deploy(versionEvent('Create', { ...properties, [P.SOURCE_S3_KEY]: 'broken.tar.gz' })));
    expect(error.message).toMatch(/^Proton could not register the environment template version vpc:1\.0: Template bundle is not valid: .*infrastructure/);
    expect(error.physicalResourceId).toBe('vpc:1.0');

    // CloudFormation then deletes what the failed create left.
    await deploy(versionEvent('Delete', properties, { PhysicalResourceId: 'vpc:1.0' }));
    await expect(getVersion('vpc', '1', '0')).rejects.toThrow(/does not exist/);
  });

  test('property errors name the property and the value', async () => {
    const properties = await environmentTemplate();
    const error = await failure(deploy(versionEvent('Create', { ...properties, [P.PUBLISH]: 'yes' })));
    expect(error.message).toBe(`${ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION} property Publish: 'true' or 'false' is required, got "yes"`);
  });
});

describe('the bundle bucket', () => {
  afterEach(() => {
    delete process.env[BUNDLE_BUCKET_VARIABLE];
  });

  test('absent from the properties: the stack\'s bundle bucket, from the handler\'s environment; published when Publish is absent', async () => {
    const { [P.SOURCE_S3_BUCKET]: _bucket, [P.PUBLISH]: _publish, ...properties } = await environmentTemplate();
    process.env[BUNDLE_BUCKET_VARIABLE] = BUCKET;
    const result = await deploy(versionEvent('Create', properties));
    expect(result.PhysicalResourceId).toBe('vpc:1.0');
    expect((await getVersion('vpc', '1', '0')).status).toBe('PUBLISHED');
  });

  test('no SourceS3Key: the usual key of the bundle\'s asset, derived from BundleHash', async () => {
    const bundleHash = 'd'.repeat(64);
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'vpc' }));
    await env.uploadBundle(BUCKET, usualBundleObjectKey(bundleHash), ENV_BUNDLE);
    const properties = { [P.TEMPLATE_NAME]: 'vpc', [P.MAJOR_VERSION]: '1', [P.SOURCE_S3_BUCKET]: BUCKET, [P.BUNDLE_HASH]: bundleHash };
    expect((await deploy(versionEvent('Create', properties))).PhysicalResourceId).toBe('vpc:1.0');
    expect((await tagsOf('vpc:1.0'))[SystemTags.BUNDLE_HASH]).toBe(bundleHash);

    const { [P.BUNDLE_HASH]: _hash, ...withoutHash } = properties;
    const error = await failure(deploy(versionEvent('Create', withoutHash)));
    expect(error.message).toBe(`${ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION} property SourceS3Key: absent, and so is BundleHash, from which the `
      + 'usual key is derived: the properties must name the bundle\'s key');
  });

  test('a stack upgraded to properties without bucket, key and Publish: an update in place that calls nothing mutating', async () => {
    const bundleHash = 'e'.repeat(64);
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'vpc' }));
    await env.uploadBundle(BUCKET, usualBundleObjectKey(bundleHash), ENV_BUNDLE);
    const common = { [P.TEMPLATE_NAME]: 'vpc', [P.MAJOR_VERSION]: '1', [P.BUNDLE_HASH]: bundleHash };
    const before = { ...common, [P.PUBLISH]: 'true', [P.SOURCE_S3_BUCKET]: BUCKET, [P.SOURCE_S3_KEY]: usualBundleObjectKey(bundleHash) };
    expect((await deploy(versionEvent('Create', before))).PhysicalResourceId).toBe('vpc:1.0');

    process.env[BUNDLE_BUCKET_VARIABLE] = BUCKET;
    env.local.requestLog.clear();
    const updated = await deploy(versionEvent('Update', common, { PhysicalResourceId: 'vpc:1.0', OldResourceProperties: before }));
    expect(updated.PhysicalResourceId).toBe('vpc:1.0');
    expect(env.local.requestLog.all.map(e => e.operation).filter(op => !/^(S3\.)?(Get|List|Head)/.test(op))).toEqual([]);
    // And back (a rollback sends the old properties): the same version, still nothing mutating.
    const rolledBack = await deploy(versionEvent('Update', before, { PhysicalResourceId: 'vpc:1.0', OldResourceProperties: common }));
    expect(rolledBack.PhysicalResourceId).toBe('vpc:1.0');
    expect(env.local.requestLog.all.map(e => e.operation).filter(op => !/^(S3\.)?(Get|List|Head)/.test(op))).toEqual([]);
  });

  test('absent from both: an error naming the property and the variable', async () => {
    const { [P.SOURCE_S3_BUCKET]: _bucket, ...properties } = await environmentTemplate();
    const error = await failure(deploy(versionEvent('Create', properties)));
    expect(error.message).toBe(`${ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION} property SourceS3Bucket: absent, and the handler's `
      + 'PROTON_BUNDLE_BUCKET environment variable (the stack\'s bundle bucket) is not set: the properties must name the bundle\'s bucket');
  });
});

describe('update', () => {
  test('a new description updates the version in place', async () => {
    const properties = await environmentTemplate();
    await deploy(versionEvent('Create', { ...properties, [P.DESCRIPTION]: 'old' }));
    const result = await deploy(versionEvent('Update', { ...properties, [P.DESCRIPTION]: 'new' }, {
      PhysicalResourceId: 'vpc:1.0', OldResourceProperties: { ...properties, [P.DESCRIPTION]: 'old' },
    }));
    expect(result.PhysicalResourceId).toBe('vpc:1.0');
    expect((await getVersion('vpc', '1', '0')).description).toBe('new');
    expect(await versionsOf('vpc')).toEqual(['1.0:PUBLISHED']);
  });

  test('publish false to true publishes the draft in place', async () => {
    const properties = await environmentTemplate();
    await deploy(versionEvent('Create', { ...properties, [P.PUBLISH]: 'false' }));
    const result = await deploy(versionEvent('Update', properties, {
      PhysicalResourceId: 'vpc:1.0', OldResourceProperties: { ...properties, [P.PUBLISH]: 'false' },
    }));
    expect(result.PhysicalResourceId).toBe('vpc:1.0');
    expect(await versionsOf('vpc')).toEqual(['1.0:PUBLISHED']);
  });

  test('a new bundle registers a new minor version; the old one is deleted in the cleanup phase', async () => {
    const properties = await environmentTemplate();
    await deploy(versionEvent('Create', properties));
    await uploadAs('vpc/v2.tar.gz', ENV_BUNDLE);
    const newProperties = { ...properties, [P.SOURCE_S3_KEY]: 'vpc/v2.tar.gz' };
    const result = await deploy(versionEvent('Update', newProperties, { PhysicalResourceId: 'vpc:1.0', OldResourceProperties: properties }));
    expect(result.PhysicalResourceId).toBe('vpc:1.1');
    expect(result.Data?.MinorVersion).toBe('1');

    await deploy(versionEvent('Delete', properties, { PhysicalResourceId: 'vpc:1.0' }));
    expect(await versionsOf('vpc')).toEqual(['1.1:PUBLISHED']);
  });

  test('publish true to false registers a new draft version (Proton cannot unpublish)', async () => {
    const properties = await environmentTemplate();
    await deploy(versionEvent('Create', properties));
    const result = await deploy(versionEvent('Update', { ...properties, [P.PUBLISH]: 'false' }, {
      PhysicalResourceId: 'vpc:1.0', OldResourceProperties: properties,
    }));
    expect(result.PhysicalResourceId).toBe('vpc:1.1');
    expect(await versionsOf('vpc')).toEqual(['1.0:PUBLISHED', '1.1:DRAFT']);
  });
});

describe('rollback', () => {
  test('an in-place update is rolled back by an update with the old properties', async () => {
    const properties = await environmentTemplate();
    const oldProperties = { ...properties, [P.DESCRIPTION]: 'old' };
    const newProperties = { ...properties, [P.DESCRIPTION]: 'new' };
    await deploy(versionEvent('Create', oldProperties));
    await deploy(versionEvent('Update', newProperties, { PhysicalResourceId: 'vpc:1.0', OldResourceProperties: oldProperties }));
    await deploy(versionEvent('Update', oldProperties, { PhysicalResourceId: 'vpc:1.0', OldResourceProperties: newProperties }));
    expect((await getVersion('vpc', '1', '0')).description).toBe('old');
  });

  test('a replacement whose registration failed is rolled back by deleting the new id', async () => {
    const properties = await environmentTemplate();
    await deploy(versionEvent('Create', properties));
    await uploadAs('broken.tar.gz', { 'schema/schema.yaml': ENV_BUNDLE['schema/schema.yaml'] });
    const newProperties = { ...properties, [P.SOURCE_S3_KEY]: 'broken.tar.gz' };
    const error = await failure(deploy(versionEvent('Update', newProperties, { PhysicalResourceId: 'vpc:1.0', OldResourceProperties: properties })));
    expect(error.physicalResourceId).toBe('vpc:1.1');

    await deploy(versionEvent('Delete', newProperties, { PhysicalResourceId: 'vpc:1.1' }));
    expect(await versionsOf('vpc')).toEqual(['1.0:PUBLISHED']);
  });

  test('a published replacement Proton keeps (the recommended one, while the old exists) is superseded; deleting the old one frees it', async () => {
    const properties = await environmentTemplate();
    await deploy(versionEvent('Create', properties));
    await uploadAs('vpc/v2.tar.gz', ENV_BUNDLE);
    const newProperties = { ...properties, [P.SOURCE_S3_KEY]: 'vpc/v2.tar.gz' };
    await deploy(versionEvent('Update', newProperties, { PhysicalResourceId: 'vpc:1.0', OldResourceProperties: properties }));

    // Another resource failed: CloudFormation deletes the new version during the rollback's cleanup. Nothing waits.
    const result = await deploy(versionEvent('Delete', newProperties, { PhysicalResourceId: 'vpc:1.1' }));
    expect(result.Data?.Notice).toMatch(/Proton keeps the environment template version vpc:1\.1 \(.*\)\. It is marked cdk-proton:superseded/);
    expect(await versionsOf('vpc')).toEqual(['1.0:PUBLISHED', '1.1:PUBLISHED']);
    expect(await tagsOf('vpc:1.1')).toMatchObject({ [SystemTags.SUPERSEDED]: 'true' });

    // Whichever deployment deletes 1.0 lets Proton delete 1.1, and collects it.
    await deploy(versionEvent('Delete', properties, { PhysicalResourceId: 'vpc:1.0' }));
    expect(await versionsOf('vpc')).toEqual([]);
  });

  test('a superseded version declared again is the stack\'s own again: the mark is removed', async () => {
    const properties = { ...await environmentTemplate(), [P.BUNDLE_HASH]: HASH };
    await deploy(versionEvent('Create', properties));
    await env.proton.send(new TagResourceCommand({ resourceArn: versionArn('vpc:1.0'), tags: [{ key: SystemTags.SUPERSEDED, value: 'true' }] }));
    const result = await deploy(versionEvent('Create', properties, { LogicalResourceId: 'DeclaredAgain' }));
    expect(result.PhysicalResourceId).toBe('vpc:1.0');
    expect(await tagsOf('vpc:1.0')).not.toHaveProperty(SystemTags.SUPERSEDED);
  });
});

describe('delete', () => {
  test('deleting twice succeeds both times', async () => {
    const properties = await environmentTemplate();
    await deploy(versionEvent('Create', properties));
    await deploy(versionEvent('Delete', properties, { PhysicalResourceId: 'vpc:1.0' }));
    await deploy(versionEvent('Delete', properties, { PhysicalResourceId: 'vpc:1.0' }));
    expect(await versionsOf('vpc')).toEqual([]);
  });

  test('a delete of an id the handler never returned succeeds without calling Proton', async () => {
    const properties = await environmentTemplate();
    await deploy(versionEvent('Delete', properties, { PhysicalResourceId: 'request-that-failed' }));
    expect(env.local.requestLog.count('DeleteEnvironmentTemplateVersion')).toBe(0);
  });

  test('a version in use is kept and marked superseded: the delete succeeds with a notice naming the environment', async () => {
    const properties = await environmentTemplate();
    await deploy(versionEvent('Create', properties));
    await env.proton.send(new CreateEnvironmentCommand({
      name: 'production',
      templateName: 'vpc',
      templateMajorVersion: '1',
      spec: 'proton: EnvironmentSpec\nspec: {}\n',
      protonServiceRoleArn: 'arn:aws:iam::123456789012:role/proton-service',
    }));
    const result = await deploy(versionEvent('Delete', properties, { PhysicalResourceId: 'vpc:1.0' }));
    expect(result.Data?.Notice).toMatch(/^Proton keeps the environment template version vpc:1\.0 \(.*production.*\)/);
    expect(await versionsOf('vpc')).toEqual(['1.0:PUBLISHED']);
    expect(await tagsOf('vpc:1.0')).toMatchObject({ [SystemTags.SUPERSEDED]: 'true' });
  });

  test('deleting a stack deletes the recommended version after the others, whatever order they come in', async () => {
    const properties = await environmentTemplate();
    await deploy(versionEvent('Create', properties, { LogicalResourceId: 'V0' }));
    await deploy(versionEvent('Create', properties, { LogicalResourceId: 'V1' }));
    await deploy(versionEvent('Create', { ...properties, [P.MAJOR_VERSION]: '2' }, { LogicalResourceId: 'V2' }));
    // 2.0 is the recommended version and 1.1 the recommended minor of major 1: both must wait for the others.
    const deletes = ['vpc:2.0', 'vpc:1.1', 'vpc:1.0'].map(id =>
      deploy(versionEvent('Delete', properties, { PhysicalResourceId: id })));
    await Promise.all(deletes);
    expect(await versionsOf('vpc')).toEqual([]);
  });
});

describe('service template versions', () => {
  async function serviceTemplate() {
    const envProperties = await environmentTemplate();
    await deploy(versionEvent('Create', envProperties));
    await env.proton.send(new CreateServiceTemplateCommand({ name: 'web' }));
    await uploadAs('web/v1.tar.gz', SVC_BUNDLE);
    return {
      [P.TEMPLATE_NAME]: 'web',
      [P.MAJOR_VERSION]: '1',
      [P.SOURCE_S3_BUCKET]: BUCKET,
      [P.SOURCE_S3_KEY]: 'web/v1.tar.gz',
      [P.COMPATIBLE_ENVIRONMENT_TEMPLATES]: JSON.stringify([{ templateName: 'vpc', majorVersion: '1' }]),
    };
  }
  const serviceEvent = (requestType: 'Create' | 'Update' | 'Delete', properties: { [name: string]: string }, extra: Partial<CustomResourceEvent> = {}) =>
    versionEvent(requestType, properties, { ResourceType: ResourceTypes.SERVICE_TEMPLATE_VERSION, LogicalResourceId: 'ServiceVersion', ...extra });

  test('registers with compatible environment templates and component sources, published by default', async () => {
    const properties = { ...await serviceTemplate(), [P.SUPPORTED_COMPONENT_SOURCES]: '["DIRECTLY_DEFINED"]' };
    const result = await deploy(serviceEvent('Create', properties));
    expect(result.PhysicalResourceId).toBe('web:1.0');
    const version = (await env.proton.send(new GetServiceTemplateVersionCommand({ templateName: 'web', majorVersion: '1', minorVersion: '0' })))
      .serviceTemplateVersion!;
    expect(version.status).toBe('PUBLISHED');
    expect(version.compatibleEnvironmentTemplates).toEqual([{ templateName: 'vpc', majorVersion: '1' }]);
    expect(version.supportedComponentSources).toEqual(['DIRECTLY_DEFINED']);
  });

  test('component sources update in place', async () => {
    const properties = await serviceTemplate();
    await deploy(serviceEvent('Create', properties));
    const newProperties = { ...properties, [P.SUPPORTED_COMPONENT_SOURCES]: '["DIRECTLY_DEFINED"]' };
    const result = await deploy(serviceEvent('Update', newProperties, { PhysicalResourceId: 'web:1.0', OldResourceProperties: properties }));
    expect(result.PhysicalResourceId).toBe('web:1.0');
    const version = (await env.proton.send(new GetServiceTemplateVersionCommand({ templateName: 'web', majorVersion: '1', minorVersion: '0' })))
      .serviceTemplateVersion!;
    expect(version.supportedComponentSources).toEqual(['DIRECTLY_DEFINED']);
  });

  test('a service version needs compatible environment templates', async () => {
    const { [P.COMPATIBLE_ENVIRONMENT_TEMPLATES]: _, ...properties } = await serviceTemplate();
    const error = await failure(deploy(serviceEvent('Create', properties)));
    expect(error.message).toMatch(/CompatibleEnvironmentTemplates: at least one compatible environment template is required/);
  });
});

test('an unknown resource type fails with the types the handler serves', async () => {
  const error = await failure(deploy(versionEvent('Create', {}, { ResourceType: 'Custom::Unknown' })));
  expect(error.message).toMatch(/Unknown custom resource type "Custom::Unknown"; this handler serves .*Custom::ProtonEnvironmentTemplate, .*Custom::ProtonEnvironmentTemplateVersion/);
});
