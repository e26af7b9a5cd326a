/**
 * `proton-local deploy | status | destroy` in process, on a small stack, with the embedded proton-local persisted in
 * the state directory: each command is a separate run that sees what the previous one left.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { recordingProvider, recordingResource, synthesize, temporaryDirectory } from './helpers';
import { EnvironmentTemplate } from '../../src';
import { ProtonLocal } from '../../src/local';
import { synthesizeApp } from '../../src/local/deploy/assembly';
import { runDeployCommand } from '../../src/local/deploy/command';

function smallAssembly(options: { fail?: boolean } = {}): string {
  return synthesize((app) => {
    const stack = new Stack(app, 'Cli');
    const template = new EnvironmentTemplate(stack, 'EnvTemplate', { environmentTemplateName: 'cli-env', displayName: 'CLI environment' });
    const thing = recordingResource(stack, recordingProvider(stack), 'Thing', {
      Name: 'thing', TemplateArn: template.environmentTemplateArn, ...(options.fail ? { FailOn: 'Create:isComplete' } : {}),
    });
    // The ARN is computed from the name: the order is explicit.
    thing.node.addDependency(template);
  }).directory;
}

async function run(subcommand: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
  try {
    const code = await runDeployCommand(subcommand, argv);
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

test('deploy, status and destroy in separate runs share the state directory', async () => {
  const stateDir = temporaryDirectory('cli');
  const assembly = smallAssembly();

  const deployed = await run('deploy', '--assembly', assembly, '--state-dir', stateDir, '--poll-interval-ms', '10');
  expect(deployed.stderr).toBe('');
  expect(deployed.code).toBe(0);
  expect(deployed.stdout).toMatch(/^Cli\s+EnvTemplate[0-9A-F]{8}\s+Custom::ProtonEnvironmentTemplate\s+CREATE\s+COMPLETE\s+\d+\.\ds$/m);
  expect(deployed.stdout).toMatch(/^Cli\s+Thing\s+Custom::ProtonRecording\s+CREATE\s+COMPLETE\s+\d+\.\ds$/m);
  expect(deployed.stdout).toMatch(/^Cli\s+\w+\s+AWS::Lambda::Function\s+SKIP\s+SKIPPED\s+0\.0s$/m);
  expect(deployed.stdout).toMatch(/^Cli: CREATE_COMPLETE$/m);
  expect(deployed.stdout).toMatch(/^KIND\s+NAME\s+TEMPLATE\s+VERSION\s+STATUS\nEnvironmentTemplate\s+cli-env\s+-\s+-\s+-$/m);
  expect(fs.existsSync(path.join(stateDir, 'stacks.json'))).toBe(true);
  expect(fs.existsSync(path.join(stateDir, 'proton-local.json'))).toBe(true);

  const status = await run('status', '--state-dir', stateDir, '--json');
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({
    command: 'status',
    success: true,
    stacks: [{ stackName: 'Cli', status: 'CREATE_COMPLETE' }],
    resources: [{ kind: 'EnvironmentTemplate', name: 'cli-env', template: '-', version: '-', status: '-' }],
  });

  const destroyed = await run('destroy', '--state-dir', stateDir, '--poll-interval-ms', '10');
  expect(destroyed.code).toBe(0);
  expect(destroyed.stdout).toMatch(/^Cli\s+Thing\s+Custom::ProtonRecording\s+DELETE\s+COMPLETE/m);
  expect(destroyed.stdout).toMatch(/^Cli\s+EnvTemplate[0-9A-F]{8}\s+Custom::ProtonEnvironmentTemplate\s+DELETE\s+COMPLETE/m);
  expect(destroyed.stdout).toMatch(/No Proton resources\./);
  expect(JSON.parse(fs.readFileSync(path.join(stateDir, 'stacks.json'), 'utf-8'))).toEqual({ stacks: {} });
});

test('a failed deployment exits non-zero with the reason, and --json reports it', async () => {
  const stateDir = temporaryDirectory('cli');
  const result = await run('deploy', '--assembly', smallAssembly({ fail: true }), '--state-dir', stateDir, '--poll-interval-ms', '10', '--json');
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/Stack Cli failed: Thing \(Custom::ProtonRecording\) CREATE failed: Thing failed on purpose in isComplete\. Rolled back\./);
  const document = JSON.parse(result.stdout);
  expect(document).toMatchObject({ command: 'deploy', success: false, error: expect.stringContaining('Thing failed on purpose') });
  expect(document.events).toEqual(expect.arrayContaining([
    expect.objectContaining({ logicalId: 'Thing', action: 'CREATE', status: 'FAILED', reason: 'Thing failed on purpose in isComplete' }),
    expect.objectContaining({ logicalId: expect.stringMatching(/^EnvTemplate[0-9A-F]{8}$/), action: 'DELETE', phase: 'rollback', status: 'COMPLETE' }),
  ]));
});

test('bad usage exits 2 with a message naming the option', async () => {
  const both = await run('deploy', '--app', 'x', '--assembly', 'y');
  expect(both.code).toBe(2);
  expect(both.stderr).toMatch(/--app and --assembly cannot be combined/);
  const poll = await run('deploy', '--assembly', 'y', '--poll-interval-ms', 'soon');
  expect(poll.code).toBe(2);
  expect(poll.stderr).toMatch(/Invalid poll interval 'soon' \(--poll-interval-ms or PROTON_LOCAL_POLL_INTERVAL_MS\): expected a positive integer/);
  const missing = await run('deploy', '--assembly', path.join(temporaryDirectory('cli'), 'nothing'), '--state-dir', temporaryDirectory('cli'));
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/Cloud assembly manifest \(manifest\.json\) not found/);
});

test('an app runs with CDK_OUTDIR and CDK_CONTEXT_JSON, as cdk synth runs it', async () => {
  const app = 'node -e "require(\'fs\').writeFileSync(process.env.CDK_OUTDIR + \'/manifest.json\', process.env.CDK_CONTEXT_JSON)"';
  const outdir = await synthesizeApp(app, { 'cdk-proton-demo:revision': '2' });
  expect(JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf-8'))).toEqual({ 'cdk-proton-demo:revision': '2' });
  await expect(synthesizeApp('node -e "0"')).rejects.toThrow(/wrote no cloud assembly: does it call app\.synth\(\)/);
});

test('deploy --app synthesizes into a temporary assembly; a failing app is a clear error', async () => {
  const assembly = smallAssembly();
  // A stand-in "app" that copies a synthesized assembly into CDK_OUTDIR.
  const app = `node -e "require('fs').cpSync(process.argv[1], process.env.CDK_OUTDIR, { recursive: true })" ${assembly}`;
  const stateDir = temporaryDirectory('cli');
  const deployed = await run('deploy', '--app', app, '--state-dir', stateDir, '--poll-interval-ms', '10');
  expect(deployed.stderr).toBe('');
  expect(deployed.code).toBe(0);
  const failing = await run('deploy', '--app', 'node -e "process.exit(3)"', '--state-dir', stateDir);
  expect(failing.code).toBe(1);
  expect(failing.stderr).toMatch(/The app command "node -e "process.exit\(3\)"" exited with code 3/);
  expect((await run('destroy', '--state-dir', stateDir, '--poll-interval-ms', '10')).code).toBe(0);
});

test('--endpoint deploys to a running proton-local; the state directory then holds the stacks only', async () => {
  const local = await ProtonLocal.start({ registrationDelayMs: 20, deploymentDelayMs: 30 });
  try {
    const stateDir = temporaryDirectory('cli');
    const common = ['--state-dir', stateDir, '--endpoint', local.endpoint, '--poll-interval-ms', '10'];
    expect((await run('deploy', '--assembly', smallAssembly(), ...common)).code).toBe(0);
    expect(fs.existsSync(path.join(stateDir, 'proton-local.json'))).toBe(false);
    expect(Object.keys(local.state.environmentTemplates)).toEqual(['cli-env']);

    const status = await run('status', '--state-dir', stateDir, '--endpoint', local.endpoint);
    expect(status.stdout).toMatch(/^Cli: CREATE_COMPLETE \(\d+ resources\)$/m);
    expect(status.stdout).toMatch(/^EnvironmentTemplate\s+cli-env\s/m);

    const delays = await run('deploy', '--assembly', 'x', '--endpoint', local.endpoint, '--deployment-delay-ms', '5');
    expect(delays.code).toBe(2);
    expect(delays.stderr).toMatch(/--deployment-delay-ms applies to the embedded proton-local only, not with --endpoint/);

    expect((await run('destroy', ...common)).code).toBe(0);
    expect(local.state.environmentTemplates).toEqual({});
  } finally {
    await local.stop();
  }
});
