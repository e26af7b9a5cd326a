/**
 * Every fenced block of README.md runs here, as written, or is marked in the README as not run
 * (`<!-- readme-test: not run, <why> -->` on the line before it) and listed in NOT_RUN below.
 *
 * - Shell blocks run with bash in a fresh project outside the repository, where the packed package is installed as
 *   `npm install cdk-proton` lays it out; the one Quick start block that is about a clone runs in the repository.
 * - AWS CLI blocks run against proton-local (the AWS CLI is installed here; CI=true makes its absence a failure).
 * - `ts` blocks: the build's `jsii-rosetta extract --strict` (post-compile, see .projenrc.ts) compiles every one and
 *   translates it to every jsii language; this test checks that the tablet it wrote holds each block, compiled. The
 *   app-shaped ones (no `declare`) also run: the Usage app is the app the local deploy block deploys, the renderer
 *   block runs with tsx.
 * - `js` blocks run with node as ES modules; `text` blocks are output, checked by the test that produces it.
 *
 * Needs the build output: lib/ (`npx projen compile`), assets/ (`npx projen bundle`) and .jsii.tabl.json
 * (`npx jsii-rosetta extract --strict`, the build's post-compile step). The build runs the tests after all three.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const README = fs.readFileSync(join(ROOT, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(fs.readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** The blocks the README marks as not run, each with its reason: this list and the README's markers must agree. */
const NOT_RUN = [
  {
    firstLine: 'npm install --no-audit --no-fund && PROJEN_DISABLE_POST=true npx projen build',
    reason: 'it is the whole build, which CI runs itself (the test suite runs inside it)',
  },
];

/**
 * Every change this test makes to a block or its surroundings before running it. Nothing else differs from what a
 * reader runs.
 */
const SUBSTITUTIONS = {
  install: '`npm install cdk-proton` (and the `@aws-sdk/client-proton`, `aws-cdk-lib`, `constructs`, `tsx` a project ' +
    'has): the packed package (npm pack) is extracted into node_modules/cdk-proton with its bin linked, and every other ' +
    'package is a link to this repository\'s node_modules; npm runs offline (no registry in the test)',
  bundles: 'the Usage app\'s bundle folders: examples/templates is copied into the project ("copy the folders into your ' +
    'project", as the README says)',
  cloneInstall: 'Quick start in the clone: `npm install --no-audit --no-fund && ` is dropped (node_modules is installed already)',
  port: 'proton-local serve: port 4566 becomes a free port, in the serve command and in the endpoints that call it',
  awsEndpoint: 'the migration steps\' `aws proton` commands (written for an AWS account) get AWS_ENDPOINT_URL_PROTON, ' +
    'credentials and a region in their environment, pointing them at proton-local, where the Usage app is deployed',
  renderFiles: 'Rendering bundles: the reader\'s bundle templates/web-svc/v1 (examples/templates/backend-fargate-svc with an ' +
    'instance template that reads the one environment output the README gives, VPC), spec.yaml and env-outputs.json are ' +
    'written into the project first',
};

interface Block {
  readonly lang: string;
  readonly code: string;
  /** The first line that is not a comment: how the tests below name a block. */
  readonly firstLine: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly notRun?: string;
}

function readmeBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j++) body.push(lines[j].slice(indent));
    let previous = i - 1;
    while (previous >= 0 && lines[previous].trim() === '') previous--;
    const marker = /^<!-- readme-test: not run, (.+) -->$/.exec(lines[previous] ?? '');
    const firstLine = body.find((l) => l.trim() && !/^\s*(#|\/\/)/.test(l))?.trim() ?? '';
    blocks.push({ lang: open[2], code: body.join('\n') + '\n', firstLine, line: i + 1, notRun: marker?.[1] });
    i = j;
  }
  return blocks;
}

const BLOCKS = readmeBlocks(README);
const claimed = new Set<Block>();

/** The block whose first line starts so; each test claims the blocks it runs. */
function claim(firstLine: string): Block {
  const found = BLOCKS.filter((b) => b.firstLine.startsWith(firstLine));
  if (found.length !== 1) throw new Error(`README: expected one block starting "${firstLine}", found ${found.length}`);
  claimed.add(found[0]);
  return found[0];
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 240_000): Run {
  const result = spawnSync('bash', ['-eo', 'pipefail', '-c', script], { cwd, env, encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Fails with the block's output and what was substituted, so that a README block that stops working says why. */
function expectSuccess(run: Run, block: Block, substituted: (keyof typeof SUBSTITUTIONS)[]): void {
  if (run.status !== 0) {
    const changes = substituted.map((key) => `\n  - ${SUBSTITUTIONS[key]}`).join('');
    throw new Error(`README.md line ${block.line} (${block.firstLine}) exited ${run.status}; substituted:${changes || ' nothing'}` +
      `\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
  }
}

function requireBuildOutput(): void {
  const missing = [
    ['lib/local/cli.js', 'npx projen compile'],
    ['assets/lambda/proton.lambda/index.js', 'npx projen bundle'],
    ['.jsii.tabl.json', 'npx jsii-rosetta extract --strict'],
  ].filter(([file]) => !fs.existsSync(join(ROOT, file)));
  if (missing.length) {
    throw new Error(`test/readme.test.ts needs the build output: ${missing.map(([file, command]) => `${file} (run ${command})`).join(', ')}`);
  }
}

/** A project outside the repository with cdk-proton installed from the packed package (SUBSTITUTIONS.install). */
function consumerProject(): string {
  const project = fs.mkdtempSync(join(tmpdir(), 'cdk-proton-readme-'));
  const modules = join(project, 'node_modules');
  fs.mkdirSync(join(modules, '.bin'), { recursive: true });
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  }));
  const installed = join(modules, PACKAGE.name);
  fs.mkdirSync(installed);
  execFileSync('tar', ['-xzf', join(project, packed.filename), '-C', installed, '--strip-components=1']);
  const repositoryModules = join(ROOT, 'node_modules');
  for (const name of fs.readdirSync(repositoryModules)) {
    if (name.startsWith('.') || name === PACKAGE.name) continue;
    if (name.startsWith('@')) {
      fs.mkdirSync(join(modules, name));
      for (const scoped of fs.readdirSync(join(repositoryModules, name))) {
        fs.symlinkSync(join(repositoryModules, name, scoped), join(modules, name, scoped), 'dir');
      }
    } else {
      fs.symlinkSync(join(repositoryModules, name), join(modules, name), 'dir');
    }
  }
  for (const bin of fs.readdirSync(join(repositoryModules, '.bin'))) {
    fs.symlinkSync(fs.realpathSync(join(repositoryModules, '.bin', bin)), join(modules, '.bin', bin));
  }
  for (const [bin, file] of Object.entries<string>(PACKAGE.bin)) {
    fs.chmodSync(join(installed, file), 0o755);
    fs.symlinkSync(join(installed, file), join(modules, '.bin', bin));
  }
  fs.cpSync(join(ROOT, 'examples', 'templates'), join(project, 'examples', 'templates'), { recursive: true });
  return project;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    }).on('error', reject);
  });
}

/**
 * Stops a command started by startServer, with the processes it started: npx runs the server as a child of its own and
 * does not pass SIGTERM on, so the whole process group is signalled (a server left running keeps jest from exiting).
 */
function stopServer(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

/** Starts a long-running command in a process group of its own and resolves once its output matches `ready`. */
function startServer(command: string, cwd: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn('bash', ['-c', `exec ${command}`], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stopServer(child);
      reject(new Error(`${command} did not print ${ready} within 30 s:\n${output}`));
    }, 30_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${command} exited ${code}:\n${output}`)));
  });
}

let project: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  requireBuildOutput();
  project = consumerProject();
  env = {
    ...process.env,
    PATH: `${join(project, 'node_modules', '.bin')}:${process.env.PATH}`,
    // npx finds the project's bins; it must never fetch one (SUBSTITUTIONS.install).
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
  };
}, 120_000);
afterAll(() => {
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

test('the README marks exactly the blocks listed in NOT_RUN, each with its reason', () => {
  const marked = BLOCKS.filter((b) => b.notRun !== undefined).map((b) => ({ firstLine: b.firstLine, reason: b.notRun }));
  expect(marked).toEqual(NOT_RUN);
  NOT_RUN.forEach((n) => claim(n.firstLine));
});

test('every ts block is compiled by the build\'s jsii-rosetta extract --strict, and the tablet holds each one compiled', () => {
  const tasks = JSON.parse(fs.readFileSync(join(ROOT, '.projen', 'tasks.json'), 'utf8')).tasks;
  expect(tasks['post-compile'].steps).toContainEqual({ spawn: 'rosetta:extract' });
  expect(tasks['rosetta:extract'].steps).toEqual([{ exec: 'jsii-rosetta extract --strict' }]);
  const tablet = JSON.parse(fs.readFileSync(join(ROOT, '.jsii.tabl.json'), 'utf8'));
  const compiled = Object.values<any>(tablet.snippets).filter((s) => s.didCompile).map((s) => String(s.translations.$.source).trim());
  const tsBlocks = BLOCKS.filter((b) => b.lang === 'ts');
  expect(tsBlocks.length).toBeGreaterThanOrEqual(5);
  // Rosetta strips the `declare` lines and fixtures from what it stores; every other line of the block is there.
  const missing = tsBlocks.filter((block) => {
    const wanted = block.code.split('\n').filter((l) => l.trim() && !l.startsWith('declare ')).map((l) => l.trim());
    return !compiled.some((source) => wanted.every((l) => source.includes(l)));
  });
  expect(missing.map((b) => `line ${b.line}: ${b.firstLine}`)).toEqual([]);
  // The fragments (they declare what they use) are compiled only; the others run below.
  for (const block of tsBlocks.filter((b) => /^declare const /m.test(b.code))) claimed.add(block);
});

test('Installation: npx proton-local --version and the demo, in a project that installed the package', () => {
  const block = claim('npx proton-local --version');
  const run = bash(block.code, project, env);
  expectSuccess(run, block, ['install']);
  expect(run.stdout).toContain(`${PACKAGE.version}\n`);
  expect(run.stdout).toMatch(/^Demo complete in \d+\.\ds: deployed, upgraded and destroyed\.$/m);
}, 240_000);

test('Usage and Deploying an app locally: the Usage app deploys, shows its status and is destroyed', () => {
  const usage = claim("import { App, Stack } from 'aws-cdk-lib';");
  fs.writeFileSync(join(project, 'app.ts'), usage.code);
  const block = claim('npx proton-local deploy --app "npx tsx app.ts"');
  const run = bash(block.code, project, env);
  expectSuccess(run, block, ['install', 'bundles']);
  expect(run.stdout).toMatch(/^Platform: CREATE_COMPLETE$/m);
  expect(run.stdout).toMatch(/^Environment +production +\S+ +1\.0 +SUCCEEDED$/m);
  expect(run.stdout).toMatch(/^ServiceInstance +orders-backend\/production +\S+ +1\.0 +SUCCEEDED$/m);
  expect(run.stdout).toMatch(/^Platform: DELETE_COMPLETE\n\nProton resources:\nNo Proton resources\.\n$/m);
}, 300_000);

describe('proton-local serve, and the migration steps against it', () => {
  let server: { child: ChildProcess; output: () => string } | undefined;
  let endpoint: string;
  let awsEnv: NodeJS.ProcessEnv;
  afterAll(() => {
    if (server) stopServer(server.child);
  });

  test('proton-local serve, then the AWS CLI in another shell', async () => {
    const block = claim('npx proton-local serve --port 4566');
    const port = String(await freePort());
    const [serveLine, ...client] = block.code.replace(/4566/g, port).split('\n');
    server = await startServer(serveLine.replace(/#.*$/, ''), project, env, /proton-local listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(server.output()).toContain(`proton-local listening on http://127.0.0.1:${port}`);
    endpoint = `http://127.0.0.1:${port}`;
    const run = bash(client.join('\n'), project, env);
    expectSuccess(run, block, ['install', 'port']);
    expect(JSON.parse(run.stdout)).toEqual({ templates: [] });
  }, 60_000);

  test('Leaving Proton, step 1: the provisioned resources of the Usage app, and its export', () => {
    const list = claim('aws proton list-environment-provisioned-resources');
    const exportBlock = claim('npx proton-local export --endpoint http://127.0.0.1:4566');
    // Set-up, not a README block: the Usage app deployed on the server the steps read.
    fs.writeFileSync(join(project, 'app.ts'), claim("import { App, Stack } from 'aws-cdk-lib';").code);
    const deploy = bash(`npx proton-local deploy --app "npx tsx app.ts" --endpoint ${endpoint} --state-dir .proton-local/served`, project, env);
    expect(deploy.stderr).toBe('');
    expect(deploy.status).toBe(0);

    awsEnv = { ...env, AWS_ENDPOINT_URL_PROTON: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' };
    const listed = bash(list.code, project, awsEnv);
    expectSuccess(listed, list, ['awsEndpoint']);
    // Three JSON documents, one per command: the environment's, the instance's and the pipeline's stacks.
    const documents = listed.stdout.trim().split(/\n(?=\{)/).map((text) => JSON.parse(text));
    expect(documents).toHaveLength(3);
    for (const document of documents) {
      expect(document.provisionedResources).toEqual([expect.objectContaining({ provisioningEngine: 'CLOUDFORMATION' })]);
    }

    const exported = bash(exportBlock.code.replace(/4566/g, new URL(endpoint).port), project, env);
    expectSuccess(exported, exportBlock, ['install', 'port']);
    const manifest = JSON.parse(fs.readFileSync(join(project, 'export', 'manifest.json'), 'utf8'));
    expect(JSON.stringify(manifest)).toContain('production');
    expect(fs.existsSync(join(project, 'export', 'environments', 'production', 'spec.yaml'))).toBe(true);

    const destroy = bash(`npx proton-local destroy --endpoint ${endpoint} --state-dir .proton-local/served`, project, env);
    expect(destroy.status).toBe(0);
  }, 300_000);
});

describe('Rendering bundles', () => {
  beforeAll(() => {
    const bundle = join(project, 'templates', 'web-svc', 'v1');
    fs.cpSync(join(ROOT, 'examples', 'templates', 'backend-fargate-svc'), bundle, { recursive: true });
    fs.writeFileSync(join(bundle, 'instance_infrastructure', 'cloudformation.yaml'), [
      "AWSTemplateFormatVersion: '2010-09-09'",
      'Description: {{ service.name }} {{ service_instance.name }}',
      'Resources:',
      '  SecurityGroup:',
      '    Type: AWS::EC2::SecurityGroup',
      '    Properties:',
      '      GroupDescription: web',
      "      VpcId: '{{ environment.outputs.VPC }}'",
      '      SecurityGroupIngress:',
      '        - IpProtocol: tcp',
      '          FromPort: {{ service_instance.inputs.port }}',
      '          ToPort: {{ service_instance.inputs.port }}',
      '          CidrIp: 0.0.0.0/0',
      'Outputs:',
      '  SecurityGroupId:',
      '    Value: !Ref SecurityGroup',
      '',
    ].join('\n'));
    fs.writeFileSync(join(project, 'spec.yaml'), [
      'proton: ServiceSpec',
      'pipeline:',
      '  dockerfile: Dockerfile',
      'instances:',
      '  - name: web-prod',
      '    environment: prod',
      '    spec:',
      '      port: 8080',
      '',
    ].join('\n'));
    fs.writeFileSync(join(project, 'env-outputs.json'), JSON.stringify({ VPC: 'vpc-0123' }));
  });

  test('proton-local render writes the CloudFormation Proton would render', () => {
    const block = claim('npx proton-local render --bundle templates/web-svc/v1');
    expectSuccess(bash(block.code, project, env), block, ['install', 'renderFiles']);
    const rendered = fs.readFileSync(join(project, 'rendered.yaml'), 'utf8');
    expect(rendered).toContain('FromPort: 8080');
    expect(rendered).toContain("VpcId: 'vpc-0123'");
  }, 120_000);

  test('ProtonRenderer.renderServiceInstance, run with tsx', () => {
    const block = claim("import { ProtonRenderer, TemplateBundle } from 'cdk-proton';");
    fs.writeFileSync(join(project, 'render.ts'), `${block.code}\nconsole.log(JSON.stringify(rendered.outputs));\n`);
    const run = bash('npx tsx render.ts', project, env);
    expectSuccess(run, block, ['install', 'renderFiles']);
    expect(JSON.parse(run.stdout)).toEqual(['SecurityGroupId']);
  }, 120_000);
});

test('In tests: proton-local as a library, run with node as an ES module', () => {
  const block = claim("import { ProtonClient, ListEnvironmentTemplatesCommand } from '@aws-sdk/client-proton';");
  fs.writeFileSync(join(project, 'library.mjs'), block.code);
  expectSuccess(bash('node library.mjs', project, env, 60_000), block, ['install']);
}, 90_000);

test('Quick start, in the clone: npx projen demo', () => {
  const block = claim('npm install --no-audit --no-fund && npx projen demo');
  const script = block.code.replace('npm install --no-audit --no-fund && ', '');
  expect(script).not.toBe(block.code);
  const run = bash(script, ROOT, { ...process.env, npm_config_offline: 'true' });
  expectSuccess(run, block, ['cloneInstall']);
  expect(run.stdout).toMatch(/^Demo complete in \d+\.\ds: deployed, upgraded and destroyed\.$/m);
}, 300_000);

test('every block ran above or is marked not run (text blocks are output, checked where produced)', () => {
  const unclaimed = BLOCKS.filter((b) => !claimed.has(b) && b.lang !== 'text');
  expect(unclaimed.map((b) => `line ${b.line} (${b.lang}): ${b.firstLine}`)).toEqual([]);
  // The text blocks and who checks them.
  expect(BLOCKS.filter((b) => b.lang === 'text').map((b) => b.firstLine)).toEqual([
    expect.stringMatching(/^IntegDefaultTestDeployAssert\w+: CREATE_COMPLETE, assertions:/), // test/integ-assertions.test.ts
  ]);
});
