/**
 * Row 1: Proton calls of the example app's deploy, upgrade and destroy (examples/platform-app.ts, revision 1 then 2)
 * through the local deploy engine against an in-process proton-local, against the minimum: every mutating call plus
 * one read per status change a resource must wait for. Also the main job's wall time (the README's goal: 2 minutes).
 * With PROTON_CALLS_BREAKDOWN=1 it prints the calls of each phase by resource type, request, handler phase and
 * operation (PROTON_CALLS_BREAKDOWN=sequence: every call as it is made, by logical id), to see which are extra.
 */
import type * as Http from 'http';
import { newEngine, synthesize } from './harness';
import { atMost, Metric, withinBudget } from './metric';
import { ProtonLocal } from '../src/local';
import { buildPlatformApp, REVISION_CONTEXT } from '../src/local/demo/platform-app';
import { currentInvocation } from '../src/local/deploy/custom-resources';
import { settlers } from '../src/local/emulator/registry';
import type { Settler } from '../src/local/emulator/types';

/** Reading the state settles the transitions that are due. */
const settled = (local: ProtonLocal) => local.state;
const isRead = (operation: string) => /^(Get|List)/.test(operation);
const isProton = (operation: string) => !operation.startsWith('S3.');

/**
 * Counts the status changes the emulator makes on its own (async transitions), as a waiting resource sees them: each
 * template version's registration, and each deployment phase's end grouped by the environment or service it belongs
 * to and the moment it ended (a service's instances and pipeline finish together: one read sees them all). The
 * service settler only derives the service's status from those, in the same settle: not a change of its own.
 */
function countTransitions(): { take(): number; restore(): void } {
  const observed = new Set<string>();
  const originals = new Map<Settler, Settler['settle']>();
  for (const settler of settlers) {
    const settle = settler.settle;
    originals.set(settler, settle);
    const collection = settler.collection;
    (settler as { settle: Settler['settle'] }).settle = (ctx, keys) => {
      const records = ctx.state[collection] as { [key: string]: any };
      const before = keys.map(key => snapshot(collection, records[key]));
      settle.call(settler, ctx, keys);
      keys.forEach((key, i) => {
        for (const change of changes(collection, key, before[i], records[key])) observed.add(change);
      });
    };
  }
  return {
    take: () => {
      const count = observed.size;
      observed.clear();
      return count;
    },
    restore: () => originals.forEach((settle, settler) => { (settler as { settle: Settler['settle'] }).settle = settle; }),
  };
}

function snapshot(collection: string, record: any): any {
  if (!record) return undefined;
  if (collection === 'environmentTemplates' || collection === 'serviceTemplates') {
    return Object.fromEntries(Object.entries<any>(record.versions).map(([version, v]) => [version, Boolean(v.pendingRegistration)]));
  }
  return collection === 'deployments' ? record.deploymentStatus : undefined;
}

function changes(collection: string, key: string, before: any, after: any): string[] {
  if (collection === 'environmentTemplates' || collection === 'serviceTemplates') {
    return Object.entries<boolean>(before ?? {}).filter(([version, pendingBefore]) => pendingBefore && !after?.versions[version]?.pendingRegistration)
      .map(([version]) => `registration ${collection}/${key}/${version}`);
  }
  if (collection === 'deployments' && after && before !== after.deploymentStatus) {
    return [`deployment ${after.serviceName ?? after.environmentName}@${after.completedAt ?? after.lastModifiedAt}`];
  }
  return [];
}

/**
 * Attributes each Proton request the in-process handler sends to the invocation that sends it (resource type, request
 * type, onEvent or isComplete) and its operation, for the breakdown the run prints: which calls are above the minimum.
 */
// The module object itself (an `import *` is a copy under esModuleInterop): the handler's SDK reads http.request from it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const http: typeof Http = require('http');

function attributeRequests(): { take(): Map<string, number>; restore(): void } {
  const original = http.request;
  let counts = new Map<string, number>();
  const sequences = process.env.PROTON_CALLS_BREAKDOWN === 'sequence';
  (http as { request: typeof http.request }).request = ((...args: Parameters<typeof http.request>) => {
    const options = args.find(a => a !== null && typeof a === 'object' && !(a instanceof URL)) as Http.RequestOptions | undefined;
    const target = headerOf(options, 'x-amz-target');
    const invocation = currentInvocation();
    if (target && invocation) {
      const operation = target.split('.').pop();
      const key = sequences
        ? `${invocation.logicalId} ${invocation.requestType}`
        : `${invocation.resourceType.replace('Custom::Proton', '')} ${invocation.requestType} ${invocation.phase}: ${operation}`;
      if (sequences) process.stdout.write(`    ${Date.now() % 100000} ${key} ${invocation.phase}: ${operation}\n`);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return (original as (...a: unknown[]) => Http.ClientRequest)(...args);
  }) as typeof http.request;
  return {
    take: () => {
      const taken = counts;
      counts = new Map();
      return taken;
    },
    restore: () => { (http as { request: typeof http.request }).request = original; },
  };
}

function headerOf(options: Http.RequestOptions | undefined, name: string): string | undefined {
  const headers = options?.headers as { [name: string]: unknown } | undefined;
  const entry = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return entry === undefined ? undefined : String(entry[1]);
}

interface Phase { readonly name: string; readonly calls: number; readonly mutating: number; readonly reads: number; readonly transitions: number }

export async function measureProtonCalls(): Promise<Metric[]> {
  const transitions = countTransitions();
  const attribution = attributeRequests();
  const breakdowns: Array<[string, Map<string, number>]> = [];
  const local = await ProtonLocal.start();
  const { engine } = newEngine(local.endpoint);
  const phases: Phase[] = [];
  const started = Date.now();
  try {
    const runPhase = async (name: string, run: () => Promise<unknown>) => {
      const first = local.requestLog.all.length;
      transitions.take();
      attribution.take();
      await run();
      breakdowns.push([name, attribution.take()]);
      settled(local); // every transition this phase made due is counted in it
      const operations = local.requestLog.all.slice(first).map(entry => entry.operation).filter(isProton);
      const mutating = operations.filter(op => !isRead(op)).length;
      phases.push({ name, calls: operations.length, mutating, reads: operations.length - mutating, transitions: transitions.take() });
    };
    for (const [name, revision] of [['deploy', '1'], ['upgrade', '2']]) {
      const assembly = synthesize(buildPlatformApp, { [REVISION_CONTEXT]: revision });
      await runPhase(name, () => engine.deploy(assembly));
    }
    await runPhase('destroy', () => engine.destroy());
  } finally {
    transitions.restore();
    attribution.restore();
    await local.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const sum = (field: keyof Omit<Phase, 'name'>) => phases.reduce((total, phase) => total + phase[field], 0);
  for (const p of phases) {
    console.log(`  ${p.name}: ${p.calls} Proton calls (${p.mutating} mutating, ${p.reads} reads), ${p.transitions} status changes: minimum ${p.mutating + p.transitions}`);
  }
  if (process.env.PROTON_CALLS_BREAKDOWN) {
    for (const [name, counts] of breakdowns) {
      console.log(`  ${name} by resource type, request, phase and operation:`);
      for (const [key, count] of [...counts].sort(([a], [b]) => a.localeCompare(b))) console.log(`    ${String(count).padStart(3)} ${key}`);
    }
  }
  const minimum = sum('mutating') + sum('transitions');
  return [
    atMost(`Proton calls, example app deploy + upgrade + destroy (${phases.map(p => p.calls).join('/')})`, sum('calls'), 'calls',
      minimum, 1.3, `minimum (${sum('mutating')} mutating + ${sum('transitions')} status changes)`),
    withinBudget('Example app deploy + upgrade + destroy, wall time (synth included)', seconds, 's', 120),
  ];
}
