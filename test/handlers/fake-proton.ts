/**
 * A scripted Proton client for handler unit tests: a real ProtonClient (the SDK's paginators check the class) whose
 * `send` answers from per-operation scripts instead of the network, and records every call.
 *
 *   const proton = new FakeProton();
 *   proton.on('GetEnvironmentTemplateVersion', () => ({ environmentTemplateVersion: draft }), () => ({ ... published }));
 *   const handler = lifecycle(resource, { client: () => proton.client() });
 */
import {
  ConflictException, InternalServerException, ProtonClient, ResourceNotFoundException, ThrottlingException, ValidationException,
} from '@aws-sdk/client-proton';

/** Answers one call: returns the output, or throws the error Proton would. */
export type Responder = (input: any) => unknown;

export interface Call {
  readonly operation: string;
  readonly input: any;
}

export class FakeProton {
  public readonly calls: Call[] = [];
  /** Every client handed out, in order: one per handler invocation. */
  public readonly clients: ProtonClient[] = [];
  public destroyed = 0;
  private readonly scripts = new Map<string, Responder[]>();

  /** Scripts an operation: each call takes the next responder; the last one answers every later call. */
  public on(operation: string, ...responders: Responder[]): this {
    this.scripts.set(operation, responders);
    return this;
  }

  /** The operations called, in order (optionally only those named). */
  public operations(...only: string[]): string[] {
    return this.calls.map(c => c.operation).filter(o => only.length === 0 || only.includes(o));
  }

  public callsOf(operation: string): any[] {
    return this.calls.filter(c => c.operation === operation).map(c => c.input);
  }

  /** A new client, as createProtonClient would give each invocation. */
  public client(): ProtonClient {
    const client = new ProtonClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } });
    (client as any).send = async (command: { constructor: { name: string }; input: unknown }) => {
      const operation = command.constructor.name.replace(/Command$/, '');
      this.calls.push({ operation, input: command.input });
      const script = this.scripts.get(operation);
      if (!script || script.length === 0) throw new Error(`FakeProton: no script for ${operation} ${JSON.stringify(command.input)}`);
      const responder = script.length > 1 ? script.shift()! : script[0];
      return responder(command.input);
    };
    const destroy = client.destroy.bind(client);
    client.destroy = () => {
      this.destroyed++;
      destroy();
    };
    this.clients.push(client);
    return client;
  }
}

const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

/** The errors Proton answers with, as the SDK models them. */
export const protonErrors = {
  throttling: (message = 'Rate exceeded') => new ThrottlingException({ message, ...metadata(400) }),
  internal: (message = 'Internal failure') => new InternalServerException({ message, ...metadata(500) }),
  conflict: (message: string) => new ConflictException({ message, ...metadata(409) }),
  validation: (message: string) => new ValidationException({ message, ...metadata(400) }),
  notFound: (message = 'Resource not found') => new ResourceNotFoundException({ message, ...metadata(404) }),
};

/** A responder that throws. */
export const fail = (error: Error): Responder => () => {
  throw error;
};

/** A clock the handler's sleep moves forward, so polling and backoff take no real time. */
export class FakeClock {
  public nowMs = 1_000_000;
  public readonly sleeps: number[] = [];
  public readonly now = () => this.nowMs;
  public readonly sleep = async (ms: number) => {
    this.sleeps.push(ms);
    this.nowMs += ms;
  };
}
