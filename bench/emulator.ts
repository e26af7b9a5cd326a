/**
 * Row 7, proton-local at scale (run by bench/run.ts; alone: `npx tsx bench/emulator.ts [resources...]`, default 1000 10000).
 *
 * For each size, a state of that many resources (deployment records of an environment updated again and again, the
 * collection that grows without a quota, plus the environment and its template) is built through the real SDK
 * client in memory, then loaded by a persisted proton-local (--state), which measures:
 *
 * - persisted mutation latency: UpdateEnvironmentTemplate (one record changed) and UpdateEnvironment (a new
 *   deployment), each answered only once its journal line is fsync'd;
 * - read throughput: GetEnvironment and GetDeployment, sequential and 16 concurrent, in rounds that alternate
 *   between the sizes (the best round of each counts, so a shared machine's load spikes disturb no size alone).
 *
 * The metrics: persisted mutation latency at the largest size (goal: at most 5 ms), and the read throughput of the
 * largest size relative to the smallest (goal: at least 80%, i.e. flat).
 * Figures are wall-clock on whatever machine runs it: compare runs on one machine, not across machines.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  CreateEnvironmentCommand, CreateEnvironmentTemplateCommand, CreateEnvironmentTemplateVersionCommand, GetDeploymentCommand,
  GetEnvironmentCommand, ProtonClient, UpdateEnvironmentCommand, UpdateEnvironmentTemplateCommand, UpdateEnvironmentTemplateVersionCommand,
} from '@aws-sdk/client-proton';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { metric, Metric, withinBudget } from './metric';
import { ProtonLocal } from '../src/local';
import { StatePersistence } from '../src/local/persistence';
import { packBundle } from '../src/private/bundle';
import { sampleBundle } from '../test/local/helpers';

const CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'x' };
const ENV_SPEC = 'proton: EnvironmentSpec\nspec:\n  vpc_cidr: 10.0.0.0/16\n';
const MUTATIONS = 300;

/** Time spent saving (journal append + fdatasync), measured around StatePersistence.append. */
const appendTimes: number[] = [];
const append = StatePersistence.prototype.append;
StatePersistence.prototype.append = function timedAppend(this: StatePersistence, ...args: Parameters<typeof append>) {
  const t0 = performance.now();
  try {
    return append.apply(this, args);
  } finally {
    appendTimes.push(performance.now() - t0);
  }
};
const takeAppendTimes = () => appendTimes.splice(0).sort((a, b) => a - b);

/** Of which the disk's part: fdatasync of the journal (and of a compaction, if one runs). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs: typeof import('fs') = require('fs');
const syncTimes: number[] = [];
const fdatasync = fs.fdatasyncSync;
fs.fdatasyncSync = (fd: number) => {
  const t0 = performance.now();
  try {
    fdatasync(fd);
  } finally {
    syncTimes.push(performance.now() - t0);
  }
};
const meanSync = () => {
  const times = syncTimes.splice(0);
  return times.reduce((sum, t) => sum + t, 0) / Math.max(1, times.length);
};
const READS = 1000;
const READ_ROUNDS = 3;

interface Row { readonly benchmark: string; readonly value: number; readonly unit: string; readonly detail?: string }
const rows: Row[] = [];
const record = (row: Row) => {
  rows.push(row);
  console.log(`${row.benchmark.padEnd(62)} ${row.value.toFixed(row.unit === 'ms' ? 2 : 0).padStart(10)} ${row.unit}${row.detail ? `  (${row.detail})` : ''}`);
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timeCalls(count: number, concurrency: number, call: (i: number) => Promise<unknown>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      await call(i);
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const mean = latencies.reduce((sum, l) => sum + l, 0) / latencies.length;
  return { perSecond: count / seconds, mean, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const clients = (endpoint: string) => ({
  proton: new ProtonClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 }),
  s3: new S3Client({ endpoint, region: 'us-east-1', credentials: CREDENTIALS, forcePathStyle: true }),
});

/** Builds, in memory, a state of about `resources` resources; returns it as JSON (a state file proton-local reads). */
async function buildState(resources: number): Promise<string> {
  const local = await ProtonLocal.start({ registrationDelayMs: 0, deploymentDelayMs: 0 });
  const { proton, s3 } = clients(local.endpoint);
  try {
    const files = Object.entries(sampleBundle('environment-templates/fargate-env/v1'))
      .filter(([path]) => /^(schema|infrastructure)\//.test(path))
      .map(([path, content]) => ({ path, content: Buffer.from(content) }));
    await s3.send(new CreateBucketCommand({ Bucket: 'bundles' }));
    await s3.send(new PutObjectCommand({ Bucket: 'bundles', Key: 'env.tar.gz', Body: await packBundle(files) }));
    await proton.send(new CreateEnvironmentTemplateCommand({ name: 'env' }));
    await proton.send(new CreateEnvironmentTemplateVersionCommand({ templateName: 'env', source: { s3: { bucket: 'bundles', key: 'env.tar.gz' } } }));
    await proton.send(new UpdateEnvironmentTemplateVersionCommand({ templateName: 'env', majorVersion: '1', minorVersion: '0', status: 'PUBLISHED' }));
    await proton.send(new CreateEnvironmentCommand({
      name: 'bench', templateName: 'env', templateMajorVersion: '1', spec: ENV_SPEC, protonServiceRoleArn: 'arn:aws:iam::123456789012:role/proton',
    }));
    // Each update is a new deployment record; with no deployment delay, the previous one completes at the next request.
    for (let i = 3; i < resources; i++) {
      await proton.send(new UpdateEnvironmentCommand({ name: 'bench', deploymentType: 'CURRENT_VERSION', description: `update ${i}` }));
    }
    return JSON.stringify(local.state);
  } finally {
    proton.destroy();
    s3.destroy();
    await local.stop();
  }
}

interface Prepared {
  readonly resources: number;
  readonly local: ProtonLocal;
  readonly proton: ProtonClient;
  readonly deploymentId: string;
}

/** A persisted proton-local loaded with a state of `resources` resources. */
async function prepare(resources: number, dir: string): Promise<Prepared> {
  const started = performance.now();
  const stateFile = join(dir, `state-${resources}.json`);
  writeFileSync(stateFile, await buildState(resources));
  const local = await ProtonLocal.start({ stateFile, registrationDelayMs: 0, deploymentDelayMs: 0 });
  const { proton, s3 } = clients(local.endpoint);
  s3.destroy();
  const count = Object.keys(local.state.deployments).length + 2;
  console.log(`${count} resources (${count - 2} deployment records), built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const deploymentId = (await proton.send(new GetEnvironmentCommand({ name: 'bench' }))).environment!.lastAttemptedDeploymentId!;
  return { resources, local, proton, deploymentId };
}

type Timing = Awaited<ReturnType<typeof timeCalls>>;
const best = (runs: Timing[]) => runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));

async function benchMutations({ resources, proton }: Prepared): Promise<{ templateUpdateMs: number; deploymentMs: number }> {
  takeAppendTimes();
  meanSync();
  const templateUpdates = await timeCalls(MUTATIONS, 1, i => proton.send(new UpdateEnvironmentTemplateCommand({ name: 'env', description: `d${i}` })));
  record({ benchmark: `persisted UpdateEnvironmentTemplate at ${resources} resources`, value: templateUpdates.mean, unit: 'ms', detail: `mean; p50 ${templateUpdates.p50.toFixed(2)} ms, p99 ${templateUpdates.p99.toFixed(2)} ms, fsync'd journal` });
  const saves = takeAppendTimes();
  record({
    benchmark: '  of which saving (journal append + fdatasync)',
    value: saves.reduce((sum, t) => sum + t, 0) / saves.length,
    unit: 'ms',
    detail: `mean; p50 ${percentile(saves, 50).toFixed(2)} ms, p99 ${percentile(saves, 99).toFixed(2)} ms, ${saves.length} saves; `
      + `fdatasync ${meanSync().toFixed(2)} ms mean`,
  });
  const deployments = await timeCalls(MUTATIONS, 1, i => proton.send(new UpdateEnvironmentCommand({ name: 'bench', deploymentType: 'CURRENT_VERSION', description: `bench ${i}` })));
  record({ benchmark: `persisted UpdateEnvironment (new deployment) at ${resources} resources`, value: deployments.mean, unit: 'ms', detail: `mean; p50 ${deployments.p50.toFixed(2)} ms, p99 ${deployments.p99.toFixed(2)} ms` });
  const deploymentSaves = takeAppendTimes();
  record({
    benchmark: '  of which saving (journal append + fdatasync)',
    value: deploymentSaves.reduce((sum, t) => sum + t, 0) / deploymentSaves.length,
    unit: 'ms',
    detail: `mean; p50 ${percentile(deploymentSaves, 50).toFixed(2)} ms, p99 ${percentile(deploymentSaves, 99).toFixed(2)} ms; `
      + `fdatasync ${meanSync().toFixed(2)} ms mean`,
  });
  return { templateUpdateMs: templateUpdates.mean, deploymentMs: deployments.mean };
}

/** Mutation budget at the largest size, and the share of the smallest size's read throughput the largest must keep. */
const MUTATION_BUDGET_MS = 5;
const FLAT_READS = 0.8;

export async function measureEmulator(resources: number[] = [1000, 10_000]): Promise<Metric[]> {
  const metrics: Metric[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'proton-local-bench-'));
  const prepared: Prepared[] = [];
  try {
    for (const size of resources) {
      prepared.push(await prepare(size, dir));
    }
    // Rounds alternate between the sizes, and each size keeps its best round: a shared machine's load then disturbs
    // every size alike instead of whichever ran at the wrong moment.
    const reads = new Map<Prepared, { environment: Timing[]; deployment: Timing[]; concurrent: Timing[] }>(
      prepared.map(p => [p, { environment: [], deployment: [], concurrent: [] }]));
    for (let round = 0; round < READ_ROUNDS; round++) {
      for (const p of prepared) {
        const runs = reads.get(p)!;
        runs.environment.push(await timeCalls(READS, 1, () => p.proton.send(new GetEnvironmentCommand({ name: 'bench' }))));
        runs.deployment.push(await timeCalls(READS, 1, () => p.proton.send(new GetDeploymentCommand({ id: p.deploymentId }))));
        runs.concurrent.push(await timeCalls(READS, 16, () => p.proton.send(new GetEnvironmentCommand({ name: 'bench' }))));
      }
    }
    console.log();
    for (const p of prepared) {
      const runs = reads.get(p)!;
      for (const [label, timing] of [['GetEnvironment', best(runs.environment)], ['GetDeployment', best(runs.deployment)], ['GetEnvironment, concurrency 16', best(runs.concurrent)]] as const) {
        record({ benchmark: `${label} at ${p.resources} resources`, value: timing.perSecond, unit: 'req/s', detail: `best of ${READ_ROUNDS}; p50 ${timing.p50.toFixed(2)} ms, p99 ${timing.p99.toFixed(2)} ms` });
      }
    }
    let mutations = { templateUpdateMs: NaN, deploymentMs: NaN };
    for (const p of prepared) {
      mutations = await benchMutations(p);
    }
    const [first, last] = [prepared[0], prepared[prepared.length - 1]];
    metrics.push(
      withinBudget(`proton-local persisted UpdateEnvironmentTemplate at ${last.resources} resources (mean)`, mutations.templateUpdateMs, 'ms', MUTATION_BUDGET_MS),
      withinBudget(`proton-local persisted UpdateEnvironment (new deployment) at ${last.resources} resources (mean)`, mutations.deploymentMs, 'ms', MUTATION_BUDGET_MS),
    );
    if (prepared.length > 1) {
      for (const kind of ['environment', 'deployment'] as const) {
        const operation = kind === 'environment' ? 'GetEnvironment' : 'GetDeployment';
        metrics.push(metric({
          name: `proton-local ${operation} at ${last.resources} vs ${first.resources} resources (best of ${READ_ROUNDS})`,
          value: best(reads.get(last)![kind]).perSecond,
          unit: 'req/s',
          baseline: best(reads.get(first)![kind]).perSecond,
          goal: `≥ ${FLAT_READS} x ${first.resources}-resource figure`,
          passes: (_, ratio) => ratio >= FLAT_READS,
        }));
      }
    }
  } finally {
    for (const p of prepared) {
      p.proton.destroy();
      await p.local.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return metrics;
}

if (require.main === module) {
  const sizes = process.argv.slice(2).map(Number);
  measureEmulator(sizes.length ? sizes : undefined).then(metrics => console.log(JSON.stringify(metrics, undefined, 2))).catch(error => {
    console.error(error);
    process.exit(1);
  });
}
