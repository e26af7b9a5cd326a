/**
 * proton-local bounds what clients send: request bodies (Proton 1 MiB, S3 objects a configurable size), JSON nesting
 * and S3 query values, and answers client mistakes with the 400-class error each protocol uses, never a 500.
 */
import { CreateEnvironmentTemplateCommand, GetEnvironmentTemplateCommand } from '@aws-sdk/client-proton';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { useProtonLocal } from './helpers';
import { MAX_API_BODY_BYTES } from '../../src/local/server';

const MAX_OBJECT_BYTES = 256 * 1024;
const env = useProtonLocal({ maxObjectBytes: MAX_OBJECT_BYTES });

async function post(target: string, body: string | Buffer) {
  const response = await fetch(env.local.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AwsProton20200720.${target}` },
    body,
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) };
}

async function get(path: string) {
  const response = await fetch(`${env.local.endpoint}${path}`);
  return { status: response.status, text: await response.text() };
}

describe('Proton request bodies', () => {
  test('a 50 MB body is refused with 413 ValidationException, without echoing it', async () => {
    const huge = `{"name":"${'a'.repeat(50 * 1024 * 1024)}"}`;
    const response = await post('CreateEnvironmentTemplate', huge);
    expect(response.status).toBe(413);
    expect(response.text.length).toBeLessThan(1000);
    expect(response.body).toEqual({
      __type: 'com.amazonaws.proton.v20200720#ValidationException',
      message: expect.stringContaining(`accepts at most ${MAX_API_BODY_BYTES} bytes`),
    });
    // The server is unharmed: the next request is served.
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'after' }));
  });

  test('a body with a 51,200-character spec, the largest Proton input, is read and answered (not refused for size)', async () => {
    const spec = `{"name":"x","spec":"${'s'.repeat(51_200)}","templateName":"t","templateMajorVersion":"1"}`;
    const response = await post('CreateEnvironment', spec);
    expect(response.body.__type).toBe('com.amazonaws.proton.v20200720#ResourceNotFoundException');
  });

  test('deeply nested JSON is a SerializationException, not a 500', async () => {
    const deep = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
    const response = await post('CreateEnvironmentTemplate', `{"name":"deep","tags":${deep}}`);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      __type: 'com.amazonaws.proton.v20200720#SerializationException',
      message: expect.stringContaining('more than 64 levels deep'),
    });
    const arrays = await post('GetEnvironmentTemplate', `{"name":"a","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(arrays.status).toBe(400);
    expect(arrays.body.__type).toBe('com.amazonaws.proton.v20200720#SerializationException');
  });

  test('a body that is JSON but not an object is a SerializationException', async () => {
    for (const body of ['[]', '"text"', '42', 'null']) {
      const response = await post('GetEnvironmentTemplate', body);
      expect({ body, status: response.status, type: response.body.__type })
        .toEqual({ body, status: 400, type: 'com.amazonaws.proton.v20200720#SerializationException' });
    }
  });

  test('strings with braces do not count as nesting', async () => {
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'braces', description: '{'.repeat(400) + '"\\[' }));
    expect((await env.proton.send(new GetEnvironmentTemplateCommand({ name: 'braces' }))).environmentTemplate!.description)
      .toBe('{'.repeat(400) + '"\\[');
  });
});

describe('S3 bounds', () => {
  beforeEach(async () => {
    await env.s3.send(new CreateBucketCommand({ Bucket: 'bucket' }));
  });

  test('PutObject over maxObjectBytes is EntityTooLarge, through the real S3 client; at the bound it is stored', async () => {
    await expect(env.s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'big', Body: Buffer.alloc(MAX_OBJECT_BYTES + 1) })))
      .rejects.toMatchObject({ name: 'EntityTooLarge', $metadata: { httpStatusCode: 400 } });
    // Large enough for the SDK to wait for "100 Continue": the answer comes before the body is sent.
    await expect(env.s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'big', Body: Buffer.alloc(8 * 1024 * 1024) })))
      .rejects.toMatchObject({ name: 'EntityTooLarge', MaxSizeAllowed: String(MAX_OBJECT_BYTES) });
    await expect(env.s3.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'big' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    await env.s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'fits', Body: Buffer.alloc(MAX_OBJECT_BYTES, 7) }));
    const stored = await env.s3.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'fits' }));
    expect((await stored.Body!.transformToByteArray()).length).toBe(MAX_OBJECT_BYTES);
  });

  test('a raw PUT over the bound gets the EntityTooLarge XML with the sizes', async () => {
    const response = await fetch(`${env.local.endpoint}/bucket/raw`, { method: 'PUT', body: Buffer.alloc(4 * MAX_OBJECT_BYTES) });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text).toContain('<Code>EntityTooLarge</Code>');
    expect(text).toContain(`<MaxSizeAllowed>${MAX_OBJECT_BYTES}</MaxSizeAllowed>`);
  });

  test('bad max-keys, continuation-token and encoding-type are InvalidArgument; max-keys is capped at 1000', async () => {
    await env.s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'k', Body: 'x' }));
    for (const query of ['max-keys=abc', 'max-keys=-1', 'max-keys=1e400', 'max-keys=99999999999', 'continuation-token=%ZZ', 'encoding-type=foo']) {
      const response = await get(`/bucket?list-type=2&${query}`);
      expect({ query, status: response.status, code: /<Code>(\w+)<\/Code>/.exec(response.text)?.[1] })
        .toEqual({ query, status: 400, code: 'InvalidArgument' });
      expect(response.text).toContain('<ArgumentName>');
    }
    expect((await get('/bucket?list-type=2&max-keys=5000')).text).toContain('<MaxKeys>1000</MaxKeys>');
    const none = await get('/bucket?list-type=2&max-keys=0');
    expect(none.status).toBe(200);
    expect(none.text).toContain('<KeyCount>0</KeyCount>');
  });

  test('pagination with the real client still works with opaque continuation tokens', async () => {
    for (const key of ['a', 'b', 'c']) {
      await env.s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: key, Body: key }));
    }
    const first = await env.s3.send(new ListObjectsV2Command({ Bucket: 'bucket', MaxKeys: 2 }));
    expect(first.Contents!.map(c => c.Key)).toEqual(['a', 'b']);
    const rest = await env.s3.send(new ListObjectsV2Command({ Bucket: 'bucket', MaxKeys: 2, ContinuationToken: first.NextContinuationToken }));
    expect(rest.Contents!.map(c => c.Key)).toEqual(['c']);
    expect(rest.IsTruncated).toBe(false);
  });

  test('a malformed percent-encoding in the path is InvalidURI', async () => {
    for (const path of ['/bucket/%E0%A4%A', '/%E0%A4%A']) {
      const response = await get(path);
      expect({ path, status: response.status, code: /<Code>(\w+)<\/Code>/.exec(response.text)?.[1] }).toEqual({ path, status: 400, code: 'InvalidURI' });
    }
  });
});

describe('health', () => {
  test('GET /_proton-local/health answers 200 with a small JSON', async () => {
    const response = await fetch(`${env.local.endpoint}/_proton-local/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ status: 'ok', service: 'proton-local', uptimeSeconds: expect.any(Number) });
  });
});
