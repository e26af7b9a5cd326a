/** Shared set-up of the local deploy tests: an in-process proton-local, a state directory, and assemblies synthesized in process. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { ProtonLocal } from '../../src/local';
import { CloudAssembly, readCloudAssembly } from '../../src/local/deploy/assembly';
import { DeployEngine, DeployEvent } from '../../src/local/deploy/engine';
import { ProtonApiClient } from '../../src/local/deploy/proton-client';
import { DeployState } from '../../src/local/deploy/state';

export const RECORDING_HANDLER_DIR = path.join(__dirname, 'fixtures', 'recording-handler');

export function temporaryDirectory(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `proton-e2e-${prefix}-`));
}

/** Synthesizes an app in process into a fresh directory and reads it back as the engine does. */
export function synthesize(build: (app: App) => void, context: { [key: string]: unknown } = {}): CloudAssembly {
  const app = new App({ outdir: temporaryDirectory('assembly'), context });
  build(app);
  return readCloudAssembly(app.synth().directory);
}

/** A Provider with onEvent and isComplete functions running the recording handler (10 s interval, 30 min timeout). */
export function recordingProvider(stack: Stack): cr.Provider {
  const fn = (id: string, phase: string) => new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(RECORDING_HANDLER_DIR),
    environment: { PROTON_HANDLER_PHASE: phase },
  });
  return new cr.Provider(stack, 'Provider', {
    onEventHandler: fn('OnEvent', 'onEvent'),
    isCompleteHandler: fn('IsComplete', 'isComplete'),
    queryInterval: Duration.seconds(10),
    totalTimeout: Duration.minutes(30),
  });
}

export function recordingResource(stack: Stack, provider: cr.Provider, id: string, properties: { [name: string]: unknown }): CustomResource {
  return new CustomResource(stack, id, { serviceToken: provider.serviceToken, resourceType: 'Custom::ProtonRecording', properties });
}

export interface RecordedCall {
  readonly phase: string;
  readonly event: any;
  readonly env: { endpoint?: string; region?: string; accessKey?: string };
}

/** What the recording handler saw since the last call (and forgets it). */
export function takeRecordedCalls(): RecordedCall[] {
  const journal = (globalThis as any).__recordingHandler;
  const calls: RecordedCall[] = journal ? [...journal.calls] : [];
  if (journal) journal.calls.length = 0;
  return calls;
}

/** Operations that changed something on proton-local (everything but reads), Proton's and its S3 subset's. */
export function mutatingCalls(local: ProtonLocal): string[] {
  return local.requestLog.all.map((entry) => entry.operation).filter((operation) => !/^(S3\.)?(Get|List|Head)/.test(operation));
}

export interface Harness {
  readonly local: ProtonLocal;
  readonly client: ProtonApiClient;
  readonly state: DeployState;
  readonly events: DeployEvent[];
  engine(): DeployEngine;
  stop(): Promise<void>;
}

export async function startHarness(options: { pollIntervalMs?: number } = {}): Promise<Harness> {
  const local = await ProtonLocal.start({ registrationDelayMs: 20, deploymentDelayMs: 30 });
  const state = new DeployState(temporaryDirectory('state'));
  const events: DeployEvent[] = [];
  const client = new ProtonApiClient(local.endpoint);
  return {
    local,
    client,
    state,
    events,
    engine: () => new DeployEngine({
      state, client, endpoint: local.endpoint, pollIntervalMs: options.pollIntervalMs ?? 10, onEvent: (event) => events.push(event),
    }),
    stop: () => local.stop(),
  };
}

/** The events of `phase` as `logicalId ACTION STATUS` strings, in order. */
export function eventLines(events: DeployEvent[], filter: (event: DeployEvent) => boolean = () => true): string[] {
  return events.filter(filter).map((e) => `${e.logicalId} ${e.action}${e.phase === 'deploy' || e.phase === 'destroy' ? '' : `(${e.phase})`} ${e.status}`);
}
