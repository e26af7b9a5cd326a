import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { promisify } from 'util';
import { CreateEnvironmentTemplateCommand, ListEnvironmentTemplatesCommand } from '@aws-sdk/client-proton';
import { protonClient, sampleBundle, useProtonLocal } from './helpers';
import { main, parseServeOptions } from '../../src/local/cli';
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
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CLI, ...args], {
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
    });
    expect(parseServeOptions([]).port).toBe(4000);
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
