/**
 * The README's main job, as `npx projen demo` runs it from a clone: the real `proton-local demo` command (through tsx,
 * in a separate process) on its default app, the example platform app, with an embedded proton-local made fast by small
 * delays. test/package.test.ts runs the same demo from an installed package.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { temporaryDirectory } from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

test('proton-local demo deploys, upgrades and destroys the example app, printing the tables, and exits 0', () => {
  const stateDir = temporaryDirectory('demo');
  // What an interrupted demo may leave: the demo starts afresh anyway.
  fs.writeFileSync(path.join(stateDir, 'stacks.json'), JSON.stringify({ stacks: { ProtonPlatform: { resources: {} } } }));
  fs.writeFileSync(path.join(stateDir, 'proton-local.json'), '{ "interrupted": ');
  const result = spawnSync(TSX, [
    'src/local/cli.ts', 'demo',
    '--state-dir', stateDir, '--poll-interval-ms', '20', '--registration-delay-ms', '20', '--deployment-delay-ms', '40',
  ], { cwd: ROOT, encoding: 'utf-8', timeout: 120_000 });

  expect(result.stderr).not.toMatch(/proton-local:/);
  expect(result.status).toBe(0);
  const out = result.stdout;
  expect(out).toMatch(/^Starting afresh: removing the previous demo's state in /m);
  expect(out).toMatch(/^ProtonPlatform\s+FargateEnvTemplate[0-9A-F]{8}\s+Custom::ProtonEnvironmentTemplate\s+CREATE\s+COMPLETE\s+\d+\.\ds$/m);
  expect(out).toMatch(/^ProtonServices\s+Backend\w+\s+Custom::ProtonService\s+CREATE\s+COMPLETE/m);
  expect(out).toMatch(/^ProtonPlatform\s+\w+\s+AWS::Lambda::Function\s+SKIP\s+SKIPPED/m);
  // The first table, then the upgraded one, then none.
  const tables = out.split('Proton resources:\n').slice(1).map((part) => part.split('\n\n')[0]);
  expect(tables).toHaveLength(3);
  expect(tables[0]).toMatch(/^KIND\s+NAME\s+TEMPLATE\s+VERSION\s+STATUS$/m);
  expect(tables[0]).toMatch(/^Environment\s+production\s+fargate-env\s+1\.0\s+SUCCEEDED$/m);
  expect(tables[0]).toMatch(/^ServicePipeline\s+orders-backend\s+backend-fargate-svc\s+1\.0\s+SUCCEEDED$/m);
  expect(tables[0]).toMatch(/^ServiceInstance\s+storefront\/staging\s+load-balanced-fargate-svc\s+1\.0\s+SUCCEEDED$/m);
  expect(tables[1]).toMatch(/^Environment\s+production\s+fargate-env\s+1\.1\s+SUCCEEDED$/m);
  expect(tables[1]).toMatch(/^Environment\s+staging\s+fargate-env\s+1\.1\s+SUCCEEDED$/m);
  expect(tables[1]).not.toMatch(/^EnvironmentTemplateVersion\s+fargate-env\s+fargate-env\s+1\.0/m);
  expect(out).toMatch(/Upgraded:\n {2}Environment production: fargate-env 1\.0 -> 1\.1\n {2}Environment staging: fargate-env 1\.0 -> 1\.1/);
  expect(tables[2]).toBe('No Proton resources.');
  expect(out).toMatch(/^Demo complete in \d+\.\ds: deployed, upgraded and destroyed\.$/m);
});
