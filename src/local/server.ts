/**
 * proton-local's HTTP server: Proton's awsJson1_0 protocol on `POST /`, the S3 subset on path-style URLs, and the
 * admin endpoints under /_proton-local/. Operations run one at a time, in arrival order, against settled state.
 *
 * Each operation works on the change-tracked state (tracking.ts); what it changed is persisted before it is
 * answered, and undone if that fails, so an answered success is always saved. Request bodies are bounded: a
 * Proton request at MAX_API_BODY_BYTES, an S3 PutObject at the configured object size.
 */
import { randomUUID } from 'crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import type { BlobStore } from './blobs';
import type { Clock } from './clock';
import { Agenda } from './emulator/agenda';
import { operationTables, settlers } from './emulator/registry';
import type { EmulatorState } from './emulator/state';
import { EmulatorSettings, OperationContext, OperationHandler, OperationTable, ProtonError } from './emulator/types';
import type { Faults } from './faults';
import { protonModel } from './model/proton-model.generated';
import { checkInput, isModelledOperation, validationMessage } from './model/validate';
import type { RequestLog } from './request-log';
import { getStoredObject, handleS3Request, S3Error, sendS3Error } from './s3';
import { ChangeTracker } from './tracking';

const ERROR_NAMESPACE = 'com.amazonaws.proton.v20200720';
const ADMIN_PREFIX = '/_proton-local/';

/**
 * The largest Proton request body: the largest inputs are a spec or a component's templateFile (at most 51,200
 * characters each, by the API reference) with a manifest and tags, far below 1 MiB.
 */
export const MAX_API_BODY_BYTES = 1024 * 1024;
/** How deep a Proton request's JSON may nest: the API's inputs nest a few levels (tags, filters, manifests). */
export const MAX_JSON_DEPTH = 64;
/** Default bound of an S3 PutObject body: Proton bundles are at most 5 MB; S3 itself allows 5 GB per PUT. */
export const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024;

/** What the server works on; ProtonLocal owns it (state, persistence, settings). */
export interface ServerBackend {
  readonly clock: Clock;
  readonly settings: EmulatorSettings;
  readonly faults: Faults;
  readonly requestLog: RequestLog;
  /** Where object contents are kept (never in the state). */
  readonly blobs: BlobStore;
  /** The largest S3 object a PutObject may store, in bytes. */
  readonly maxObjectBytes: number;
  /** The current state object (replaced by reset). */
  state(): EmulatorState;
  /** Persists the changes the tracker saw since the last call (throws when they can't be saved). */
  persist(tracker: ChangeTracker): void;
  reset(): void;
}

/** A request body over its bound: `received` bytes so far, or the declared content-length. */
export class BodyTooLargeError extends Error {
  constructor(readonly size: number, readonly limit: number) {
    super(`request body of ${size} bytes exceeds the limit of ${limit} bytes`);
  }
}

/**
 * Reads a body of at most `limit` bytes. Over the limit it rejects at once (from content-length when declared,
 * else when the bytes arrive) and discards the rest of the body as it comes, so nothing over the limit is held.
 */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      request.resume();
      return reject(new BodyTooLargeError(declared, limit));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    request.on('data', (chunk: Buffer) => {
      if (over) {
        return;
      }
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return reject(new BodyTooLargeError(size, limit));
      }
      chunks.push(chunk);
    });
    request.once('end', () => over || resolve(Buffer.concat(chunks, size)));
    request.once('error', reject);
  });
}

/** The nesting depth of a JSON text, counted without parsing (strings skipped); stops counting past `max`. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \\ */) {
        i++;
      } else if (c === 0x22 /* " */) {
        inString = false;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) {
        return true;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

function buildHandlers(tables: readonly OperationTable[]): Map<string, OperationHandler> {
  const handlers = new Map<string, OperationHandler>();
  for (const table of tables) {
    for (const [operation, handler] of Object.entries(table)) {
      if (handlers.has(operation)) {
        throw new Error(`proton-local: operation ${operation} is registered by two modules`);
      }
      if (!isModelledOperation(operation)) {
        throw new Error(`proton-local: operation ${operation} is not in the Proton service model`);
      }
      handlers.set(operation, handler);
    }
  }
  return handlers;
}

/** "Credential=AKID/20260101/eu-west-1/proton/aws4_request" → eu-west-1. */
function regionOf(request: IncomingMessage): string | undefined {
  const match = /Credential=[^/,]+\/\d{8}\/([a-z0-9-]+)\//.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/**
 * The calling account. proton-local checks no signatures and keeps one set of resources, but Proton's two-account
 * operations (environment account connections) depend on who calls: a request signed with an access key id of 12
 * digits ("Credential=111122223333/20260101/...") is made by that account, any other by the configured one. The local
 * deploy engine signs each stack's calls with the stack's account this way.
 */
function accountOf(request: IncomingMessage): string | undefined {
  const match = /Credential=(\d{12})\//.exec(request.headers.authorization ?? '');
  return match?.[1];
}

function isReadOnly(operation: string): boolean {
  return operation.startsWith('Get') || operation.startsWith('List');
}

/** Dates become epoch seconds, as awsJson1_0 writes timestamps. */
function toWireJson(output: unknown): string {
  return JSON.stringify(output ?? {}, function (this: any, key: string, value: unknown) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : value;
  });
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** An S3 PutObject (PUT /bucket/key), whose body is an object's content. */
function isObjectUpload(request: IncomingMessage): boolean {
  const path = request.url ?? '';
  return request.method === 'PUT' && request.headers['x-amz-target'] === undefined && /^\/[^/?]+\/[^?]/.test(path) && !path.startsWith(ADMIN_PREFIX);
}

/** The state could not be saved; the request's changes were undone. */
export class PersistenceError extends Error {
  constructor(cause: Error) {
    super(`proton-local could not save the state, so the request was not applied: ${cause.message}`);
    this.name = 'PersistenceError';
  }
}

export class ProtonServer {
  private readonly handlers: Map<string, OperationHandler>;
  private readonly server: Server;
  /** Operations run one at a time so async handlers never interleave their state changes. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly tracker: ChangeTracker;
  private readonly agenda = new Agenda(settlers);

  /** @param tables the operation modules served (all of registry.ts by default) */
  constructor(private readonly backend: ServerBackend, tables: readonly OperationTable[] = operationTables) {
    this.handlers = buildHandlers(tables);
    this.tracker = new ChangeTracker(() => backend.state());
    this.agenda.rebuild(backend.state());
    const serve = (request: IncomingMessage, response: ServerResponse) => {
      this.handle(request, response).catch(error => {
        if (!response.headersSent) {
          this.sendError(response, new ProtonError('InternalServerException', `proton-local failed: ${error?.stack ?? error}`, 500));
        }
      });
    };
    this.server = createServer(serve);
    // Answer an over-large upload before its body is sent (clients that wait for "100 Continue", like the SDK's S3).
    this.server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
      const declared = Number(request.headers['content-length']);
      if (!(Number.isFinite(declared) && declared > this.bodyLimitOf(request))) {
        response.writeContinue();
      }
      serve(request, response);
    });
    this.server.keepAliveTimeout = 60_000;
  }

  /** The state was replaced (reset): forget what the tracker saw of the old one and queue the new one's transitions. */
  stateReplaced(): void {
    this.tracker.takeChanges();
    this.agenda.rebuild(this.backend.state());
  }

  /** Starts listening; resolves to the bound address (port 0 picks a free port). */
  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    return { host, port: address.port };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.close(error => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  /** A context for settlers and handlers: on the change-tracked state, or (read-only operations) on the state itself. */
  context(region?: string, tracked = true, account?: string): OperationContext {
    const configured = this.backend.settings;
    const settings = account && account !== configured.accountId ? { ...configured, accountId: account } : configured;
    const state = tracked ? this.tracker.tracked() : this.backend.state();
    const { blobs } = this.backend;
    return {
      state,
      clock: this.backend.clock,
      settings: region && region !== settings.region ? { ...settings, region } : settings,
      getObject: (bucket, key) => getStoredObject(this.backend.state(), blobs, bucket, key),
      storeBlob: content => blobs.put(content),
      readBlob: key => blobs.get(key),
    };
  }

  /** Applies every async transition that is due: only the records the agenda has due, not every record. */
  settle(): void {
    const ctx = this.context();
    const now = this.backend.clock.now();
    for (const settler of settlers) {
      this.agenda.noteChanges(this.backend.state(), this.tracker.changedPaths());
      const due = this.agenda.takeDue(settler, now);
      if (due.length) {
        settler.settle(ctx, due);
      }
    }
  }

  /** Persists what the operation (and the settling before it) changed; undoes it all when that fails. */
  private persist(): void {
    if (!this.tracker.hasChanges) {
      return;
    }
    const paths = this.tracker.changedPaths();
    this.agenda.noteChanges(this.backend.state(), paths);
    try {
      this.backend.persist(this.tracker);
    } catch (error) {
      // The backend undid the changes: the agenda looks at the records as they are again.
      this.agenda.noteChanges(this.backend.state(), paths);
      throw error;
    }
  }

  private bodyLimitOf(request: IncomingMessage): number {
    // aws-chunked uploads carry a chunk header (~90 bytes) per chunk of at least 8 KiB on top of the content.
    return isObjectUpload(request) ? this.backend.maxObjectBytes + Math.ceil(this.backend.maxObjectBytes / 64) + 64 * 1024 : MAX_API_BODY_BYTES;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const target = request.headers['x-amz-target'];
    const limit = this.bodyLimitOf(request);
    let body: Buffer;
    try {
      body = await readBody(request, limit);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) {
        throw error;
      }
      return this.refuseLargeBody(request, url, target, error, response);
    }
    if (url.pathname.startsWith(ADMIN_PREFIX)) {
      return this.handleAdmin(request.method ?? 'GET', url.pathname.slice(ADMIN_PREFIX.length), response);
    }
    if (typeof target === 'string') {
      return this.handleProton(target, body, request, response);
    }
    const operation = await this.exclusive(async () => {
      const reading = request.method === 'GET' || request.method === 'HEAD';
      this.settle();
      const state = reading ? this.backend.state() : this.tracker.tracked();
      return handleS3Request(request, url, body, response, {
        state,
        clock: this.backend.clock,
        blobs: this.backend.blobs,
        maxObjectBytes: this.backend.maxObjectBytes,
        persist: () => this.persistOrUndo(),
      });
    });
    this.backend.requestLog.record(`S3.${operation.name}`, operation.outcome, this.backend.clock.now());
  }

  /** persist, turning a failure into the error the request answers (its changes are undone by then). */
  private persistOrUndo(): void {
    try {
      this.persist();
    } catch (error) {
      throw new PersistenceError(error as Error);
    }
  }

  private refuseLargeBody(
    request: IncomingMessage, url: URL, target: string | string[] | undefined, error: BodyTooLargeError, response: ServerResponse,
  ): void {
    const { requestLog, clock } = this.backend;
    if (typeof target === 'string' || url.pathname.startsWith(ADMIN_PREFIX)) {
      requestLog.record(typeof target === 'string' ? target.split('.', 2)[1] ?? target : 'admin', 'RequestEntityTooLarge', clock.now());
      return this.sendError(response, new ProtonError('ValidationException',
        `Request body too large: ${error.size} bytes; proton-local accepts at most ${error.limit} bytes (1 MiB) per request `
        + '(the largest Proton inputs, a spec or a component templateFile, are at most 51,200 characters)', 413));
    }
    const upload = isObjectUpload(request);
    const max = upload ? this.backend.maxObjectBytes : MAX_API_BODY_BYTES;
    requestLog.record(upload ? 'S3.PutObject' : `S3.${request.method}`, 'EntityTooLarge', clock.now());
    sendS3Error(response, request.method ?? 'PUT', new S3Error('EntityTooLarge',
      `Your proposed upload exceeds the maximum allowed size: proton-local stores objects of at most ${max} bytes`, 400,
      { ProposedSize: String(error.size), MaxSizeAllowed: String(max) }));
  }

  private handleAdmin(method: string, path: string, response: ServerResponse): void {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body, undefined, 2));
    };
    if (method === 'GET' && path === 'requests') {
      return send(200, { counts: this.backend.requestLog.counts(), requests: this.backend.requestLog.all });
    }
    if (method === 'GET' && path === 'health') {
      return send(200, { status: 'ok', service: 'proton-local', uptimeSeconds: Math.round(process.uptime()) });
    }
    if (method === 'GET' && path === 'state') {
      this.settle();
      return send(200, this.backend.state());
    }
    if (method === 'POST' && path === 'reset') {
      this.backend.reset();
      return send(200, { reset: true });
    }
    return send(404, {
      message: `Unknown admin endpoint ${method} ${ADMIN_PREFIX}${path}. ` +
      `Known: GET ${ADMIN_PREFIX}health, GET ${ADMIN_PREFIX}requests, GET ${ADMIN_PREFIX}state, POST ${ADMIN_PREFIX}reset`,
    });
  }

  private async handleProton(target: string, body: Buffer, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { requestLog, clock } = this.backend;
    const [prefix, operation = ''] = target.split('.', 2);
    const known = prefix === protonModel.targetPrefix && isModelledOperation(operation);
    const respondError = (error: ProtonError) => {
      requestLog.record(known ? operation : target, error.code, clock.now());
      this.sendError(response, error);
    };
    if (!known) {
      return respondError(new ProtonError('UnknownOperationException',
        `Unknown operation ${target}: proton-local serves ${protonModel.targetPrefix}.<Operation> for the operations of the Proton API ${protonModel.apiVersion}`));
    }
    let input: unknown;
    const text = body.toString('utf8');
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      return respondError(new ProtonError('SerializationException',
        `Request body of ${operation} nests JSON more than ${MAX_JSON_DEPTH} levels deep; the Proton API's inputs nest a few levels`));
    }
    try {
      input = body.length ? JSON.parse(text) : {};
    } catch (error) {
      return respondError(new ProtonError('SerializationException', `Request body of ${operation} is not valid JSON: ${(error as Error).message}`));
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      return respondError(new ProtonError('SerializationException',
        `Request body of ${operation} must be a JSON object (the operation's input structure), got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`));
    }

    const fault = this.backend.faults.decide(operation);
    if (fault.latencyMs) {
      await sleep(fault.latencyMs);
    }
    if (fault.error === 'ThrottlingException') {
      return respondError(new ProtonError('ThrottlingException', 'Rate exceeded'));
    }
    if (fault.error === 'InternalServerException') {
      return respondError(new ProtonError('InternalServerException', `Injected fault: ${operation} failed (proton-local errorRate)`, 500));
    }
    const problems = checkInput(operation, input);
    if (problems.serialization.length) {
      return respondError(new ProtonError('SerializationException', problems.serialization.join('; ')));
    }
    if (problems.constraints.length) {
      return respondError(new ProtonError('ValidationException', validationMessage(problems.constraints)));
    }
    const handler = this.handlers.get(operation);
    if (!handler) {
      // Not InternalServerException: its model trait makes every SDK retry it. A 501 with a name the model doesn't
      // know is a non-transient server error, which neither the JS SDK nor botocore retries.
      return respondError(new ProtonError('NotImplementedException', `proton-local does not implement ${operation} yet`, 501));
    }

    let output: unknown;
    try {
      output = await this.exclusive(async () => {
        this.settle();
        let result: unknown;
        try {
          // Read-only operations work on the state itself: tracking their reads would only cost time.
          result = await handler(this.context(regionOf(request), !isReadOnly(operation), accountOf(request)), input);
        } finally {
          // Changes are saved even when the operation then failed: they happened (as they stay in memory).
          this.persistOrUndo();
        }
        return result;
      });
    } catch (error) {
      if (error instanceof PersistenceError) {
        return respondError(new ProtonError('InternalServerException', error.message, 500));
      }
      if (error instanceof ProtonError) {
        return respondError(error);
      }
      throw error;
    }
    if (fault.drop) {
      requestLog.record(operation, 'dropped', clock.now());
      request.socket.destroy();
      return;
    }
    requestLog.record(operation, 'success', clock.now());
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
    response.end(toWireJson(output));
  }

  private sendError(response: ServerResponse, error: ProtonError): void {
    response.writeHead(error.httpStatus, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': randomUUID(),
      'x-amzn-errortype': error.code,
    });
    response.end(JSON.stringify({ __type: `${ERROR_NAMESPACE}#${error.code}`, message: error.message }));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
