/**
 * Row 8: the handler asset (assets/lambda/proton.lambda/index.js, from `npx projen bundle`) against a bundle of
 * nothing but @aws-sdk/client-proton's ProtonClient, built with the bundle task's esbuild options: size, and cold
 * start (the time to require() it in a fresh node process, median of 5, the two interleaved).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { median, ROOT, temporaryDirectory } from './harness';
import { atMost, Metric } from './metric';

const HANDLER_BUNDLE = path.join(ROOT, 'assets', 'lambda', 'proton.lambda', 'index.js');
const COLD_STARTS = 5;

/** The options of .projen/tasks.json's bundle:lambda/proton.lambda (esbuild --bundle --target=node22 --platform=node). */
function bundleBareClient(): string {
  const outfile = path.join(temporaryDirectory('bare-client'), 'index.js');
  buildSync({
    stdin: { contents: "export { ProtonClient } from '@aws-sdk/client-proton';", resolveDir: ROOT, loader: 'ts', sourcefile: 'bare-client.ts' },
    bundle: true,
    target: 'node22',
    platform: 'node',
    outfile,
    tsconfig: path.join(ROOT, 'test', 'tsconfig.json'),
    logLevel: 'error',
  });
  return outfile;
}

function requireTimeMs(file: string): number {
  const script = `const t = process.hrtime.bigint(); require(${JSON.stringify(file)}); console.log(Number(process.hrtime.bigint() - t) / 1e6);`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`require(${file}) failed: ${result.stderr}`);
  return Number(result.stdout.trim());
}

export function measureHandlerAsset(): Metric[] {
  if (!fs.existsSync(HANDLER_BUNDLE)) throw new Error(`${HANDLER_BUNDLE} is missing: run npx projen bundle`);
  const bare = bundleBareClient();
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    ours.push(requireTimeMs(HANDLER_BUNDLE));
    theirs.push(requireTimeMs(bare));
  }
  return [
    atMost('Handler asset size (index.js)', fs.statSync(HANDLER_BUNDLE).size / 1024, 'KiB', fs.statSync(bare).size / 1024, 1.3, 'bare ProtonClient bundle'),
    atMost(`Handler cold start: require() in a fresh node (median of ${COLD_STARTS})`, median(ours), 'ms', median(theirs), 1.3, 'bare ProtonClient bundle'),
  ];
}
