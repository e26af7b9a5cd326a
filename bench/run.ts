/**
 * Benchmarks: `npx projen bench` (bundles the handler, then runs this). Measures the rows of the performance issue
 * against their baselines in one run, prints a table and writes bench/results.json (one object per metric:
 * name, value, unit, baseline, ratio = value / baseline, goal, pass).
 *
 * The CPU-bound rows (synth, cold start, proton-local at scale) run first, alone. Then the rows that mostly wait run
 * at once: those that need a proton-local of their own (completion lag, throttled creates, scale) in child processes, the
 * example app's deploy in this one.
 * Figures are wall-clock and CPU time on whatever machine runs it: compare runs on one machine, not across machines.
 */
import { writeFileSync } from 'fs';
import { join, relative } from 'path';
import { measureCompletionLag } from './completion-lag';
import { measureEmulator } from './emulator';
import { measureHandlerAsset } from './handler-asset';
import { removeTemporaryDirectories } from './harness';
import { formatTable, Metric } from './metric';
import { measureProtonCalls } from './proton-calls';
import { measureScale } from './scale';
import { measureFixedResources, measureSynth } from './synth';
import { measureThrottledCreates } from './throttled-creates';

async function timed<T>(label: string, run: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  console.log(`${label}...`);
  const result = await run();
  console.log(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

async function main() {
  const started = Date.now();
  const metrics: Metric[] = [];
  // CPU-bound rows first, alone: their figures are CPU time and latency.
  metrics.push(...await timed('Synth', measureSynth));
  metrics.push(...await timed('Fixed resources', measureFixedResources));
  metrics.push(...await timed('Handler asset', measureHandlerAsset));
  metrics.push(...await timed('proton-local at 1k and 10k resources', () => measureEmulator()));
  // Then the rows that mostly wait (on deployments, registrations, a rate limit), at once.
  const lag = timed('Completion lag (child processes)', measureCompletionLag);
  const throttled = timed('Throttled version creates (child process)', measureThrottledCreates);
  const scale = timed('Deploy and destroy at scale under throttling (child process)', measureScale);
  metrics.push(...await timed('Proton calls of the example app', measureProtonCalls));
  metrics.push(...await lag, ...await throttled, ...await scale);
  removeTemporaryDirectories();

  const order = ['Proton calls', 'Example app', 'Completion lag', 'isComplete', 'concurrent', 'Scale', 'Synth', 'Fixed', 'Template + version', 'proton-local', 'Handler'];
  const rank = (m: Metric) => order.findIndex(prefix => m.name.includes(prefix));
  metrics.sort((a, b) => rank(a) - rank(b));
  console.log(`\n${formatTable(metrics)}\n`);
  const file = join(__dirname, 'results.json');
  writeFileSync(file, JSON.stringify(metrics, undefined, 2) + '\n');
  const failed = metrics.filter(m => !m.pass).length;
  console.log(`${metrics.length} metrics, ${failed} missed their goal; written: ${relative(process.cwd(), file)} (run took ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch(error => {
  removeTemporaryDirectories();
  console.error(error);
  process.exit(1);
});
