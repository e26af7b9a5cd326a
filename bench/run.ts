/**
 * Benchmarks: `npx projen bench`. Prints a table and writes bench/results/latest.json.
 *
 * - proton-local throughput and latency through the real SDK client, sequential and concurrent, with and without
 *   state persistence, and its memory per stored resource;
 * - TemplateBundle packing of every AWS sample bundle;
 * - the README's main job (deploy, upgrade, destroy of the example app on an embedded proton-local), whose goal is
 *   under two minutes on a 2-core machine.
 *
 * Figures are wall-clock on whatever machine runs it: compare runs on one machine, not across machines.
 */
import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { CreateEnvironmentTemplateCommand, GetEnvironmentTemplateCommand, ProtonClient } from '@aws-sdk/client-proton';
import { ProtonLocal } from '../src/local';
import { BundleFile, packBundleSync } from '../src/private/bundle';

const CREATED_TEMPLATES = 99;

interface Row { readonly benchmark: string; readonly value: number; readonly unit: string; readonly detail?: string }
const rows: Row[] = [];
const record = (row: Row) => {
  rows.push(row);
  console.log(`${row.benchmark.padEnd(58)} ${row.value.toFixed(row.unit === 'ms' ? 2 : 0).padStart(10)} ${row.unit}${row.detail ? `  (${row.detail})` : ''}`);
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
  return { perSecond: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function benchEmulator(stateFile?: string) {
  const label = stateFile ? 'persisted' : 'in memory';
  const local = await ProtonLocal.start({ stateFile, registrationDelayMs: 0, deploymentDelayMs: 0 });
  const proton = new ProtonClient({
    endpoint: local.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  try {
    await proton.send(new CreateEnvironmentTemplateCommand({ name: 'bench' }));
    for (const concurrency of [1, 16]) {
      const reads = await timeCalls(2000, concurrency, () => proton.send(new GetEnvironmentTemplateCommand({ name: 'bench' })));
      record({ benchmark: `proton-local GetEnvironmentTemplate, ${label}, concurrency ${concurrency}`, value: reads.perSecond, unit: 'req/s', detail: `p50 ${reads.p50.toFixed(2)} ms, p99 ${reads.p99.toFixed(2)} ms` });
    }
    const stateBefore = JSON.stringify(local.state).length;
    // Proton allows 100 templates per account (proton-local enforces it), the benchmark template included.
    const creates = await timeCalls(CREATED_TEMPLATES, 1, i => proton.send(new CreateEnvironmentTemplateCommand({
      name: `bench-${i}`, description: 'x'.repeat(200), tags: [{ key: 'team', value: 'platform' }],
    })));
    record({ benchmark: `proton-local CreateEnvironmentTemplate, ${label}, ${CREATED_TEMPLATES} in sequence`, value: creates.perSecond, unit: 'req/s', detail: `p50 ${creates.p50.toFixed(2)} ms, p99 ${creates.p99.toFixed(2)} ms` });
    // The emulator keeps its whole world in one plain object: its serialized size is what each resource costs.
    const perTemplate = (JSON.stringify(local.state).length - stateBefore) / CREATED_TEMPLATES;
    record({ benchmark: `proton-local state per stored template, ${label}`, value: perTemplate, unit: 'bytes', detail: 'serialized' });
    if (stateFile) {
      record({ benchmark: `proton-local state file after ${CREATED_TEMPLATES + 1} templates`, value: statSync(stateFile).size / 1024, unit: 'KiB' });
    }
  } finally {
    proton.destroy();
    await local.stop();
  }
}

function readBundle(directory: string): BundleFile[] {
  const files: BundleFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.startsWith('.')) files.push({ path: relative(directory, path).split('\\').join('/'), content: readFileSync(path) });
    }
  };
  walk(directory);
  return files;
}

function benchBundles() {
  const samples = join(__dirname, '..', 'test', 'fixtures', 'proton-samples');
  const bundles = ['environment-templates', 'service-templates', 'lambda-multi-svc']
    .flatMap(group => readdirSync(join(samples, group)).map(name => join(samples, group, name, 'v1')))
    .filter(dir => { try { return statSync(dir).isDirectory(); } catch { return false; } })
    .map(readBundle);
  const rounds = 50;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) bundles.forEach(packBundleSync);
  const perBundle = (performance.now() - started) / (rounds * bundles.length);
  record({ benchmark: `packBundleSync, ${bundles.length} AWS sample bundles`, value: perBundle, unit: 'ms', detail: 'per bundle' });
}

function benchMainJob() {
  const stateDir = mkdtempSync(join(tmpdir(), 'cdk-proton-bench-'));
  try {
    const started = performance.now();
    const result = spawnSync('npx', ['tsx', 'src/local/cli.ts', 'demo',
      '--app', 'npx tsx examples/platform-app.ts', '--state-dir', stateDir],
    { cwd: join(__dirname, '..'), encoding: 'utf8' });
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 0) {
      throw new Error(`the demo failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
    }
    record({ benchmark: 'main job: demo (deploy, upgrade, destroy) wall time', value: seconds * 1000, unit: 'ms', detail: 'goal: < 120000 ms on 2 cores' });
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), 'proton-local-bench-'));
  try {
    await benchEmulator();
    await benchEmulator(join(stateDir, 'state.json'));
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
  benchBundles();
  benchMainJob();
  const out = join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2));
  console.log(`\nwritten: ${relative(process.cwd(), join(out, 'latest.json'))}`);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
