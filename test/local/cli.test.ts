import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { promisify } from 'util';
import { CreateEnvironmentTemplateCommand, ListEnvironmentTemplatesCommand } from '@aws-sdk/client-proton';
import { protonClient, sampleBundle, useProtonLocal } from './helpers';
import { main, packageVersion, parseServeOptions } from '../../src/local/cli';
import type { DeployEvent } from '../../src/local/deploy/engine';
import { EventPrinter, eventColumnWidths, formatEvent } from '../../src/local/deploy/output';
import { packBundle } from '../../src/private/bundle';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'src', 'local', 'cli.ts');
const READY_LINE = /^proton-local listening on (http:\/\/127\.0\.0\.1:(\d+))$/;

interface Served {
  readonly process: ChildProcess;
  readonly endpoint: string;
  readonly exit: Promise<{ code: number | null; stderr: string }>;
}

function runCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', chunk => { stderr += chunk; });
  child.stdout!.on('data', chunk => { stdout += chunk; });
  return new Promise(resolve => child.on('exit', code => resolve({ code, stderr, stdout })));
}

/** Starts `proton-local serve` and waits for its ready line. */
async function serve(args: string[]): Promise<Served> {
  const child = runCli(['serve', '--port', '0', ...args]);
  const exit = exitOf(child);
  const endpoint = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', chunk => {
      stdout += chunk;
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n')) {
        const match = READY_LINE.exec(line);
        return match ? resolve(match[1]) : reject(new Error(`unexpected first line: ${line}`));
      }
    });
    void exit.then(({ code, stderr }) => reject(new Error(`proton-local exited with ${code} before listening: ${stderr}`)));
  });
  return { process: child, endpoint, exit };
}

describe('proton-local serve', () => {
  test('prints one ready line with a free port, serves the SDK, and exits 0 on SIGTERM', async () => {
    const served = await serve(['--registration-delay-ms', '20', '--seed', '3']);
    const client = protonClient(served.endpoint);
    try {
      await client.send(new CreateEnvironmentTemplateCommand({ name: 'from-cli' }));
      const listed = await client.send(new ListEnvironmentTemplatesCommand({}));
      expect(listed.templates!.map(t => t.name)).toEqual(['from-cli']);
    } finally {
      client.destroy();
      served.process.kill('SIGTERM');
    }
    expect(await served.exit).toEqual({ code: 0, stderr: '', stdout: `proton-local listening on ${served.endpoint}\n` });
  });

  test('keeps its state in --state FILE across runs, and exits 0 on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proton-local-cli-'));
    try {
      const stateFile = join(dir, 'state.json');
      const first = await serve(['--state', stateFile]);
      const client = protonClient(first.endpoint);
      await client.send(new CreateEnvironmentTemplateCommand({ name: 'kept' }));
      client.destroy();
      first.process.kill('SIGINT');
      expect((await first.exit).code).toBe(0);

      const second = await serve(['--state', stateFile]);
      const again = protonClient(second.endpoint);
      const listed = await again.send(new ListEnvironmentTemplatesCommand({}));
      again.destroy();
      second.process.kill('SIGTERM');
      expect((await second.exit).code).toBe(0);
      expect(listed.templates!.map(t => t.name)).toEqual(['kept']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('serve options map to ProtonLocal options', () => {
    expect(parseServeOptions([
      '--host', '0.0.0.0', '--port', '0', '--state', 's.json', '--registration-delay-ms', '5', '--deployment-delay-ms', '6',
      '--throttle-rps', '7', '--error-rate', '0.1', '--drop-rate', '0.2', '--latency-ms', '8', '--seed', '9', '--max-object-bytes', '10',
      '--auto-complete-self-managed',
    ])).toEqual({
      host: '0.0.0.0',
      port: 0,
      stateFile: 's.json',
      registrationDelayMs: 5,
      deploymentDelayMs: 6,
      throttleRps: 7,
      errorRate: 0.1,
      dropRate: 0.2,
      latencyMs: 8,
      seed: 9,
      maxObjectBytes: 10,
      autoCompleteSelfManaged: true,
    });
    expect(parseServeOptions([]).port).toBe(4000);
    // Like Proton, self-managed deployments wait for NotifyResourceDeploymentStatusChange unless asked otherwise.
    expect(parseServeOptions([]).autoCompleteSelfManaged).toBe(false);
  });

  test.each([
    [['serve', '--port', 'abc'], 2, "Invalid --port 'abc': expected a number"],
    [['serve', '--port', '70000'], 1, 'Invalid ProtonLocal option port: 70000; expected an integer from 0 to 65535'],
    [['serve', '--error-rate', '3'], 1, 'Invalid fault option errorRate: 3'],
    [['serve', '--max-object-bytes', '0'], 1, 'Invalid ProtonLocal option maxObjectBytes: 0; expected a whole number of bytes > 0'],
    [['serve', '--bogus'], 2, "Unknown option '--bogus'"],
    [['launch'], 2, "Unknown command 'launch': expected one of serve, deploy, destroy, status, demo"],
  ])('proton-local %j exits %d with a message naming the problem', async (args, code, message) => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(args)).toBe(code);
      expect(stderr.mock.calls.map(call => String(call[0])).join('')).toContain(message);
    } finally {
      stderr.mockRestore();
    }
  });
});

/** Runs main() in process and returns its exit status and what it wrote. */
async function mainOutput(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(args);
    const text = (spy: jest.SpyInstance) => spy.mock.calls.map(call => String(call[0])).join('');
    return { code, stdout: text(stdout), stderr: text(stderr) };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('proton-local help and version', () => {
  test('--version prints the package.json version and exits 0', async () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    expect(packageVersion()).toBe(version);
    expect(await mainOutput(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  test('serve --help prints the serve options and exits 0 without serving', async () => {
    const { code, stdout, stderr } = await mainOutput(['serve', '--port', '0', '--help']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^Usage: proton-local serve \[options\]\n/);
    for (const option of ['--host', '--port', '--state', '--registration-delay-ms', '--deployment-delay-ms', '--throttle-rps', '--error-rate', '--drop-rate', '--latency-ms', '--seed']) {
      expect(stdout).toContain(`  ${option} `);
    }
  });

  test.each(['deploy', 'destroy', 'status', 'demo'])('%s --help prints the deploy commands\' options and exits 0', async (command) => {
    const { code, stdout, stderr } = await mainOutput([command, '-h']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`proton-local ${command} `);
    expect(stdout).toContain('--state-dir DIR');
  });

  test('--help lists every command; no command prints it and exits 1', async () => {
    const help = await mainOutput(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['serve', 'deploy|destroy|status', 'demo', '--version']) expect(help.stdout).toContain(`proton-local ${command}`);
    expect(await mainOutput([])).toEqual({ code: 1, stdout: help.stdout, stderr: '' });
  });

  test('a serve usage error prints the serve options', async () => {
    const { code, stderr } = await mainOutput(['serve', '--prot', '1']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^proton-local: Unknown option '--prot'.*\nUsage: proton-local serve \[options\]/s);
  });
});

describe('deploy event output', () => {
  const event = (logicalId: string, status: DeployEvent['status'], elapsedMs = 0): DeployEvent => ({
    stack: 'ProtonPlatform', logicalId, resourceType: 'Custom::ProtonEnvironment', action: 'CREATE', status, phase: 'deploy', elapsedMs,
  });
  const LONG_ID = `ProductionEnvironmentWithAVeryLongConstructPath${'X'.repeat(20)}1A2B3C4D`;

  /** Where each left-aligned column starts (the last, the elapsed time, is right-aligned). */
  const columnStarts = (line: string) => [...line.matchAll(/(?<=\s)\S+/g)].map(match => match.index).slice(0, -1);

  test('columns sized for the stacks\' resources line up however long a logical id is', () => {
    const widths = eventColumnWidths([event('Short', 'COMPLETE'), event(LONG_ID, 'COMPLETE')]);
    const lines = [formatEvent(event('Short', 'IN_PROGRESS'), widths), formatEvent(event(LONG_ID, 'COMPLETE', 61_000), widths)];
    expect(columnStarts(lines[0])).toEqual(columnStarts(lines[1]));
    expect(lines[0].length).toBe(lines[1].length);
    expect(lines[1]).toContain(LONG_ID);
    expect(widths.logicalId).toBe(LONG_ID.length);
    // Without knowing the resources, the defaults hold the common case.
    expect(eventColumnWidths([])).toEqual({ stack: 20, logicalId: 40, resourceType: 40 });
  });

  test('the printer widens its columns for a resource it was not sized for, and never cuts an id', () => {
    const written: string[] = [];
    const printer = new EventPrinter({ write: (text) => written.push(text) });
    printer.event(event(LONG_ID, 'IN_PROGRESS'));
    printer.event(event(LONG_ID, 'COMPLETE', 1_000));
    printer.stop();
    expect(written).toHaveLength(2);
    expect(columnStarts(written[0])).toEqual(columnStarts(written[1]));
  });

  describe('progress while a resource waits', () => {
    let now = 0;
    beforeEach(() => {
      jest.useFakeTimers();
      now = 0;
    });
    afterEach(() => jest.useRealTimers());
    const advance = (ms: number) => {
      now += ms;
      jest.advanceTimersByTime(ms);
    };

    test('without a terminal: a plain IN_PROGRESS line with the elapsed time at each interval, until the resource completes', () => {
      const written: string[] = [];
      const printer = new EventPrinter({ write: (text) => written.push(text), isTTY: false }, { progressIntervalMs: 30_000, now: () => now });
      printer.event(event('ProdEnv', 'IN_PROGRESS'));
      advance(29_000);
      expect(written).toHaveLength(1);
      advance(1_000);
      advance(30_000);
      expect(written.slice(1)).toEqual([
        expect.stringMatching(/^ProtonPlatform +ProdEnv +Custom::ProtonEnvironment +CREATE +IN_PROGRESS +30\.0s\n$/),
        expect.stringMatching(/ IN_PROGRESS +60\.0s\n$/),
      ]);
      printer.event(event('ProdEnv', 'COMPLETE', 61_000));
      advance(90_000);
      expect(written).toHaveLength(4);
      expect(written[3]).toMatch(/ COMPLETE +61\.0s\n$/);
      expect(jest.getTimerCount()).toBe(0);
    });

    test('on a terminal: one status line with the longest wait, redrawn in place and cleared before the next event', () => {
      const written: string[] = [];
      const printer = new EventPrinter({ write: (text) => written.push(text), isTTY: true }, { now: () => now });
      printer.event(event('ProdEnv', 'IN_PROGRESS'));
      advance(500);
      printer.event(event('StagingEnv', 'IN_PROGRESS'));
      advance(1_000);
      expect(written.slice(-2)).toEqual(['\r\x1b[K', '  waiting 1.5s: ProdEnv (ProtonPlatform) and 1 more']);
      printer.line('a line in between');
      expect(written.slice(-3)).toEqual(['\r\x1b[K', 'a line in between\n', '  waiting 1.5s: ProdEnv (ProtonPlatform) and 1 more']);
      printer.event(event('ProdEnv', 'COMPLETE', 2_000));
      expect(written.slice(-3)).toEqual(['\r\x1b[K', expect.stringMatching(/ProdEnv .* COMPLETE +2\.0s\n$/), '  waiting 1.0s: StagingEnv (ProtonPlatform)']);
      printer.stop();
      expect(written.slice(-1)).toEqual(['\r\x1b[K']);
      expect(jest.getTimerCount()).toBe(0);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Other clients: the AWS CLI and boto3 must work against proton-local unchanged, with an endpoint override.

const run = promisify(execFile);
const which = (binary: string) => {
  try {
    return execFileSync('which', [binary], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
};
const hasBoto3 = (() => {
  try {
    execFileSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const AWS_CLI = which('aws');
const clientEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'x',
  AWS_SECRET_ACCESS_KEY: 'x',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_EC2_METADATA_DISABLED: 'true',
};

describe('other clients', () => {
  const env = useProtonLocal({ registrationDelayMs: 0 });
  const VPC_ENV = sampleBundle('environment-templates/vpc-env/v1');

  (AWS_CLI ? test : test.skip)(`template and version lifecycle through the AWS CLI${AWS_CLI ? '' : ' (skipped: no `aws` on PATH)'}`, async () => {
    const source = await env.uploadBundle('bundles', 'vpc.tar.gz', VPC_ENV);
    const aws = async (...args: string[]) => {
      const { stdout } = await run('aws', ['proton', ...args, '--endpoint-url', env.local.endpoint, '--output', 'json'], { env: clientEnv });
      return stdout.trim() ? JSON.parse(stdout) : {};
    };
    const created = await aws('create-environment-template', '--name', 'cli-env', '--display-name', 'CLI');
    expect(created.environmentTemplate.arn).toBe('arn:aws:proton:us-east-1:123456789012:environment-template/cli-env');
    const version = await aws('create-environment-template-version', '--template-name', 'cli-env', '--source', JSON.stringify(source));
    expect(version.environmentTemplateVersion).toMatchObject({ majorVersion: '1', minorVersion: '0', status: 'REGISTRATION_IN_PROGRESS' });
    const key = ['--template-name', 'cli-env', '--major-version', '1', '--minor-version', '0'];
    expect((await aws('get-environment-template-version', ...key)).environmentTemplateVersion.status).toBe('DRAFT');
    expect((await aws('update-environment-template-version', ...key, '--status', 'PUBLISHED')).environmentTemplateVersion.status).toBe('PUBLISHED');
    expect((await aws('delete-environment-template-version', ...key)).environmentTemplateVersion.status).toBe('PUBLISHED');
    await aws('delete-environment-template', '--name', 'cli-env');
    await expect(aws('get-environment-template', '--name', 'cli-env')).rejects.toMatchObject({
      stderr: expect.stringContaining('An error occurred (ResourceNotFoundException) when calling the GetEnvironmentTemplate operation'),
    });
  });

  (hasBoto3 ? test : test.skip)(`template and version lifecycle through boto3, S3 upload included${hasBoto3 ? '' : ' (skipped: python3 has no boto3)'}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proton-local-boto3-'));
    try {
      const archive = join(dir, 'bundle.tar.gz');
      writeFileSync(archive, await packBundle(Object.entries(VPC_ENV).map(([path, content]) => ({ path, content: Buffer.from(content) }))));
      const script = `
import json, sys, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
endpoint, archive = sys.argv[1], sys.argv[2]
s3 = boto3.client('s3', endpoint_url=endpoint, config=Config(s3={'addressing_style': 'path'}))
s3.create_bucket(Bucket='boto-bundles')
s3.upload_file(archive, 'boto-bundles', 'vpc.tar.gz')
proton = boto3.client('proton', endpoint_url=endpoint, config=Config(retries={'max_attempts': 1}))
out = {}
out['template'] = proton.create_environment_template(name='boto-env')['environmentTemplate']['arn']
v = proton.create_environment_template_version(templateName='boto-env', source={'s3': {'bucket': 'boto-bundles', 'key': 'vpc.tar.gz'}})
out['created'] = v['environmentTemplateVersion']['status']
proton.get_waiter('environment_template_version_registered').wait(templateName='boto-env', majorVersion='1', minorVersion='0', WaiterConfig={'Delay': 0.05})
proton.update_environment_template_version(templateName='boto-env', majorVersion='1', minorVersion='0', status='PUBLISHED')
t = proton.get_environment_template(name='boto-env')['environmentTemplate']
out['recommended'] = t['recommendedVersion']
out['createdAtType'] = type(t['createdAt']).__name__
try:
    proton.create_environment_template(name='bad name')
except ClientError as e:
    out['error'] = [e.response['Error']['Code'], e.response['Error']['Message']]
proton.delete_environment_template_version(templateName='boto-env', majorVersion='1', minorVersion='0')
proton.delete_environment_template(name='boto-env')
print(json.dumps(out))
`;
      const { stdout } = await run('python3', ['-c', script, env.local.endpoint, archive], { env: clientEnv });
      expect(JSON.parse(stdout)).toEqual({
        template: 'arn:aws:proton:us-east-1:123456789012:environment-template/boto-env',
        created: 'REGISTRATION_IN_PROGRESS',
        recommended: '1.0',
        createdAtType: 'datetime',
        error: ['ValidationException', expect.stringContaining("Value 'bad name' at 'name' failed to satisfy constraint")],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
