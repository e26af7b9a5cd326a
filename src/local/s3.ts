/**
 * The S3 subset proton-local serves on its own port (path-style URLs, `/bucket/key`), enough to upload template
 * bundles with @aws-sdk/client-s3 (forcePathStyle: true) or the AWS CLI: CreateBucket, HeadBucket, DeleteBucket,
 * ListBuckets, PutObject, GetObject, HeadObject, DeleteObject, ListObjectsV2. Errors are S3's XML documents.
 * Object contents live in the BlobStore (beside the state file); the state keeps their SHA-256, size and metadata.
 */
import { createHash, randomUUID } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import type { BlobStore } from './blobs';
import type { Clock } from './clock';
import { EmulatorState, nameMap, S3BucketRecord } from './emulator/state';

export interface S3Context {
  readonly state: EmulatorState;
  readonly clock: Clock;
  readonly blobs: BlobStore;
  /** The largest object PutObject stores, in bytes. */
  readonly maxObjectBytes: number;
  /** Saves the state's changes; throws (the changes undone) when they can't be saved. */
  persist(): void;
}

export interface S3Result {
  /** The S3 operation, e.g. 'PutObject'. */
  readonly name: string;
  /** 'success' or the S3 error code. */
  readonly outcome: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const own = <T>(map: { [key: string]: T }, key: string): T | undefined =>
  Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;

export function getStoredObject(state: EmulatorState, blobs: BlobStore, bucket: string, key: string): Buffer | undefined {
  const record = own(state.s3, bucket);
  const object = record && own(record.objects, key);
  return object ? blobs.get(object.blob) : undefined;
}

/** S3's largest max-keys (and its default). */
const MAX_KEYS = 1000;

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function sendXml(response: ServerResponse, status: number, xml: string, headers: { [name: string]: string } = {}): void {
  response.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID(), ...headers });
  response.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
}

export class S3Error extends Error {
  constructor(readonly code: string, message: string, readonly status: number, readonly resource: { [tag: string]: string } = {}) {
    super(message);
  }
}

/** S3's error answer: the XML document (no body for HEAD). */
export function sendS3Error(response: ServerResponse, method: string, error: S3Error): void {
  if (method === 'HEAD') {
    response.writeHead(error.status, { 'x-amz-request-id': randomUUID() });
    response.end();
    return;
  }
  const details = Object.entries(error.resource).map(([tag, value]) => `<${tag}>${xmlEscape(value)}</${tag}>`).join('');
  sendXml(response, error.status,
    `<Error><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message>${details}<RequestId>${randomUUID()}</RequestId></Error>`);
}

function invalidArgument(name: string, value: string, message: string): S3Error {
  return new S3Error('InvalidArgument', message, 400, { ArgumentName: name, ArgumentValue: value });
}

/** decodeURIComponent, with S3's InvalidURI for a malformed escape. */
function decodePathSegment(segment: string, path: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new S3Error('InvalidURI', `Couldn't parse the specified URI: ${path} has a malformed percent-encoding`, 400, { URI: path });
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
  const bucket = own(ctx.state.s3, name);
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
  let name = operationName(method, keySegments.length && keySegments.join('/') !== '' ? 'key' : undefined, bucketSegment || undefined);
  try {
    const bucket = bucketSegment ? decodePathSegment(bucketSegment, url.pathname) : undefined;
    const key = keySegments.length && keySegments.join('/') !== '' ? decodePathSegment(keySegments.join('/'), url.pathname) : undefined;
    name = operationName(method, key, bucket);
    runS3Operation(name, { request, url, body, response, ctx, bucket: bucket!, key: key! });
    return { name, outcome: 'success' };
  } catch (error) {
    // A failure to store (the state's changes are undone by then) is S3's InternalError, in S3's XML.
    const s3Error = error instanceof S3Error ? error
      : new S3Error('InternalError', `proton-local could not complete ${name}: ${(error as Error).message}`, 500);
    sendS3Error(response, method, s3Error);
    return { name, outcome: s3Error.code };
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
      if (!own(ctx.state.s3, bucket)) {
        ctx.state.s3[bucket] = { createdAt: ctx.clock.now(), objects: nameMap() };
        ctx.persist();
      }
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
      ctx.persist();
      response.writeHead(204);
      return void response.end();
    case 'ListObjectsV2':
      return listObjects(call);
    case 'PutObject': {
      if (request.headers['x-amz-copy-source']) {
        throw new S3Error('NotImplemented', 'proton-local does not implement CopyObject', 501);
      }
      const content = isChunked(request) ? decodeAwsChunked(call.body) : call.body;
      if (content.length > ctx.maxObjectBytes) {
        throw new S3Error('EntityTooLarge', `Your proposed upload exceeds the maximum allowed size: proton-local stores objects of at most ${ctx.maxObjectBytes} bytes`,
          400, { ProposedSize: String(content.length), MaxSizeAllowed: String(ctx.maxObjectBytes) });
      }
      const records = bucketOf(ctx, bucket).objects;
      const etag = `"${createHash('md5').update(content).digest('hex')}"`;
      records[key] = {
        blob: ctx.blobs.put(content),
        size: content.length,
        etag,
        lastModified: ctx.clock.now(),
        contentType: request.headers['content-type'],
      };
      ctx.persist();
      response.writeHead(200, { etag });
      return void response.end();
    }
    case 'GetObject':
    case 'HeadObject': {
      const object = own(bucketOf(ctx, bucket).objects, key);
      if (!object) {
        throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
      }
      const content = name === 'GetObject' ? ctx.blobs.get(object.blob) : undefined;
      if (name === 'GetObject' && !content) {
        throw new S3Error('InternalError', `proton-local lost the content of s3://${bucket}/${key}: blob ${object.blob} is missing from its blob store`, 500);
      }
      response.writeHead(200, {
        'content-type': object.contentType ?? 'application/octet-stream',
        'content-length': String(object.size),
        'etag': object.etag,
        'last-modified': new Date(object.lastModified).toUTCString(),
      });
      return void response.end(content);
    }
    case 'DeleteObject':
      delete bucketOf(ctx, bucket).objects[key];
      ctx.persist();
      response.writeHead(204);
      return void response.end();
    default:
      throw new S3Error('NotImplemented', `proton-local's S3 does not implement ${request.method} ${url.pathname}`, 501);
  }
}

/** max-keys as S3 reads it: an integer from 0 to 2^31-1, capped at 1000. */
function maxKeysOf(url: URL): number {
  const given = url.searchParams.get('max-keys');
  if (given === null) {
    return MAX_KEYS;
  }
  if (!/^\d+$/.test(given) || Number(given) > 2 ** 31 - 1) {
    throw invalidArgument('max-keys', given, `Provided max-keys not an integer or within integer range: '${given}' (expected 0 to 2147483647)`);
  }
  return Math.min(Number(given), MAX_KEYS);
}

/** Continuation tokens are opaque to clients: the base64 of the last key listed. */
function continuationTokenOf(url: URL): string | undefined {
  const token = url.searchParams.get('continuation-token');
  if (token === null) {
    return undefined;
  }
  const key = Buffer.from(token, 'base64').toString('utf8');
  if (!token || Buffer.from(key, 'utf8').toString('base64') !== token) {
    throw invalidArgument('continuation-token', token, 'The continuation token provided is incorrect: pass the NextContinuationToken of the previous page');
  }
  return key;
}

function listObjects({ url, response, ctx, bucket }: S3Call): void {
  const objects = bucketOf(ctx, bucket).objects;
  const prefix = url.searchParams.get('prefix') ?? '';
  const maxKeys = maxKeysOf(url);
  const encodingType = url.searchParams.get('encoding-type');
  if (encodingType !== null && encodingType !== 'url') {
    throw invalidArgument('encoding-type', encodingType, `Invalid Encoding Method specified in Request: '${encodingType}' (the only one is 'url')`);
  }
  const after = continuationTokenOf(url) ?? url.searchParams.get('start-after') ?? '';
  const keys = Object.keys(objects).filter(k => k.startsWith(prefix) && k > after).sort();
  const page = keys.slice(0, maxKeys);
  const truncated = page.length > 0 && keys.length > page.length;
  const encode = (text: string) => xmlEscape(encodingType === 'url' ? encodeURIComponent(text) : text);
  const contents = page.map(k => {
    const object = objects[k];
    return `<Contents><Key>${encode(k)}</Key><LastModified>${new Date(object.lastModified).toISOString()}</LastModified>` +
      `<ETag>${xmlEscape(object.etag)}</ETag><Size>${object.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
  }).join('');
  sendXml(response, 200, `<ListBucketResult><Name>${xmlEscape(bucket)}</Name><Prefix>${encode(prefix)}</Prefix>` +
    `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
    (encodingType ? `<EncodingType>${encodingType}</EncodingType>` : '') +
    (truncated ? `<NextContinuationToken>${Buffer.from(page[page.length - 1], 'utf8').toString('base64')}</NextContinuationToken>` : '') +
    `${contents}</ListBucketResult>`);
}
