/**
 * The S3 subset proton-local serves on its own port (path-style URLs, `/bucket/key`), enough to upload template
 * bundles with @aws-sdk/client-s3 (forcePathStyle: true) or the AWS CLI: CreateBucket, HeadBucket, DeleteBucket,
 * ListBuckets, PutObject, GetObject, HeadObject, DeleteObject, ListObjectsV2. Errors are S3's XML documents.
 */
import { createHash, randomUUID } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import type { Clock } from './clock';
import type { EmulatorState, S3BucketRecord } from './emulator/state';

export interface S3Context {
  readonly state: EmulatorState;
  readonly clock: Clock;
  saveState(): void;
}

export interface S3Result {
  /** The S3 operation, e.g. 'PutObject'. */
  readonly name: string;
  /** 'success' or the S3 error code. */
  readonly outcome: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function getStoredObject(state: EmulatorState, bucket: string, key: string): Buffer | undefined {
  const object = state.s3[bucket]?.objects[key];
  return object ? Buffer.from(object.body, 'base64') : undefined;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function sendXml(response: ServerResponse, status: number, xml: string, headers: { [name: string]: string } = {}): void {
  response.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID(), ...headers });
  response.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
}

class S3Error extends Error {
  constructor(readonly code: string, message: string, readonly status: number, readonly resource: { [tag: string]: string } = {}) {
    super(message);
  }
}

/**
 * Undoes aws-chunked content encoding (streaming uploads with trailing checksums):
 * "<hex size>[;chunk-signature=...]\r\n<data>\r\n" repeated, ending with a zero-size chunk and optional trailers.
 */
function decodeAwsChunked(body: Buffer): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) {
      break;
    }
    const size = parseInt(body.subarray(offset, lineEnd).toString('ascii').split(';')[0], 16);
    if (!(size > 0)) {
      break;
    }
    chunks.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(chunks);
}

function isChunked(request: IncomingMessage): boolean {
  return (request.headers['content-encoding'] ?? '').includes('aws-chunked')
    || String(request.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
}

function bucketOf(ctx: S3Context, name: string): S3BucketRecord {
  const bucket = ctx.state.s3[name];
  if (!bucket) {
    throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: name });
  }
  return bucket;
}

function operationName(method: string, key: string | undefined, bucket: string | undefined): string {
  if (!bucket) {
    return method === 'GET' ? 'ListBuckets' : 'Unsupported';
  }
  const names: { [method: string]: [string, string] } = {
    PUT: ['CreateBucket', 'PutObject'],
    GET: ['ListObjectsV2', 'GetObject'],
    HEAD: ['HeadBucket', 'HeadObject'],
    DELETE: ['DeleteBucket', 'DeleteObject'],
  };
  const pair = names[method];
  return pair ? pair[key === undefined ? 0 : 1] : 'Unsupported';
}

export async function handleS3Request(
  request: IncomingMessage, url: URL, body: Buffer, response: ServerResponse, ctx: S3Context,
): Promise<S3Result> {
  const method = request.method ?? 'GET';
  const [, bucketSegment, ...keySegments] = url.pathname.split('/');
  const bucket = bucketSegment ? decodeURIComponent(bucketSegment) : undefined;
  const key = keySegments.length && keySegments.join('/') !== '' ? decodeURIComponent(keySegments.join('/')) : undefined;
  const name = operationName(method, key, bucket);
  try {
    runS3Operation(name, { request, url, body, response, ctx, bucket: bucket!, key: key! });
    return { name, outcome: 'success' };
  } catch (error) {
    if (!(error instanceof S3Error)) {
      throw error;
    }
    if (method === 'HEAD') {
      response.writeHead(error.status, { 'x-amz-request-id': randomUUID() });
      response.end();
    } else {
      const details = Object.entries(error.resource).map(([tag, value]) => `<${tag}>${xmlEscape(value)}</${tag}>`).join('');
      sendXml(response, error.status,
        `<Error><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message>${details}<RequestId>${randomUUID()}</RequestId></Error>`);
    }
    return { name, outcome: error.code };
  }
}

interface S3Call {
  readonly request: IncomingMessage;
  readonly url: URL;
  readonly body: Buffer;
  readonly response: ServerResponse;
  readonly ctx: S3Context;
  readonly bucket: string;
  readonly key: string;
}

function runS3Operation(name: string, call: S3Call): void {
  const { request, url, response, ctx, bucket, key } = call;
  switch (name) {
    case 'ListBuckets': {
      const buckets = Object.entries(ctx.state.s3).map(([bucketName, record]) =>
        `<Bucket><Name>${xmlEscape(bucketName)}</Name><CreationDate>${new Date(record.createdAt).toISOString()}</CreationDate></Bucket>`);
      return sendXml(response, 200, `<ListAllMyBucketsResult><Buckets>${buckets.join('')}</Buckets></ListAllMyBucketsResult>`);
    }
    case 'CreateBucket':
      if (!BUCKET_NAME.test(bucket)) {
        throw new S3Error('InvalidBucketName', `The specified bucket is not valid: '${bucket}' must be 3-63 characters of a-z, 0-9, '.' and '-'`,
          400, { BucketName: bucket });
      }
      // Like us-east-1: creating a bucket you already own succeeds.
      ctx.state.s3[bucket] ??= { createdAt: ctx.clock.now(), objects: {} };
      ctx.saveState();
      response.writeHead(200, { location: `/${bucket}` });
      return void response.end();
    case 'HeadBucket':
      bucketOf(ctx, bucket);
      response.writeHead(200);
      return void response.end();
    case 'DeleteBucket':
      if (Object.keys(bucketOf(ctx, bucket).objects).length) {
        throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { BucketName: bucket });
      }
      delete ctx.state.s3[bucket];
      ctx.saveState();
      response.writeHead(204);
      return void response.end();
    case 'ListObjectsV2':
      return listObjects(call);
    case 'PutObject': {
      if (request.headers['x-amz-copy-source']) {
        throw new S3Error('NotImplemented', 'proton-local does not implement CopyObject', 501);
      }
      const content = isChunked(request) ? decodeAwsChunked(call.body) : call.body;
      const etag = `"${createHash('md5').update(content).digest('hex')}"`;
      bucketOf(ctx, bucket).objects[key] = {
        body: content.toString('base64'),
        etag,
        lastModified: ctx.clock.now(),
        contentType: request.headers['content-type'],
      };
      ctx.saveState();
      response.writeHead(200, { etag });
      return void response.end();
    }
    case 'GetObject':
    case 'HeadObject': {
      const object = bucketOf(ctx, bucket).objects[key];
      if (!object) {
        throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
      }
      const content = Buffer.from(object.body, 'base64');
      response.writeHead(200, {
        'content-type': object.contentType ?? 'application/octet-stream',
        'content-length': String(content.length),
        'etag': object.etag,
        'last-modified': new Date(object.lastModified).toUTCString(),
      });
      return void response.end(name === 'GetObject' ? content : undefined);
    }
    case 'DeleteObject':
      delete bucketOf(ctx, bucket).objects[key];
      ctx.saveState();
      response.writeHead(204);
      return void response.end();
    default:
      throw new S3Error('NotImplemented', `proton-local's S3 does not implement ${request.method} ${url.pathname}`, 501);
  }
}

function listObjects({ url, response, ctx, bucket }: S3Call): void {
  const prefix = url.searchParams.get('prefix') ?? '';
  const maxKeys = Number(url.searchParams.get('max-keys') ?? 1000);
  const after = url.searchParams.get('continuation-token') ?? url.searchParams.get('start-after') ?? '';
  const keys = Object.keys(bucketOf(ctx, bucket).objects).filter(k => k.startsWith(prefix) && k > after).sort();
  const page = keys.slice(0, maxKeys);
  const truncated = keys.length > page.length;
  const contents = page.map(k => {
    const object = ctx.state.s3[bucket].objects[k];
    return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${new Date(object.lastModified).toISOString()}</LastModified>` +
      `<ETag>${xmlEscape(object.etag)}</ETag><Size>${Buffer.from(object.body, 'base64').length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
  }).join('');
  sendXml(response, 200, `<ListBucketResult><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>` +
    `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
    (truncated ? `<NextContinuationToken>${xmlEscape(page[page.length - 1])}</NextContinuationToken>` : '') +
    `${contents}</ListBucketResult>`);
}
