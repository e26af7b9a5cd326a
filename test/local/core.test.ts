import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Readable } from 'stream';
import {
  CreateEnvironmentTemplateCommand, CreateEnvironmentTemplateVersionCommand, GetEnvironmentTemplateCommand,
  GetEnvironmentTemplateVersionCommand, ListEnvironmentTemplatesCommand, ListEnvironmentTemplateVersionsCommand,
} from '@aws-sdk/client-proton';
import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
} from '@aws-sdk/client-s3';
import { protonClient, s3Client, sampleBundle, uploadBundle, useProtonLocal } from './helpers';
import { ManualClock, ProtonLocal } from '../../src/local';
import { emptyState } from '../../src/local/emulator/state';
import { Faults } from '../../src/local/faults';

const clock = new ManualClock();
const env = useProtonLocal({ clock, registrationDelayMs: 1000 });
const VPC_ENV = sampleBundle('environment-templates/vpc-env/v1');

async function post(target: string, body: string) {
  const response = await fetch(env.local.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target },
    body,
  });
  return { status: response.status, headers: response.headers, body: await response.json() as any };
}

describe('wire protocol', () => {
  test('errors are {"__type", "message"} with HTTP 400 and the namespaced error name', async () => {
    const response = await post('AwsProton20200720.GetEnvironmentTemplate', '{"name":"missing"}');
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(response.body).toEqual({
      __type: 'com.amazonaws.proton.v20200720#ResourceNotFoundException',
      message: expect.stringContaining('environment-template/missing'),
    });
  });

  test('an unknown operation or target prefix is an UnknownOperationException naming it', async () => {
    const unknown = await post('AwsProton20200720.MakeCoffee', '{}');
    expect(unknown.status).toBe(400);
    expect(unknown.body.__type).toMatch(/#UnknownOperationException$/);
    expect(unknown.body.message).toContain('AwsProton20200720.MakeCoffee');
    const otherService = await post('DynamoDB_20120810.ListTables', '{}');
    expect(otherService.body.message).toContain('DynamoDB_20120810.ListTables');
    expect(env.local.requestLog.counts()).toEqual({
      'AwsProton20200720.MakeCoffee': { UnknownOperationException: 1 },
      'DynamoDB_20120810.ListTables': { UnknownOperationException: 1 },
    });
  });

  test('bad JSON and mistyped members are SerializationExceptions naming the member', async () => {
    expect((await post('AwsProton20200720.GetEnvironmentTemplate', '{"name":')).body.__type).toMatch(/#SerializationException$/);
    const mistyped = await post('AwsProton20200720.CreateEnvironmentTemplate', '{"name": 5}');
    expect(mistyped.body).toEqual({ __type: expect.stringMatching(/#SerializationException$/), message: "Value '5' at 'name' must be a string" });
  });

  test('timestamps are epoch seconds on the wire and Dates in the SDK', async () => {
    clock.advance(1234);
    const response = await post('AwsProton20200720.CreateEnvironmentTemplate', '{"name":"t"}');
    expect(response.body.environmentTemplate.createdAt).toBe(clock.now() / 1000);
    const viaSdk = await env.proton.send(new GetEnvironmentTemplateCommand({ name: 't' }));
    expect(viaSdk.environmentTemplate!.createdAt).toEqual(new Date(clock.now()));
  });

  test('the region of ARNs comes from the request\'s credential scope', async () => {
    const client = protonClient(env.local.endpoint, { region: 'eu-west-1' });
    const created = await client.send(new CreateEnvironmentTemplateCommand({ name: 'regional' }));
    expect(created.environmentTemplate!.arn).toBe('arn:aws:proton:eu-west-1:123456789012:environment-template/regional');
    client.destroy();
  });
});

describe('request log and admin endpoints', () => {
  test('counts requests per operation and outcome, in process and over GET /_proton-local/requests', async () => {
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'a' }));
    await env.proton.send(new GetEnvironmentTemplateCommand({ name: 'a' }));
    await expect(env.proton.send(new GetEnvironmentTemplateCommand({ name: 'b' }))).rejects.toThrow();
    await uploadBundle(env.s3, 'bucket', 'key', VPC_ENV);
    expect(env.local.requestLog.count('GetEnvironmentTemplate')).toBe(2);
    expect(env.local.requestLog.count('GetEnvironmentTemplate', 'ResourceNotFoundException')).toBe(1);
    const expected = {
      'CreateEnvironmentTemplate': { success: 1 },
      'GetEnvironmentTemplate': { success: 1, ResourceNotFoundException: 1 },
      'S3.CreateBucket': { success: 1 },
      'S3.PutObject': { success: 1 },
    };
    expect(env.local.requestLog.counts()).toEqual(expected);
    const served = await (await fetch(`${env.local.endpoint}/_proton-local/requests`)).json() as any;
    expect(served.counts).toEqual(expected);
    expect(served.requests[0]).toEqual({ operation: 'CreateEnvironmentTemplate', outcome: 'success', at: clock.now() });
  });

  test('GET /_proton-local/state shows settled state; POST /_proton-local/reset empties it', async () => {
    const source = await uploadBundle(env.s3, 'bucket', 'key', VPC_ENV);
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'a' }));
    await env.proton.send(new CreateEnvironmentTemplateVersionCommand({ templateName: 'a', source }));
    clock.advance(1000);
    const state = await (await fetch(`${env.local.endpoint}/_proton-local/state`)).json() as any;
    expect(state.environmentTemplates.a.versions['1.0'].status).toBe('DRAFT');
    expect(env.local.state.environmentTemplates.a.versions['1.0'].status).toBe('DRAFT');
    const reset = await fetch(`${env.local.endpoint}/_proton-local/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(env.local.state).toEqual(emptyState());
    expect(env.local.requestLog.count()).toBe(0);
    const unknown = await fetch(`${env.local.endpoint}/_proton-local/nothing`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).message).toContain('GET /_proton-local/requests');
  });

  test('failDeploymentsFor is recorded in the settings the operations read; reset forgets it', () => {
    env.local.failDeploymentsFor('prod');
    expect(env.local.settings.failDeploymentsFor.has('prod')).toBe(true);
    env.local.reset();
    expect(env.local.settings.failDeploymentsFor.size).toBe(0);
  });
});

describe('faults', () => {
  afterEach(() => env.local.setFaults({}));

  test('throttling against a request-rate limit answers ThrottlingException', async () => {
    env.local.setFaults({ throttleRps: 2 });
    await env.proton.send(new ListEnvironmentTemplatesCommand({}));
    await env.proton.send(new ListEnvironmentTemplatesCommand({}));
    await expect(env.proton.send(new ListEnvironmentTemplatesCommand({}))).rejects.toMatchObject({
      name: 'ThrottlingException', $metadata: { httpStatusCode: 400 },
    });
    clock.advance(1000);
    await env.proton.send(new ListEnvironmentTemplatesCommand({}));
    expect(env.local.requestLog.counts().ListEnvironmentTemplates).toEqual({ success: 3, ThrottlingException: 1 });
  });

  test('errorRate answers InternalServerException without taking effect, per operation', async () => {
    env.local.setFaults({ operations: { CreateEnvironmentTemplate: { errorRate: 1 } } });
    await expect(env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'a' }))).rejects.toMatchObject({
      name: 'InternalServerException', $metadata: { httpStatusCode: 500 },
    });
    await expect(env.proton.send(new GetEnvironmentTemplateCommand({ name: 'a' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('the SDK retries through a limited number of injected errors', async () => {
    env.local.setFaults({ errorRate: 1, count: 2 });
    const retrying = protonClient(env.local.endpoint, { maxAttempts: 3 });
    await retrying.send(new CreateEnvironmentTemplateCommand({ name: 'a' }));
    retrying.destroy();
    expect(env.local.requestLog.counts().CreateEnvironmentTemplate).toEqual({ InternalServerException: 2, success: 1 });
  });

  test('commit then drop: the SDK retries with the same clientToken and gets the original version', async () => {
    const source = await uploadBundle(env.s3, 'bucket', 'key', VPC_ENV);
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'a' }));
    env.local.setFaults({ operations: { CreateEnvironmentTemplateVersion: { dropRate: 1, count: 1 } } });
    const retrying = protonClient(env.local.endpoint, { maxAttempts: 3 });
    const created = await retrying.send(new CreateEnvironmentTemplateVersionCommand({ templateName: 'a', source }));
    retrying.destroy();
    expect([created.environmentTemplateVersion!.majorVersion, created.environmentTemplateVersion!.minorVersion]).toEqual(['1', '0']);
    expect(env.local.requestLog.counts().CreateEnvironmentTemplateVersion).toEqual({ dropped: 1, success: 1 });
    const versions = await env.proton.send(new ListEnvironmentTemplateVersionsCommand({ templateName: 'a' }));
    expect(versions.templateVersions).toHaveLength(1);
  });

  test('latency delays the answer', async () => {
    env.local.setFaults({ latencyMs: 60 });
    const started = Date.now();
    await env.proton.send(new ListEnvironmentTemplatesCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  test('random faults repeat with the same seed and differ with another', () => {
    const draws = (seed: number) => {
      const faults = new Faults(clock, { errorRate: 0.5, seed });
      return Array.from({ length: 32 }, () => faults.decide('GetEnvironment').error ?? 'none');
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    expect(new Set(draws(7))).toEqual(new Set(['none', 'InternalServerException']));
  });

  test('invalid fault options are refused with the option and value', () => {
    expect(() => env.local.setFaults({ errorRate: 2 })).toThrow('Invalid fault option errorRate: 2; expected a probability between 0 and 1');
    expect(() => env.local.setFaults({ operations: { GetEnvironment: { latencyMs: -1 } } }))
      .toThrow('Invalid fault option operations.GetEnvironment.latencyMs: -1');
  });
});

describe('persistence', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'proton-local-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('state survives a restart with the same state file, written atomically', async () => {
    const stateFile = join(dir, 'nested', 'state.json');
    const manual = new ManualClock();
    const first = await ProtonLocal.start({ stateFile, clock: manual, registrationDelayMs: 1000 });
    const s3 = s3Client(first.endpoint);
    const proton = protonClient(first.endpoint);
    const source = await uploadBundle(s3, 'bucket', 'key', VPC_ENV);
    await proton.send(new CreateEnvironmentTemplateCommand({ name: 'kept', description: 'd' }));
    await proton.send(new CreateEnvironmentTemplateVersionCommand({ templateName: 'kept', source }));
    proton.destroy();
    s3.destroy();
    await first.stop();
    // No temporary file is left; object contents are kept beside the state, not in it.
    expect(readdirSync(join(dir, 'nested'))).toEqual(['state.json', 'state.json.blobs']);

    // The registration was pending at the stop: it completes on the clock of the next run.
    manual.advance(1000);
    const second = await ProtonLocal.start({ stateFile, clock: manual });
    const proton2 = protonClient(second.endpoint);
    const s32 = s3Client(second.endpoint);
    try {
      expect((await proton2.send(new GetEnvironmentTemplateCommand({ name: 'kept' }))).environmentTemplate!.description).toBe('d');
      const version = await proton2.send(new GetEnvironmentTemplateVersionCommand({ templateName: 'kept', majorVersion: '1', minorVersion: '0' }));
      expect(version.environmentTemplateVersion!.status).toBe('DRAFT');
      const object = await s32.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'key' }));
      expect((await object.Body!.transformToByteArray()).length).toBeGreaterThan(0);
    } finally {
      proton2.destroy();
      s32.destroy();
      await second.stop();
    }
  });

  test('an unreadable state file is refused with its path', async () => {
    const stateFile = join(dir, 'state.json');
    writeFileSync(stateFile, '{not json');
    await expect(ProtonLocal.start({ stateFile })).rejects.toThrow(`Cannot load the proton-local state file ${stateFile}`);
    expect(existsSync(stateFile)).toBe(true);
  });
});

describe('S3 subset', () => {
  test('put, head, get, list and delete objects with the real S3 client; errors are S3\'s', async () => {
    await env.s3.send(new CreateBucketCommand({ Bucket: 'bkt' }));
    await env.s3.send(new CreateBucketCommand({ Bucket: 'bkt' })); // us-east-1: creating an owned bucket again succeeds
    await env.s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'dir/one.txt', Body: 'hello', ContentType: 'text/plain' }));
    await env.s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'dir/two.txt', Body: Buffer.from('world!') }));
    const head = await env.s3.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'dir/one.txt' }));
    expect([head.ContentLength, head.ContentType, head.ETag]).toEqual([5, 'text/plain', '"5d41402abc4b2a76b9719d911017c592"']);
    const object = await env.s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'dir/two.txt' }));
    expect(await object.Body!.transformToString()).toBe('world!');
    // A stream goes up aws-chunked, with a trailing checksum.
    await env.s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'streamed', Body: Readable.from([Buffer.from('str'), Buffer.from('eamed')]), ContentLength: 8 }));
    expect(await (await env.s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'streamed' }))).Body!.transformToString()).toBe('streamed');
    const listed = await env.s3.send(new ListObjectsV2Command({ Bucket: 'bkt', Prefix: 'dir/', MaxKeys: 1 }));
    expect([listed.Contents!.map(c => c.Key), listed.IsTruncated]).toEqual([['dir/one.txt'], true]);
    await env.s3.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'dir/one.txt' }));
    await expect(env.s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'dir/one.txt' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    await expect(env.s3.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'dir/one.txt' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    await expect(env.s3.send(new PutObjectCommand({ Bucket: 'none', Key: 'k', Body: 'x' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });
});

describe('ManualClock', () => {
  test('moves only when advanced, and never backwards', () => {
    const manual = new ManualClock(1000);
    expect(manual.now()).toBe(1000);
    manual.advance(500);
    expect(manual.now()).toBe(1500);
    expect(() => manual.advance(-1)).toThrow('ManualClock.advance: ms must be a number >= 0, got -1');
  });
});
