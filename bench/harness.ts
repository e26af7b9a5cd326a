/** What the benchmarks share: in-process synth, the local deploy engine, the handler log, child runs. */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import type { Metric } from './metric';
import { CloudAssembly, readCloudAssembly } from '../src/local/deploy/assembly';
import { DeployEngine, DeployEvent } from '../src/local/deploy/engine';
import { ProtonApiClient } from '../src/local/deploy/proton-client';
import { DeployState } from '../src/local/deploy/state';

export const ROOT = path.join(__dirname, '..');
export const SAMPLE_BUNDLE = path.join(ROOT, 'test', 'fixtures', 'proton-samples', 'environment-templates', 'fargate-env', 'v1');
export const FARGATE_ENV_SPEC = {
  vpc_cidr: '10.10.0.0/16',
  public_subnet_one_cidr: '10.10.0.0/18',
  public_subnet_two_cidr: '10.10.64.0/18',
  private_subnet_one_cidr: '10.10.128.0/18',
  private_subnet_two_cidr: '10.10.192.0/18',
};

/** Temporary folders of this run, removed by removeTemporaryDirectories. */
const temporaries: string[] = [];

export function temporaryDirectory(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk-proton-bench-${prefix}-`));
  temporaries.push(dir);
  return dir;
}

export function removeTemporaryDirectories(): void {
  for (const dir of temporaries.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Synthesizes an app in process and reads it back as the local engine does. */
export function synthesize(build: (app: App) => void, context: { [key: string]: unknown } = {}): CloudAssembly {
  const app = new App({ outdir: temporaryDirectory('assembly'), context });
  build(app);
  return readCloudAssembly(app.synth().directory);
}

/** A deploy engine on a fresh state directory, with the providers' own query interval (no override). */
export function newEngine(endpoint: string, onEvent?: (event: DeployEvent) => void): { engine: DeployEngine; state: DeployState } {
  const state = new DeployState(temporaryDirectory('state'));
  return { engine: new DeployEngine({ state, endpoint, client: new ProtonApiClient(endpoint), onEvent }), state };
}

/** Handler invocations in the engine's handler log: `[<logicalId> <phase>] {"message":"<phase> started",...}` lines. */
export function handlerInvocations(state: DeployState, logicalId: string, phase: 'onEvent' | 'isComplete'): number {
  if (!fs.existsSync(state.handlerLogFile)) return 0;
  const marker = `[${logicalId} ${phase}] {"message":"${phase} started"`;
  return fs.readFileSync(state.handlerLogFile, 'utf8').split('\n').filter(line => line.includes(marker)).length;
}

/** When each resource's operation completed (epoch ms), by `stack/logicalId/action`. */
export function completionTimes(): { onEvent: (event: DeployEvent) => void; at: (stack: string, logicalId: string, action: string) => number } {
  const times = new Map<string, number>();
  return {
    onEvent: (event) => {
      if (event.status === 'COMPLETE') times.set(`${event.stack}/${event.logicalId}/${event.action}`, Date.now());
    },
    at: (stack, logicalId, action) => {
      const time = times.get(`${stack}/${logicalId}/${action}`);
      if (time === undefined) throw new Error(`${stack} ${logicalId}: no ${action} completed`);
      return time;
    },
  };
}

/**
 * Runs `bench/<module>.ts --child ARGS` in its own process and returns the metrics it prints (its last stdout line).
 * Benchmarks that need their own proton-local run this way: the in-process handler reads the Proton endpoint from
 * process.env, which every invocation in one process shares.
 */
export function runChild<T = Metric[]>(module: string, args: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', path.join('bench', `${module}.ts`), '--child', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.once('error', reject);
    child.once('close', (code) => {
      const lines = output.trim().split('\n');
      if (code !== 0) return reject(new Error(`bench/${module}.ts ${args.join(' ')} failed (exit ${code}):\n${output}`));
      try {
        resolve(JSON.parse(lines[lines.length - 1]));
      } catch {
        reject(new Error(`bench/${module}.ts ${args.join(' ')} printed no JSON result:\n${output}`));
      }
    });
  });
}

/** The entry point of a benchmark module run as a child: prints the result as the last line of stdout. */
export function childMain<T>(measure: (args: string[]) => Promise<T>): void {
  measure(process.argv.slice(process.argv.indexOf('--child') + 1))
    .then((result) => {
      removeTemporaryDirectories();
      process.stdout.write(`\n${JSON.stringify(result)}\n`);
      process.exit(0);
    })
    .catch((error) => {
      removeTemporaryDirectories();
      console.error(error);
      process.exit(1);
    });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
