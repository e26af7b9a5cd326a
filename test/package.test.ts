/**
 * The npm package: it holds what users run and nothing else, stays small, and works installed.
 *
 * Needs the build output that the package ships: lib/ (`npx projen compile`) and assets/ (`npx projen bundle`). In the
 * build, projen's test task runs after both.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const MAX_PACKED_BYTES = 1_500_000;

/**
 * Every path the package may hold. A new bundled dependency (and each of its dependencies) must be added to
 * BUNDLED_PACKAGES on purpose: that is where 7 MB of native prebuilds once came in.
 */
const BUNDLED_PACKAGES = [
  'ajv', 'fast-deep-equal', 'fast-uri', 'json-schema-traverse', 'require-from-string', 'yaml',
  // nunjucks and its dependencies (the Jinja renderer)
  'nunjucks', 'a-sync-waterfall', 'asap', 'commander',
];
const ALLOWED: RegExp[] = [
  /^(package\.json|README\.md|LICENSE|API\.md|\.jsii)$/,
  /^lib\/.+\.(js|d\.ts)$/,
  /^assets\/lambda\/proton\.lambda\/index\.js$/,
  // Documentation the README links to (docs/validation.md lists every validation rule).
  /^docs\/[\w.-]+\.md$/,
  // The example app's template bundles (AWS samples, MIT-0), read by the compiled demo app in lib/local/demo/.
  /^examples\/templates\/(LICENSE|README\.md|[\w.-]+\/(schema|infrastructure|instance_infrastructure|pipeline_infrastructure)\/[\w.-]+\.yaml)$/,
  new RegExp(`^node_modules/(${BUNDLED_PACKAGES.join('|')})/`),
];
/** Native code has no place in the package, whichever package brings it. */
const NATIVE = /(^|\/)prebuilds\/|\.(node|bare)$/;

interface PackResult {
  readonly size: number;
  readonly entryCount: number;
  readonly files: Array<{ readonly path: string }>;
}

function requireBuildOutput(): void {
  const missing = [
    ['lib/index.js', 'npx projen compile'],
    ['lib/local/cli.js', 'npx projen compile'],
    ['assets/lambda/proton.lambda/index.js', 'npx projen bundle'],
  ].filter(([file]) => !existsSync(join(ROOT, file)));
  if (missing.length) {
    throw new Error(`test/package.test.ts needs the build output it packs: ${missing.map(([file, command]) => `${file} (run ${command})`).join(', ')}`);
  }
}

function npmPack(args: string[]): PackResult {
  const [result] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', ...args], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  }));
  return result;
}

describe('the npm package', () => {
  let packed: PackResult;
  beforeAll(() => {
    requireBuildOutput();
    packed = npmPack(['--dry-run']);
  });

  test('holds only what users run and its documentation', () => {
    const unexpected = packed.files.map((f) => f.path).filter((path) => !ALLOWED.some((pattern) => pattern.test(path)) || NATIVE.test(path));
    expect(unexpected).toEqual([]);
  });

  test(`is at most ${MAX_PACKED_BYTES / 1e6} MB packed`, () => {
    expect(packed.size).toBeLessThanOrEqual(MAX_PACKED_BYTES);
  });

  test('holds its entry points, the bin, the handler bundle and every bundled dependency', () => {
    const paths = new Set(packed.files.map((f) => f.path));
    for (const file of [PACKAGE.main, PACKAGE.types, ...Object.values<string>(PACKAGE.bin), 'assets/lambda/proton.lambda/index.js', 'lib/local/demo/platform-app.js']) {
      expect(paths).toContain(file);
    }
    for (const dependency of PACKAGE.bundledDependencies) {
      expect(paths).toContain(`node_modules/${dependency}/package.json`);
    }
  });
});

describe('the installed package', () => {
  let project: string;
  let cli: string;
  beforeAll(() => {
    requireBuildOutput();
    project = mkdtempSync(join(tmpdir(), 'cdk-proton-installed-'));
    const { filename } = npmPack(['--pack-destination', project]) as PackResult & { filename: string };
    // What `npm install cdk-proton` lays out: the package with its bundled dependencies, beside its peers.
    const installed = join(project, 'node_modules', PACKAGE.name);
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', join(project, filename), '-C', installed, '--strip-components=1']);
    for (const peer of Object.keys(PACKAGE.peerDependencies)) {
      symlinkSync(join(ROOT, 'node_modules', peer), join(project, 'node_modules', peer), 'dir');
    }
    cli = join(installed, PACKAGE.bin['proton-local']);
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: project, encoding: 'utf8', timeout: 120_000 });

  test('proton-local --version prints the package version', () => {
    const result = run(['--version']);
    expect(result.stdout).toBe(`${PACKAGE.version}\n`);
    expect(result.status).toBe(0);
  });

  test('proton-local demo runs the compiled example app: deploys, upgrades, destroys, with no TypeScript installed', () => {
    const result = run(['demo', '--state-dir', join(project, 'demo'), '--poll-interval-ms', '20', '--registration-delay-ms', '20', '--deployment-delay-ms', '40']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Upgraded:\n {2}Environment production: fargate-env 1\.0 -> 1\.1\n/);
    expect(result.stdout).toMatch(/^Demo complete in \d+\.\ds: deployed, upgraded and destroyed\.$/m);
  });
});
