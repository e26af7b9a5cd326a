import { handler } from '../../lambda/proton.lambda';
import { createProtonClient } from '../../lambda/shared/client';
import { errorName, ignoreNotFound, isConflict, isIdempotentParameterMismatch, isNotDraft, isNotFound, isTransient } from '../../lambda/shared/errors';
import { describeEvent, log } from '../../lambda/shared/log';
import { PropertyError, PropertyReader } from '../../lambda/shared/properties';
import { redact, specValues } from '../../lambda/shared/redact';
import { clientToken } from '../../lambda/shared/tokens';
import { ResourceTypes } from '../../src/private/properties';

const TYPE = 'Custom::ProtonThing';

describe('PropertyReader', () => {
  const reader = (properties: { [name: string]: unknown } | undefined) => new PropertyReader(properties, TYPE);

  test('strings: required, optional, and scalars CloudFormation did not stringify', () => {
    expect(reader({ Name: 'web' }).string('Name')).toBe('web');
    expect(reader({ Count: 3 }).string('Count')).toBe('3');
    expect(reader({}).optionalString('Name')).toBeUndefined();
    expect(() => reader({}).string('Name')).toThrow(`${TYPE} property Name: a non-empty string is required, missing`);
    expect(() => reader({ Name: '' }).string('Name')).toThrow(`${TYPE} property Name: a non-empty string is required, got ""`);
    expect(() => reader({ Name: { a: 1 } }).string('Name')).toThrow(`${TYPE} property Name: a string is required, got {"a":1}`);
  });

  test('booleans arrive as "true" / "false"; absent takes the default', () => {
    expect(reader({ Publish: 'true' }).boolean('Publish', false)).toBe(true);
    expect(reader({ Publish: 'FALSE' }).boolean('Publish', true)).toBe(false);
    expect(reader({ Publish: false }).boolean('Publish', true)).toBe(false);
    expect(reader({}).boolean('Publish', true)).toBe(true);
    expect(reader(undefined).boolean('Publish', false)).toBe(false);
    expect(() => reader({ Publish: 'yes' }).boolean('Publish', true)).toThrow(`${TYPE} property Publish: 'true' or 'false' is required, got "yes"`);
  });

  test('lists and maps arrive as JSON strings, or already parsed', () => {
    expect(reader({ Sources: '["A","B"]' }).stringList('Sources')).toEqual(['A', 'B']);
    expect(reader({ Sources: ['A'] }).stringList('Sources')).toEqual(['A']);
    expect(reader({}).stringList('Sources')).toBeUndefined();
    expect(() => reader({ Sources: '[1]' }).stringList('Sources')).toThrow(`${TYPE} property Sources: a JSON list of strings is required, got [1]`);
    expect(() => reader({ Sources: '[' }).json('Sources')).toThrow(/property Sources: a JSON document is required \(.*\), got "\["/);
  });

  test('object lists keep only the listed fields and require them to be strings', () => {
    const value = '[{"templateName":"vpc","majorVersion":"1","extra":true}]';
    expect(reader({ Compatible: value }).objectList('Compatible', ['templateName', 'majorVersion']))
      .toEqual([{ templateName: 'vpc', majorVersion: '1' }]);
    expect(() => reader({ Compatible: '[{"templateName":"vpc"}]' }).objectList('Compatible', ['templateName', 'majorVersion']))
      .toThrow(`${TYPE} property Compatible: a JSON list of objects with string fields templateName, majorVersion is required, got [{"templateName":"vpc"}]`);
  });

  test('errors are PropertyErrors', () => {
    expect(() => reader({}).string('Name')).toThrow(PropertyError);
  });
});

describe('clientToken', () => {
  const source = { StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/s/1', LogicalResourceId: 'Version', RequestId: 'r-1' };

  test('is 64 printable characters, the same for the same request and operation', () => {
    const token = clientToken(source, 'CreateEnvironmentTemplateVersion');
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(token).toMatch(/^[!-~]{1,64}$/);
    expect(clientToken({ ...source }, 'CreateEnvironmentTemplateVersion')).toBe(token);
  });

  test('differs with each input', () => {
    const token = clientToken(source, 'Create');
    expect(clientToken({ ...source, RequestId: 'r-2' }, 'Create')).not.toBe(token);
    expect(clientToken({ ...source, LogicalResourceId: 'Other' }, 'Create')).not.toBe(token);
    expect(clientToken({ ...source, StackId: 'other' }, 'Create')).not.toBe(token);
    expect(clientToken(source, 'Update')).not.toBe(token);
  });
});

describe('createProtonClient', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('gives each call a client of its own (a shared one would share one retry-token bucket, which throttling empties)', () => {
    process.env.AWS_REGION = 'us-east-1';
    const first = createProtonClient();
    const second = createProtonClient();
    expect(second).not.toBe(first);
    first.destroy();
    second.destroy();
  });

  test('leaves retries of whole steps to the lifecycle: the SDK makes at most 3 attempts', async () => {
    process.env.AWS_REGION = 'us-east-1';
    const client = createProtonClient();
    expect(await client.config.maxAttempts()).toBe(3);
    client.destroy();
  });

  test('takes its region from the environment at creation', async () => {
    process.env.AWS_REGION = 'eu-west-1';
    const client = createProtonClient();
    expect(await client.config.region()).toBe('eu-west-1');
    client.destroy();
  });
});

describe('errors', () => {
  const named = (name: string, message = 'm') => Object.assign(new Error(message), { name });

  test('classification by the SDK exception name', () => {
    expect(isNotFound(named('ResourceNotFoundException'))).toBe(true);
    expect(isConflict(named('ConflictException'))).toBe(true);
    expect(isConflict(named('ValidationException'))).toBe(false);
    expect(errorName('plain string')).toBeUndefined();
  });

  test('an idempotent parameter mismatch is a ValidationException with words to that effect', () => {
    expect(isIdempotentParameterMismatch(named('ValidationException', 'Idempotent parameter mismatch'))).toBe(true);
    expect(isIdempotentParameterMismatch(named('ValidationException', 'IdempotentParameterMismatch: the clientToken'))).toBe(true);
    expect(isIdempotentParameterMismatch(named('ValidationException', 'Invalid name'))).toBe(false);
    expect(isIdempotentParameterMismatch(named('ConflictException', 'Idempotent parameter mismatch'))).toBe(false);
  });

  test('transient: throttling, server errors and dropped connections; not validation, conflicts or plain values', () => {
    const withStatus = (name: string, httpStatusCode: number) => Object.assign(named(name), { $metadata: { httpStatusCode } });
    expect(isTransient(withStatus('ThrottlingException', 400))).toBe(true);
    expect(isTransient(withStatus('SomethingNew', 429))).toBe(true);
    expect(isTransient(withStatus('InternalServerException', 500))).toBe(true);
    expect(isTransient(withStatus('ServiceUnavailable', 503))).toBe(true);
    expect(isTransient(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(withStatus('ValidationException', 400))).toBe(false);
    expect(isTransient(withStatus('ConflictException', 409))).toBe(false);
    expect(isTransient(withStatus('ResourceNotFoundException', 404))).toBe(false);
    expect(isTransient('Rate exceeded')).toBe(false);
    expect(isTransient(undefined)).toBe(false);
  });

  test('not a draft: the ValidationException of publishing a version that is no longer a DRAFT', () => {
    expect(isNotDraft(named('ValidationException', 'Template version status can only change from DRAFT to PUBLISHED'))).toBe(true);
    expect(isNotDraft(named('ValidationException', 'Invalid template bundle'))).toBe(false);
    expect(isNotDraft(named('ConflictException', 'DRAFT'))).toBe(false);
  });

  test('ignoreNotFound: gone counts as done, other errors propagate', async () => {
    await expect(ignoreNotFound(async () => { throw named('ResourceNotFoundException'); })).resolves.toBeUndefined();
    await expect(ignoreNotFound(async () => 'deleted')).resolves.toBe('deleted');
    await expect(ignoreNotFound(async () => { throw named('ConflictException', 'in use'); })).rejects.toThrow('in use');
  });
});

describe('logging', () => {
  const SECRET_URL = 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/secret-signature';
  const SECRET_SPEC = 'proton: EnvironmentSpec\nspec:\n  database_password: hunter2\n';
  const event = {
    RequestType: 'Delete' as const,
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:f',
    ResponseURL: SECRET_URL,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/s/1',
    RequestId: 'r-1',
    LogicalResourceId: 'Version',
    PhysicalResourceId: 'never-created',
    ResourceType: ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION,
    ResourceProperties: { ServiceToken: 'x', Spec: SECRET_SPEC, TemplateName: 'vpc' },
  };
  let lines: string[];
  beforeEach(() => {
    lines = [];
    jest.spyOn(console, 'log').mockImplementation((...args) => { lines.push(args.join(' ')); });
  });
  afterEach(() => jest.restoreAllMocks());

  test('describeEvent keeps identifiers only', () => {
    expect(describeEvent(event)).toEqual({
      requestType: 'Delete',
      resourceType: ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION,
      logicalResourceId: 'Version',
      physicalResourceId: 'never-created',
      requestId: 'r-1',
      stackId: event.StackId,
    });
  });

  test('a handler run logs neither the ResponseURL nor property values', async () => {
    process.env.PROTON_HANDLER_PHASE = 'onEvent';
    await handler(event);
    process.env.PROTON_HANDLER_PHASE = 'isComplete';
    await handler({ ...event, DeleteWaitDeadline: '0' } as any);
    expect(lines.length).toBeGreaterThan(0);
    const output = lines.join('\n');
    expect(output).not.toContain('secret-signature');
    expect(output).not.toContain('hunter2');
    expect(output).toContain('"requestId":"r-1"');
  });

  test('a failing handler logs the error message, still without the ResponseURL', async () => {
    process.env.PROTON_HANDLER_PHASE = 'neither';
    await expect(handler(event)).rejects.toThrow("PROTON_HANDLER_PHASE must be 'onEvent' or 'isComplete', got \"neither\"");
    expect(lines.join('\n')).not.toContain('secret-signature');
    log('done', event, { status: 'ok' });
    expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ message: 'done', status: 'ok', requestId: 'r-1' });
  });
});

describe('redact', () => {
  test('specValues: every string leaf of a spec, not numbers or booleans', () => {
    expect(specValues({ a: 'x1', b: { c: ['y2', 3, true, { d: 'z3' }] }, e: null })).toEqual(['x1', 'y2', 'z3']);
    expect(specValues(undefined)).toEqual([]);
  });

  test('replaces every occurrence of each secret, the longest first, and leaves values under 4 characters', () => {
    expect(redact('pass hunter2 and hunter22 and hunter2', ['hunter2', 'hunter22'])).toBe('pass *** and *** and ***');
    expect(redact('size is xl', ['xl'])).toBe('size is xl');
    expect(redact('nothing secret', [])).toBe('nothing secret');
  });
});
