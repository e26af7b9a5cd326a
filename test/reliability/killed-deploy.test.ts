/**
 * A killed `deploy` or `destroy` (SIGKILL: no chance to write anything) at several points, followed by a deploy and a
 * destroy: the next run says the previous one was interrupted, repeats its interrupted operation, registers no second
 * version, and destroy leaves nothing. The engine runs in a child process (engine-process.ts) against an in-process
 * proton-local, which outlives it as the real Proton would. Needs the handler bundle (`npx projen bundle`).
 */
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { buildReliabilityApp } from './app';
import { ProtonLocal } from '../../src/local';
import { DeployEngine, StackOutcome } from '../../src/local/deploy/engine';
import { ProtonApiClient } from '../../src/local/deploy/proton-client';
import { DeployState } from '../../src/local/deploy/state';
import { synthesize, temporaryDirectory } from '../e2e/helpers';

const ENGINE_PROCESS = path.join(__dirname, 'engine-process.ts');

function startEngineProcess(command: 'deploy' | 'destroy', assemblyDirectory: string, stateDirectory: string, endpoint: string): ChildProcess {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ENGINE_PROCESS, command, assemblyDirectory, stateDirectory, endpoint], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** Kills the process once proton-local has answered `operation` successfully `times` times; resolves when it is dead. */
async function killAfter(local: ProtonLocal, child: ChildProcess, operation: string, times = 1): Promise<void> {
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
  const deadline = Date.now() + 120_000;
  while (local.requestLog.count(operation, 'success') < times) {
    if (child.exitCode !== null) throw new Error(`the engine process ended (code ${child.exitCode}) before ${operation}`);
    if (Date.now() > deadline) throw new Error(`no ${operation} within 2 minutes`);
    await new Promise(resolve => setTimeout(resolve, 5));
  }
  child.kill('SIGKILL');
  await exited;
}

async function protonResources(client: ProtonApiClient): Promise<string[]> {
  const rows: string[] = [];
  for (const [list, versions] of [['ListEnvironmentTemplates', 'ListEnvironmentTemplateVersions'], ['ListServiceTemplates', 'ListServiceTemplateVersions']]) {
    for (const template of await client.listAll(list, 'templates')) {
      rows.push(`template ${template.name}`);
      for (const v of await client.listAll(versions, 'templateVersions', { templateName: template.name })) rows.push(`version ${template.name}:${v.majorVersion}.${v.minorVersion}`);
    }
  }
  rows.push(...(await client.listAll('ListEnvironments', 'environments')).map((e: any) => `environment ${e.name}`));
  rows.push(...(await client.listAll('ListServices', 'services')).map((s: any) => `service ${s.name}`));
  return rows.sort();
}

const DEPLOYED = ['environment staging', 'service web', 'template fargate-env', 'template web', 'version fargate-env:1.0', 'version web:1.0'];

let local: ProtonLocal;
let client: ProtonApiClient;
let stateDirectory: string;
const engine = () => new DeployEngine({ state: new DeployState(stateDirectory), client, endpoint: local.endpoint, pollIntervalMs: 10 });
const revision1 = () => synthesize(app => buildReliabilityApp(app, 1));

beforeEach(async () => {
  // Slow enough that the kill lands while resources are still on their way.
  local = await ProtonLocal.start({ registrationDelayMs: 300, deploymentDelayMs: 600 });
  client = new ProtonApiClient(local.endpoint);
  stateDirectory = temporaryDirectory('killed');
});
afterEach(() => local.stop());

const warningsOf = (outcomes: StackOutcome[]) => outcomes.flatMap(o => o.warnings).join('\n');

test.each([
  ['after a version is published', 'UpdateEnvironmentTemplateVersion'],
  ['while the environment deploys', 'CreateEnvironment'],
  ['while a version registers', 'CreateServiceTemplateVersion'],
])('a deploy killed %s: the next deploy says so, duplicates nothing, and destroy leaves nothing', async (_point, operation) => {
  const assembly = revision1();
  await killAfter(local, startEngineProcess('deploy', assembly.directory, stateDirectory, local.endpoint), operation);

  const outcomes = await engine().deploy(revision1());

  expect(warningsOf(outcomes)).toMatch(/A previous run was interrupted while (CREATE|UPDATE)_IN_PROGRESS/);
  // The platform stack may have finished before the kill: then this run is an update with nothing to do.
  expect(outcomes.map(o => o.status)).toEqual([expect.stringMatching(/^(CREATE|UPDATE)_COMPLETE$/), 'CREATE_COMPLETE']);
  expect(await protonResources(client)).toEqual(DEPLOYED);
  expect(local.requestLog.count('CreateEnvironmentTemplateVersion', 'success')).toBe(1);
  expect(local.requestLog.count('CreateServiceTemplateVersion', 'success')).toBe(1);

  await engine().destroy();
  expect(await protonResources(client)).toEqual([]);
});

test('a destroy killed midway: the next destroy finishes it and leaves nothing', async () => {
  const assembly = revision1();
  await engine().deploy(assembly);
  local.requestLog.clear();

  await killAfter(local, startEngineProcess('destroy', assembly.directory, stateDirectory, local.endpoint), 'DeleteService');
  expect(new DeployState(stateDirectory).stack('Team')?.status).toBe('DELETE_IN_PROGRESS');

  await engine().destroy();
  expect(await protonResources(client)).toEqual([]);
  expect(new DeployState(stateDirectory).stacks).toEqual({});
});
