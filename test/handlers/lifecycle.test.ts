/**
 * The one handler lifecycle (lambda/shared/lifecycle.ts) with a scripted Proton client and a fake clock: polling and
 * backoff inside one invocation, throttling as "not yet", retries in onEvent, values carried between phases, one
 * client per invocation, redacted errors; and the template version resource's content-addressed create, idempotent
 * publish and never-waiting delete.
 */
import { fail, FakeClock, FakeProton, protonErrors } from './fake-proton';
import { environmentHandler } from '../../lambda/resources/environment';
import { VERSION_RESOURCES } from '../../lambda/resources/template-version';
import { DONE, lifecycle, pending, POLL_BUDGET_VARIABLE, Progress, ProtonResource } from '../../lambda/shared/lifecycle';
import type { IsCompleteRequest, OnEventRequest, OnEventResponse } from '../../lambda/shared/types';
import { EnvironmentProperties as E, ResourceTypes, SystemTags, TemplateVersionProperties as V } from '../../src/private/properties';

const mockEnvironmentClients: FakeProton[] = [];
// The environment handler is built at import with the default client factory: hand it the current fake.
jest.mock('../../lambda/shared/client', () => ({
  createProtonClient: () => mockEnvironmentClients[mockEnvironmentClients.length - 1].client(),
}));

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/platform/2f7e5c10-0000-4000-8000-000000000001';
const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent';
const HASH = 'a'.repeat(64);
const OTHER_HASH = 'b'.repeat(64);
const VERSION_ARN = 'arn:aws:proton:us-east-1:123456789012:environment-template/vpc:1.0';

let logs: string[];
beforeEach(() => {
  logs = [];
  jest.spyOn(console, 'log').mockImplementation((...args) => { logs.push(args.join(' ')); });
  delete process.env[POLL_BUDGET_VARIABLE];
});
afterEach(() => {
  jest.restoreAllMocks();
  delete process.env[POLL_BUDGET_VARIABLE];
});

function event(
  requestType: 'Create' | 'Update' | 'Delete', resourceType: string, properties: { [name: string]: string }, extra: object = {},
): OnEventRequest {
  return {
    RequestType: requestType,
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: 'https://cloudformation-custom-resource-response.invalid/secret-presigned',
    StackId: STACK_ID,
    RequestId: 'request-1',
    LogicalResourceId: 'Resource',
    ResourceType: resourceType,
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...properties },
    ...extra,
  } as OnEventRequest;
}

/** What the Provider framework sends isComplete: the onEvent request merged with onEvent's answer. */
const completionOf = (request: OnEventRequest, response: OnEventResponse): IsCompleteRequest =>
  ({ ...request, ...response } as unknown as IsCompleteRequest);

describe('the lifecycle', () => {
  /** A resource whose steps the test scripts: `steps` answers each advance, in order. */
  function scriptedResource(steps: Array<() => Progress>, overrides: Partial<ProtonResource<{ name: string }>> = {}) {
    const seen: Array<{ firstStep: boolean; previous: unknown; carried: string | undefined }> = [];
    const resource: ProtonResource<{ name: string }> = {
      resourceType: 'Custom::Test',
      decode: properties => ({ name: String(properties?.Name) }),
      needsNewResource: (previous, desired) => previous.name !== desired.name,
      create: async (ctx, desired) => {
        ctx.remember('CreatedBy', 'onEvent');
        return desired.name;
      },
      advance: async (ctx, _id, _desired, previous, firstStep) => {
        seen.push({ firstStep, previous, carried: ctx.recall('CreatedBy') });
        const step = steps.length > 1 ? steps.shift()! : steps[0];
        return step();
      },
      advanceDeletion: async () => DONE,
      ...overrides,
    };
    return { resource, seen };
  }
  const throttled = (): Progress => {
    throw protonErrors.throttling();
  };

  test('isComplete answers "not yet", not an error, while Proton throttles, backing off from 1 s to 5 s within the poll budget (its first poll a second after onEvent)', async () => {
    const clock = new FakeClock();
    const proton = new FakeProton();
    const { resource } = scriptedResource([throttled]);
    jest.spyOn(Math, 'random').mockReturnValue(1); // no jitter: the delays are the backoff itself
    const handler = lifecycle(resource, { client: () => proton.client(), sleep: clock.sleep, now: clock.now });
    const request = event('Create', 'Custom::Test', { Name: 'x' });
    const result = await handler.isComplete(completionOf(request, await handler.onEvent(request)));
    expect(result).toEqual({ IsComplete: false });
    expect(clock.sleeps.slice(0, 6)).toEqual([1000, 1000, 1500, 2250, 3375, 5000]);
    expect(Math.max(...clock.sleeps)).toBe(5000);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(50_000);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThan(45_000);
  });

  test('a finished resource whose Data read stays throttled past its budget answers "not yet", then completes with its Data', async () => {
    const clock = new FakeClock();
    let throttledReads = Infinity;
    const { resource } = scriptedResource([() => DONE], {
      data: async () => {
        if (throttledReads-- > 0) throw protonErrors.throttling();
        return { Arn: 'arn:x' };
      },
    });
    const handler = lifecycle(resource, { client: () => new FakeProton().client(), sleep: clock.sleep, now: clock.now });
    const request = completionOf(event('Create', 'Custom::Test', { Name: 'x' }), { PhysicalResourceId: 'x' });
    expect(await handler.isComplete(request)).toEqual({ IsComplete: false });
    throttledReads = 1;
    expect(await handler.isComplete(request)).toEqual({ IsComplete: true, Data: { Arn: 'arn:x' } });
  });

  test('jitter keeps each delay in the upper half of the backoff', async () => {
    const clock = new FakeClock();
    const { resource } = scriptedResource([throttled]);
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const handler = lifecycle(resource, { client: () => new FakeProton().client(), sleep: clock.sleep, now: clock.now });
    await handler.isComplete(completionOf(event('Create', 'Custom::Test', { Name: 'x' }), { PhysicalResourceId: 'x' }));
    expect(clock.sleeps.slice(0, 3)).toEqual([500, 750, 1125]);
  });

  test('PROTON_POLL_BUDGET_MS bounds the polling: 0 takes one step per invocation', async () => {
    process.env[POLL_BUDGET_VARIABLE] = '0';
    const clock = new FakeClock();
    const { resource, seen } = scriptedResource([() => pending('deploying')]);
    const handler = lifecycle(resource, { client: () => new FakeProton().client(), sleep: clock.sleep, now: clock.now });
    const result = await handler.isComplete(completionOf(event('Create', 'Custom::Test', { Name: 'x' }), { PhysicalResourceId: 'x' }));
    expect(result).toEqual({ IsComplete: false });
    expect(seen).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  test('completion is seen within the invocation that polls it: throttled, in progress, then done', async () => {
    const clock = new FakeClock();
    const { resource, seen } = scriptedResource([throttled, () => pending('deploying'), () => DONE]);
    const handler = lifecycle(resource, { client: () => new FakeProton().client(), sleep: clock.sleep, now: clock.now });
    const request = event('Create', 'Custom::Test', { Name: 'x' });
    const result = await handler.isComplete(completionOf(request, await handler.onEvent(request)));
    expect(result).toEqual({ IsComplete: true });
    expect(seen.map(s => s.firstStep)).toEqual([false, false, false]);
    // The first poll waits a second after onEvent (nothing Proton starts is over sooner), then one wait per poll.
    expect(clock.sleeps).toHaveLength(3);
    expect(clock.sleeps[0]).toBe(1000);
  });

  test('polls that find the resource on its way are 1 s growing to 1.5 s apart, up to 10 % longer, never shorter', async () => {
    const clock = new FakeClock();
    const { resource } = scriptedResource([() => pending('deploying')]);
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const handler = lifecycle(resource, { client: () => new FakeProton().client(), sleep: clock.sleep, now: clock.now });
    await handler.isComplete(completionOf(event('Create', 'Custom::Test', { Name: 'x' }), { PhysicalResourceId: 'x' }));
    expect(clock.sleeps.slice(0, 4)).toEqual([1000, 1250, 1500, 1500]);
    jest.spyOn(Math, 'random').mockReturnValue(1);
    const later = new FakeClock();
    const again = lifecycle(resource, { client: () => new FakeProton().client(), sleep: later.sleep, now: later.now });
    await again.isComplete(completionOf(event('Create', 'Custom::Test', { Name: 'x' }), { PhysicalResourceId: 'x' }));
    expect(Math.max(...later.sleeps)).toBeCloseTo(1650);
  });

  test('a server error or a dropped connection is "not yet" too; any other error fails the resource', async () => {
    const clock = new FakeClock();
    process.env[POLL_BUDGET_VARIABLE] = '0';
    const connectionReset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    for (const transient of [protonErrors.internal(), connectionReset]) {
      const { resource } = scriptedResource([() => { throw transient; }]);
      const handler = lifecycle(resource, { client: () => new FakeProton().client(), sleep: clock.sleep, now: clock.now });
      await expect(handler.isComplete(completionOf(event('Create', 'Custom::Test', { Name: 'x' }), { PhysicalResourceId: 'x' })))
        .resolves.toEqual({ IsComplete: false });
    }
    const { resource } = scriptedResource([() => { throw protonErrors.validation('template version 1.0 failed to register'); }]);
    const handler = lifecycle(resource, { client: () => new FakeProton().client(), sleep: clock.sleep, now: clock.now });
    await expect(handler.isComplete(completionOf(event('Create', 'Custom::Test', { Name: 'x' }), { PhysicalResourceId: 'x' })))
      .rejects.toThrow('template version 1.0 failed to register');
  });

  test('onEvent retries a throttled step with backoff and succeeds', async () => {
    const clock = new FakeClock();
    let attempts = 0;
    const { resource } = scriptedResource([() => DONE], {
      create: async (_ctx, desired) => {
        if (++attempts <= 2) throw protonErrors.throttling();
        return desired.name;
      },
    });
    const handler = lifecycle(resource, { client: () => new FakeProton().client(), sleep: clock.sleep, now: clock.now });
    await expect(handler.onEvent(event('Create', 'Custom::Test', { Name: 'web' }))).resolves.toMatchObject({ PhysicalResourceId: 'web' });
    expect(attempts).toBe(3);
    expect(clock.sleeps).toHaveLength(2);
    expect(logs.filter(l => l.includes('transient Proton error, retrying'))).toHaveLength(2);
  });

  test('onEvent gives up on throttling after its retry budget (12 minutes, at most one 30 s backoff more), within its 14-minute timeout', async () => {
    const clock = new FakeClock();
    const { resource } = scriptedResource([() => DONE], { create: async () => { throw protonErrors.throttling(); } });
    const handler = lifecycle(resource, { client: () => new FakeProton().client(), sleep: clock.sleep, now: clock.now });
    const started = clock.nowMs;
    await expect(handler.onEvent(event('Create', 'Custom::Test', { Name: 'web' }))).rejects.toThrow('Rate exceeded');
    expect(clock.nowMs - started).toBeGreaterThanOrEqual(12 * 60_000);
    expect(clock.nowMs - started).toBeLessThan(12 * 60_000 + 30_000);
  });

  test('onEvent does not retry an error that is not transient', async () => {
    const clock = new FakeClock();
    let attempts = 0;
    const { resource } = scriptedResource([() => DONE], {
      create: async () => {
        attempts++;
        throw protonErrors.validation('name is taken');
      },
    });
    const handler = lifecycle(resource, { client: () => new FakeProton().client(), sleep: clock.sleep, now: clock.now });
    await expect(handler.onEvent(event('Create', 'Custom::Test', { Name: 'web' }))).rejects.toThrow('name is taken');
    expect(attempts).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  test('an Update takes the first step in onEvent; one that needs a new resource creates it, and isComplete then has no previous state', async () => {
    const clock = new FakeClock();
    const inPlace = scriptedResource([() => pending('updating'), () => DONE]);
    const handler = lifecycle(inPlace.resource, { client: () => new FakeProton().client(), sleep: clock.sleep, now: clock.now });
    const update = event('Update', 'Custom::Test', { Name: 'web' }, { PhysicalResourceId: 'web', OldResourceProperties: { Name: 'web' } });
    const response = await handler.onEvent(update);
    // The step left Proton working: onEvent carries when it ended, for isComplete's first poll.
    expect(response).toEqual({ PhysicalResourceId: 'web', CdkProtonCarried: { StartedAt: String(clock.now()) } });
    await handler.isComplete(completionOf(update, response));
    expect(inPlace.seen.map(s => [s.firstStep, s.previous])).toEqual([[true, { name: 'web' }], [false, { name: 'web' }]]);

    const replaced = scriptedResource([() => DONE]);
    const replacing = lifecycle(replaced.resource, { client: () => new FakeProton().client(), sleep: clock.sleep, now: clock.now });
    const rename = event('Update', 'Custom::Test', { Name: 'web2' }, { PhysicalResourceId: 'web', OldResourceProperties: { Name: 'web' } });
    const renamed = await replacing.onEvent(rename);
    expect(renamed).toEqual({ PhysicalResourceId: 'web2', CdkProtonCarried: { CreatedBy: 'onEvent', NewResource: 'true', StartedAt: String(clock.now()) } });
    await expect(replacing.isComplete(completionOf(rename, renamed))).resolves.toEqual({ IsComplete: true });
    // The old properties describe the old resource: the new one is advanced as a fresh one, seeing what onEvent carried.
    expect(replaced.seen).toEqual([{ firstStep: false, previous: undefined, carried: 'onEvent' }]);
  });

  test('each invocation gets its own client, destroyed when the invocation ends', async () => {
    const proton = new FakeProton();
    const clock = new FakeClock();
    const { resource } = scriptedResource([() => DONE]);
    const handler = lifecycle(resource, { client: () => proton.client(), sleep: clock.sleep, now: clock.now });
    const request = event('Create', 'Custom::Test', { Name: 'x' });
    const response = await handler.onEvent(request);
    await handler.isComplete(completionOf(request, response));
    await handler.isComplete(completionOf(request, response));
    expect(proton.clients).toHaveLength(3);
    expect(new Set(proton.clients).size).toBe(3);
    expect(proton.destroyed).toBe(3);
  });

  test('a client is destroyed even when the invocation fails', async () => {
    const proton = new FakeProton();
    const { resource } = scriptedResource([() => DONE], { create: async () => { throw new Error('boom'); } });
    const handler = lifecycle(resource, { client: () => proton.client() });
    await expect(handler.onEvent(event('Create', 'Custom::Test', { Name: 'x' }))).rejects.toThrow('boom');
    expect(proton.destroyed).toBe(1);
  });
});

describe('template versions', () => {
  const properties = (overrides: { [name: string]: string } = {}) => ({
    [V.TEMPLATE_NAME]: 'vpc',
    [V.MAJOR_VERSION]: '1',
    [V.PUBLISH]: 'true',
    [V.SOURCE_S3_BUCKET]: 'assets',
    [V.SOURCE_S3_KEY]: `${HASH}.gz`,
    [V.BUNDLE_HASH]: HASH,
    ...overrides,
  });
  const versionEvent = (requestType: 'Create' | 'Update' | 'Delete', extra: object = {}, props = properties()) =>
    event(requestType, ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION, props, extra);
  const version = (status: string, minorVersion = '0', extra: object = {}) => ({
    templateName: 'vpc',
    majorVersion: '1',
    minorVersion,
    status,
    arn: `arn:aws:proton:us-east-1:123456789012:environment-template/vpc:1.${minorVersion}`,
    recommendedMinorVersion: minorVersion,
    ...extra,
  });
  const tags = (entries: { [key: string]: string }) => () => ({ tags: Object.entries(entries).map(([key, value]) => ({ key, value })) });

  function versionHandler(proton: FakeProton, clock = new FakeClock()) {
    return lifecycle(VERSION_RESOURCES.environment, { client: () => proton.client(), sleep: clock.sleep, now: clock.now });
  }

  test('a Create that finds a version of the declared major with the same bundle-sha256 tag adopts it, registering nothing', async () => {
    const proton = new FakeProton()
      .on('ListEnvironmentTemplateVersions', () => ({ templateVersions: [version('PUBLISHED', '0'), version('PUBLISHED', '1')] }))
      .on('ListTagsForResource', input => (input.resourceArn === VERSION_ARN
        ? { tags: [{ key: SystemTags.BUNDLE_HASH, value: HASH }] }
        : { tags: [{ key: SystemTags.BUNDLE_HASH, value: OTHER_HASH }] }));
    const response = await versionHandler(proton).onEvent(versionEvent('Create'));
    expect(response.PhysicalResourceId).toBe('vpc:1.0');
    expect(proton.operations('CreateEnvironmentTemplateVersion')).toEqual([]);
    // Only the declared major is searched, newest first.
    expect(proton.callsOf('ListEnvironmentTemplateVersions')[0]).toMatchObject({ templateName: 'vpc', majorVersion: '1' });
    expect(proton.callsOf('ListTagsForResource').map(i => i.resourceArn)).toEqual([VERSION_ARN.replace('1.0', '1.1'), VERSION_ARN]);
  });

  test('a Create with no version of that hash registers one, tagged with the hash, with a deterministic client token', async () => {
    const proton = new FakeProton()
      .on('ListEnvironmentTemplateVersions', () => ({ templateVersions: [version('PUBLISHED', '0')] }))
      .on('ListTagsForResource', tags({ [SystemTags.BUNDLE_HASH]: OTHER_HASH }))
      .on('CreateEnvironmentTemplateVersion', () => ({ environmentTemplateVersion: version('REGISTRATION_IN_PROGRESS', '1') }));
    const response = await versionHandler(proton).onEvent(versionEvent('Create', { LogicalResourceId: 'V' }));
    expect(response.PhysicalResourceId).toBe('vpc:1.1');
    const [create] = proton.callsOf('CreateEnvironmentTemplateVersion');
    expect(create).toMatchObject({
      templateName: 'vpc',
      majorVersion: '1',
      source: { s3: { bucket: 'assets', key: `${HASH}.gz` } },
      tags: [{ key: SystemTags.BUNDLE_HASH, value: HASH }],
    });
    expect(create.clientToken).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a version of that hash that failed to register is not adopted', async () => {
    const proton = new FakeProton()
      .on('ListEnvironmentTemplateVersions', () => ({ templateVersions: [version('REGISTRATION_FAILED', '0')] }))
      .on('ListTagsForResource', tags({ [SystemTags.BUNDLE_HASH]: HASH }))
      .on('CreateEnvironmentTemplateVersion', () => ({ environmentTemplateVersion: version('REGISTRATION_IN_PROGRESS', '1') }));
    expect((await versionHandler(proton).onEvent(versionEvent('Create'))).PhysicalResourceId).toBe('vpc:1.1');
    expect(proton.operations('CreateEnvironmentTemplateVersion')).toHaveLength(1);
  });

  test('a publish refused with "can only change from DRAFT to PUBLISHED" while the version is PUBLISHED counts as published', async () => {
    const proton = new FakeProton()
      // The draft is seen, the publish's first response was lost, the version is found published afterwards.
      .on('GetEnvironmentTemplateVersion',
        () => ({ environmentTemplateVersion: version('DRAFT') }),
        () => ({ environmentTemplateVersion: version('PUBLISHED') }))
      .on('ListTagsForResource', tags({ [SystemTags.BUNDLE_HASH]: HASH }))
      .on('UpdateEnvironmentTemplateVersion', fail(protonErrors.validation('Template version status can only change from DRAFT to PUBLISHED')));
    const request = versionEvent('Create');
    const result = await versionHandler(proton).isComplete(completionOf(request, { PhysicalResourceId: 'vpc:1.0' }));
    expect(result).toEqual({
      IsComplete: true,
      Data: { MajorVersion: '1', MinorVersion: '0', TemplateVersionArn: VERSION_ARN },
    });
    expect(proton.callsOf('UpdateEnvironmentTemplateVersion')).toEqual([expect.objectContaining({ status: 'PUBLISHED' })]);
  });

  test('the same refusal while the version is still a draft fails with Proton\'s message', async () => {
    const proton = new FakeProton()
      .on('GetEnvironmentTemplateVersion', () => ({ environmentTemplateVersion: version('DRAFT') }))
      .on('ListTagsForResource', tags({ [SystemTags.BUNDLE_HASH]: HASH }))
      .on('UpdateEnvironmentTemplateVersion', fail(protonErrors.validation('Template version status can only change from DRAFT to PUBLISHED')));
    const request = versionEvent('Create');
    await expect(versionHandler(proton).isComplete(completionOf(request, { PhysicalResourceId: 'vpc:1.0' })))
      .rejects.toThrow('can only change from DRAFT to PUBLISHED');
  });

  test('a version Proton refuses to delete is tagged superseded, and the delete succeeds at once with a Notice', async () => {
    const proton = new FakeProton()
      .on('GetEnvironmentTemplateVersion', () => ({ environmentTemplateVersion: version('PUBLISHED') }))
      .on('DeleteEnvironmentTemplateVersion', fail(protonErrors.conflict('Template version vpc:1.0 is in use by environment production')))
      .on('TagResource', () => ({}));
    const handler = versionHandler(proton);
    const request = versionEvent('Delete', { PhysicalResourceId: 'vpc:1.0' });
    const response = await handler.onEvent(request);
    expect(response.PhysicalResourceId).toBe('vpc:1.0');
    expect(proton.callsOf('TagResource')).toEqual([{ resourceArn: VERSION_ARN, tags: [{ key: SystemTags.SUPERSEDED, value: 'true' }] }]);

    const callsBefore = proton.calls.length;
    const result = await handler.isComplete(completionOf(request, response));
    expect(result).toEqual({ IsComplete: true, Data: { Notice: expect.stringMatching(new RegExp(`marked ${SystemTags.SUPERSEDED}`)) } });
    expect(JSON.stringify(result)).toMatch(/Proton keeps the environment template version vpc:1\.0 \(Template version vpc:1\.0 is in use by environment production\)/);
    // Nothing left to wait for: isComplete makes no call.
    expect(proton.calls.length).toBe(callsBefore);
  });

  test('a version already gone counts as deleted (its superseded siblings are collected)', async () => {
    const proton = new FakeProton()
      .on('GetEnvironmentTemplateVersion', fail(protonErrors.notFound()))
      .on('ListEnvironmentTemplateVersions', () => ({ templateVersions: [version('PUBLISHED', '1')] }))
      .on('ListTagsForResource', tags({ [SystemTags.SUPERSEDED]: 'true' }))
      .on('DeleteEnvironmentTemplateVersion', () => ({}));
    const request = versionEvent('Delete', { PhysicalResourceId: 'vpc:1.0' });
    const response = await versionHandler(proton).onEvent(request);
    expect(response.PhysicalResourceId).toBe('vpc:1.0');
    expect(proton.callsOf('DeleteEnvironmentTemplateVersion')).toEqual([expect.objectContaining({ majorVersion: '1', minorVersion: '1' })]);
  });

  test('isComplete treats a throttled Get as "not yet"', async () => {
    process.env[POLL_BUDGET_VARIABLE] = '0';
    const proton = new FakeProton().on('GetEnvironmentTemplateVersion', fail(protonErrors.throttling()));
    const request = versionEvent('Create');
    await expect(versionHandler(proton).isComplete(completionOf(request, { PhysicalResourceId: 'vpc:1.0' })))
      .resolves.toEqual({ IsComplete: false });
  });
});

describe('redaction', () => {
  const SECRET = 'hunter2-database-password';
  const environmentProperties = {
    [E.ENVIRONMENT_NAME]: 'prod',
    [E.TEMPLATE_NAME]: 'fargate',
    [E.TEMPLATE_MAJOR_VERSION]: '1',
    [E.TEMPLATE_MINOR_VERSION]: '0',
    [E.SPEC]: JSON.stringify({ db_password: SECRET, size: 'small' }),
    [E.PROTON_SERVICE_ROLE_ARN]: 'arn:aws:iam::123456789012:role/proton-service',
  };

  test('an error message containing a spec value is redacted in the thrown error, keeping its name', async () => {
    const proton = new FakeProton()
      .on('GetEnvironment', fail(protonErrors.notFound()))
      .on('CreateEnvironment', fail(protonErrors.validation(`spec input db_password: "${SECRET}" is not allowed here`)));
    mockEnvironmentClients.push(proton);
    const error = await environmentHandler.onEvent(event('Create', ResourceTypes.ENVIRONMENT, environmentProperties)).catch(e => e);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('spec input db_password: "***" is not allowed here');
    expect(error.name).toBe('ValidationException');
    expect(logs.join('\n')).not.toContain(SECRET);
  });

  test('values shorter than four characters are left alone (they are too likely words of the message itself)', async () => {
    const proton = new FakeProton()
      .on('GetEnvironment', fail(protonErrors.notFound()))
      .on('CreateEnvironment', fail(protonErrors.validation('input size: small is not one of large, xl')));
    mockEnvironmentClients.push(proton);
    const properties = { ...environmentProperties, [E.SPEC]: JSON.stringify({ size: 'xl' }) };
    await expect(environmentHandler.onEvent(event('Create', ResourceTypes.ENVIRONMENT, properties)))
      .rejects.toThrow('input size: small is not one of large, xl');
  });

  test('the old properties\' spec values of an Update are redacted too', async () => {
    const OLD_SECRET = 'old-secret-value-1234';
    const proton = new FakeProton()
      .on('GetEnvironment', fail(protonErrors.validation(`environment still deploying ${OLD_SECRET}`)));
    mockEnvironmentClients.push(proton);
    const update = event('Update', ResourceTypes.ENVIRONMENT, environmentProperties, {
      PhysicalResourceId: 'prod', OldResourceProperties: { ...environmentProperties, [E.SPEC]: JSON.stringify({ db_password: OLD_SECRET }) },
    });
    await expect(environmentHandler.onEvent(update)).rejects.toThrow('environment still deploying ***');
  });
});
