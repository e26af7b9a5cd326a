/**
 * proton-local's HTTP server: Proton's awsJson1_0 protocol on `POST /`, the S3 subset on path-style URLs, and the
 * admin endpoints under /_proton-local/. Operations run one at a time, in arrival order, against settled state.
 */
import { randomUUID } from 'crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import type { Clock } from './clock';
import { operationTables, settlers } from './emulator/registry';
import type { EmulatorState } from './emulator/state';
import { EmulatorSettings, OperationContext, OperationHandler, OperationTable, ProtonError } from './emulator/types';
import type { Faults } from './faults';
import { protonModel } from './model/proton-model.generated';
import { checkInput, isModelledOperation, validationMessage } from './model/validate';
import type { RequestLog } from './request-log';
import { getStoredObject, handleS3Request } from './s3';

const ERROR_NAMESPACE = 'com.amazonaws.proton.v20200720';
const ADMIN_PREFIX = '/_proton-local/';

/** What the server works on; ProtonLocal owns it (state, persistence, settings). */
export interface ServerBackend {
  readonly clock: Clock;
  readonly settings: EmulatorSettings;
  readonly faults: Faults;
  readonly requestLog: RequestLog;
  /** The current state object (replaced by reset). */
  state(): EmulatorState;
  /** Called after each request that may have changed the state. */
  saveState(): void;
  reset(): void;
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

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export class ProtonServer {
  private readonly handlers: Map<string, OperationHandler>;
  private readonly server: Server;
  /** Operations run one at a time so async handlers never interleave their state changes. */
  private queue: Promise<unknown> = Promise.resolve();

  /** @param tables the operation modules served (all of registry.ts by default) */
  constructor(private readonly backend: ServerBackend, tables: readonly OperationTable[] = operationTables) {
    this.handlers = buildHandlers(tables);
    this.server = createServer((request, response) => {
      this.handle(request, response).catch(error => {
        if (!response.headersSent) {
          this.sendError(response, new ProtonError('InternalServerException', `proton-local failed: ${error?.stack ?? error}`, 500));
        }
      });
    });
    this.server.keepAliveTimeout = 60_000;
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

  /** A context on the current state, for settlers and handlers. */
  context(region?: string): OperationContext {
    const settings = this.backend.settings;
    const state = this.backend.state();
    return {
      state,
      clock: this.backend.clock,
      settings: region && region !== settings.region ? { ...settings, region } : settings,
      getObject: (bucket, key) => getStoredObject(state, bucket, key),
    };
  }

  /** Applies every async transition that is due. */
  settle(): void {
    const ctx = this.context();
    for (const settler of settlers) {
      settler(ctx);
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const target = request.headers['x-amz-target'];
    if (url.pathname.startsWith(ADMIN_PREFIX)) {
      return this.handleAdmin(request.method ?? 'GET', url.pathname.slice(ADMIN_PREFIX.length), response);
    }
    if (typeof target === 'string') {
      return this.handleProton(target, body, request, response);
    }
    const operation = await this.exclusive(async () => handleS3Request(request, url, body, response, {
      state: this.backend.state(),
      clock: this.backend.clock,
      saveState: () => this.backend.saveState(),
    }));
    this.backend.requestLog.record(`S3.${operation.name}`, operation.outcome, this.backend.clock.now());
  }

  private handleAdmin(method: string, path: string, response: ServerResponse): void {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body, undefined, 2));
    };
    if (method === 'GET' && path === 'requests') {
      return send(200, { counts: this.backend.requestLog.counts(), requests: this.backend.requestLog.all });
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
      `Known: GET ${ADMIN_PREFIX}requests, GET ${ADMIN_PREFIX}state, POST ${ADMIN_PREFIX}reset`,
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
    try {
      input = body.length ? JSON.parse(body.toString('utf8')) : {};
    } catch (error) {
      return respondError(new ProtonError('SerializationException', `Request body of ${operation} is not valid JSON: ${(error as Error).message}`));
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
        try {
          return await handler(this.context(regionOf(request)), input);
        } finally {
          if (!isReadOnly(operation)) {
            this.backend.saveState();
          }
        }
      });
    } catch (error) {
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
