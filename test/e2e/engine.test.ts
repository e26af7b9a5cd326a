/**
 * The local CloudFormation engine on small hand-written stacks: a custom resource backed by a trivial recording
 * handler (test/e2e/fixtures/recording-handler) and the library's EnvironmentTemplate (Custom::ProtonEnvironmentTemplate,
 * served by the real bundled handler: needs `npx projen bundle`).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CfnDeletionPolicy, CfnOutput, CfnResource, CustomResource, Fn, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as proton from 'aws-cdk-lib/aws-proton';
import {
  Harness, eventLines, mutatingCalls, recordingProvider, recordingResource, startHarness, synthesize, takeRecordedCalls, temporaryDirectory,
} from './helpers';
import { EnvironmentTemplate } from '../../src';
import { stringifyProperties } from '../../src/local/deploy/custom-resources';
import { DeployEngine } from '../../src/local/deploy/engine';
import { DeployState, StackRecord } from '../../src/local/deploy/state';

const ROOT = path.join(__dirname, '..', '..');
const TS_NODE = path.join(ROOT, 'node_modules', '.bin', 'ts-node');
const TEMPLATE_TYPE = 'Custom::ProtonEnvironmentTemplate';

interface SmallStackOptions {
  readonly templateName?: string;
  readonly description?: string;
  readonly tags?: { [key: string]: string };
  readonly first?: { [name: string]: unknown };
  readonly second?: { [name: string]: unknown } | false;
  readonly retainSecond?: boolean;
}

/**
 * An environment template, a custom resource reading its Arn (computed from the name, so the dependency is explicit),
 * and a second one reading the first's Data.
 */
function smallStack(options: SmallStackOptions = {}) {
  return synthesize((app) => {
    const stack = new Stack(app, 'Small');
    const template = new EnvironmentTemplate(stack, 'EnvTemplate', {
      environmentTemplateName: options.templateName ?? 'small-env',
      description: options.description,
    });
    for (const [key, value] of Object.entries(options.tags ?? { team: 'platform' })) Tags.of(template).add(key, value);
    const provider = recordingProvider(stack);
    const first = recordingResource(stack, provider, 'First', {
      Name: 'first',
      Value: 'hello',
      TemplateArn: template.environmentTemplateArn,
      Count: 3,
      Enabled: true,
      Nested: { List: [1, false, 'x'] },
      ...options.first,
    });
    first.node.addDependency(template);
    if (options.second !== false) {
      const second = recordingResource(stack, provider, 'Second', { Name: 'second', Upstream: first.getAttString('Echo'), ...options.second });
      if (options.retainSecond) second.applyRemovalPolicy(RemovalPolicy.RETAIN);
    }
    new CfnOutput(stack, 'TemplateArn', { value: template.environmentTemplateArn, exportName: 'SmallTemplateArn' });
  });
}

/** The template's custom resource: its Fn::GetAtt Arn makes a reference (and a cross-stack export) that the computed ARN does not. */
function templateResource(template: EnvironmentTemplate): CustomResource {
  return template.node.findChild('Template') as CustomResource;
}

/** Event lines with the hash CDK appends to the logical id of a construct's nested resource (EnvTemplate1A2B3C4D) removed. */
function withoutHashes(lines: string[]): string[] {
  return lines.map((line) => line.replace(/^(\w+?)[0-9A-F]{8}\b/, '$1'));
}

/** The logical id of the stack's template resource. */
function templateLogicalId(stack: StackRecord): string {
  const ids = Object.keys(stack.resources).filter((id) => stack.resources[id].type === TEMPLATE_TYPE);
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** Template names in proton-local. */
async function templateNames(): Promise<string[]> {
  const templates = await h.client.listAll('ListEnvironmentTemplates', 'templates');
  return templates.map((t: any) => t.name).sort();
}

/** Tags set by the user, without Proton's (aws:) and the handler's ownership tag (cdk-proton:). */
function userTags(tags: { key: string; value: string }[]): { key: string; value: string }[] {
  return tags.filter((t) => !t.key.startsWith('aws:') && !t.key.startsWith('cdk-proton:'));
}

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  takeRecordedCalls();
});
afterEach(() => h.stop());

test('create: dependency order, CloudFormation-shaped stringified events, Data through Fn::GetAtt, template with tags', async () => {
  await h.engine().deploy(smallStack());

  expect(withoutHashes(eventLines(h.events, (e) => e.status !== 'SKIPPED'))).toEqual([
    'EnvTemplate CREATE IN_PROGRESS', 'EnvTemplate CREATE COMPLETE',
    'First CREATE IN_PROGRESS', 'First CREATE COMPLETE',
    'Second CREATE IN_PROGRESS', 'Second CREATE COMPLETE',
  ]);
  expect(h.events.filter((e) => e.status === 'SKIPPED').map((e) => e.resourceType)).toEqual(
    expect.arrayContaining(['AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::StepFunctions::StateMachine']));

  const { environmentTemplate } = await h.client.call('GetEnvironmentTemplate', { name: 'small-env' });
  const { tags } = await h.client.call('ListTagsForResource', { resourceArn: environmentTemplate.arn });
  expect(userTags(tags)).toEqual([{ key: 'team', value: 'platform' }]);

  const calls = takeRecordedCalls();
  const firstCreate = calls.find((c) => c.phase === 'onEvent' && c.event.LogicalResourceId === 'First')!;
  expect(firstCreate.event).toEqual({
    RequestType: 'Create',
    ServiceToken: expect.stringMatching(/^arn:aws:lambda:us-east-1:123456789012:function:/),
    ResponseURL: expect.stringMatching(/^https:\/\//),
    StackId: expect.stringMatching(/^arn:aws:cloudformation:us-east-1:123456789012:stack\/Small\/[0-9a-f-]{36}$/),
    RequestId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
    LogicalResourceId: 'First',
    ResourceType: 'Custom::ProtonRecording',
    ResourceProperties: {
      ServiceToken: firstCreate.event.ServiceToken,
      Name: 'first',
      Value: 'hello',
      TemplateArn: environmentTemplate.arn,
      Count: '3',
      Enabled: 'true',
      Nested: { List: ['1', 'false', 'x'] },
    },
  });
  expect(firstCreate.env).toEqual({ endpoint: h.local.endpoint, region: 'us-east-1', accessKey: expect.any(String) });
  // The environment is restored after the call.
  expect(process.env.AWS_ENDPOINT_URL_PROTON).toBeUndefined();
  const secondCreate = calls.find((c) => c.phase === 'onEvent' && c.event.LogicalResourceId === 'Second')!;
  expect(secondCreate.event.ResourceProperties.Upstream).toBe('hello');

  const stack = h.state.stack('Small')!;
  expect(stack.status).toBe('CREATE_COMPLETE');
  expect(stack.resources.First).toMatchObject({ physicalId: 'first-1', attributes: { Echo: 'hello', Polls: '1' } });
  expect(stack.exports).toEqual({ SmallTemplateArn: environmentTemplate.arn });
  // The template is served by the library's provider: its physical id is the name, its Data the ARN.
  expect(stack.resources[templateLogicalId(stack)]).toMatchObject({
    physicalId: 'small-env', attributes: { Arn: environmentTemplate.arn }, provider: { queryIntervalMs: 2_000, totalTimeoutMs: 102_000 },
  });
  // The provider contract read from the template: user functions, their asset (kept in the state directory), polling.
  expect(stack.resources.First.provider).toEqual({
    onEvent: { handlerFile: expect.stringMatching(/^code\/[0-9a-f]{64}\/index\.js$/), handlerExport: 'handler', environment: { PROTON_HANDLER_PHASE: 'onEvent' } },
    isComplete: { handlerFile: stack.resources.First.provider!.onEvent.handlerFile, handlerExport: 'handler', environment: { PROTON_HANDLER_PHASE: 'isComplete' } },
    queryIntervalMs: 10_000,
    totalTimeoutMs: 1_800_000,
  });
});

test('deploying the same assembly twice makes no handler call and no mutating Proton call', async () => {
  await h.engine().deploy(smallStack());
  takeRecordedCalls();
  h.local.requestLog.clear();
  h.events.length = 0;

  await h.engine().deploy(smallStack());

  expect(takeRecordedCalls()).toEqual([]);
  expect(mutatingCalls(h.local)).toEqual([]);
  expect(h.events).toEqual([]);
  expect(h.state.stack('Small')!.status).toBe('UPDATE_COMPLETE');
});

test('update in place sends OldResourceProperties and polls isComplete until complete; template description and tags', async () => {
  await h.engine().deploy(smallStack());
  const stackId = takeRecordedCalls()[0].event.StackId;
  h.events.length = 0;

  await h.engine().deploy(smallStack({ first: { Value: 'bonjour', Polls: 3 }, description: 'now described', tags: { team: 'apps' } }));

  expect(withoutHashes(eventLines(h.events))).toEqual([
    'EnvTemplate UPDATE IN_PROGRESS', 'EnvTemplate UPDATE COMPLETE',
    'First UPDATE IN_PROGRESS', 'First UPDATE COMPLETE',
    'Second UPDATE IN_PROGRESS', 'Second UPDATE COMPLETE',
  ]);
  const calls = takeRecordedCalls().filter((c) => c.event.LogicalResourceId === 'First');
  expect(calls.map((c) => c.phase)).toEqual(['onEvent', 'isComplete', 'isComplete', 'isComplete']);
  expect(calls[0].event).toMatchObject({
    RequestType: 'Update',
    PhysicalResourceId: 'first-1',
    StackId: stackId,
    ResourceProperties: { Value: 'bonjour', Polls: '3' },
    OldResourceProperties: { Value: 'hello' },
  });
  expect(calls[0].event.OldResourceProperties.Polls).toBeUndefined();
  const { environmentTemplate } = await h.client.call('GetEnvironmentTemplate', { name: 'small-env' });
  expect(environmentTemplate.description).toBe('now described');
  const { tags } = await h.client.call('ListTagsForResource', { resourceArn: environmentTemplate.arn });
  expect(userTags(tags)).toEqual([{ key: 'team', value: 'apps' }]);
});

test('replacement: a new physical id from Update (a new Generation, a renamed template) deletes the old resource in cleanup', async () => {
  await h.engine().deploy(smallStack());
  takeRecordedCalls();
  h.events.length = 0;

  await h.engine().deploy(smallStack({ templateName: 'small-env-2', first: { Generation: 2 } }));

  expect(withoutHashes(eventLines(h.events))).toEqual([
    // A custom resource is replaced when its Update answers a new physical id: the handler creates the renamed template.
    'EnvTemplate UPDATE IN_PROGRESS', 'EnvTemplate UPDATE COMPLETE',
    'First UPDATE IN_PROGRESS', 'First UPDATE COMPLETE',
    // Second reads First's Echo, which did not change: no update. Cleanup: dependents first.
    'First DELETE(cleanup) IN_PROGRESS', 'First DELETE(cleanup) COMPLETE',
    'EnvTemplate DELETE(cleanup) IN_PROGRESS', 'EnvTemplate DELETE(cleanup) COMPLETE',
  ]);
  const cleanupDeletes = h.events.filter((e) => e.phase === 'cleanup' && e.status === 'COMPLETE').map((e) => e.physicalId);
  expect(cleanupDeletes).toEqual(['first-1', 'small-env']);
  const deletes = takeRecordedCalls().filter((c) => c.event.RequestType === 'Delete');
  expect(deletes.map((c) => [c.phase, c.event.PhysicalResourceId, c.event.ResourceProperties.Generation])).toEqual([
    ['onEvent', 'first-1', undefined], ['isComplete', 'first-1', undefined],
  ]);
  expect(await templateNames()).toEqual(['small-env-2']);
  const stack = h.state.stack('Small')!;
  expect(stack.resources.First.physicalId).toBe('first-2');
  expect(stack.resources[templateLogicalId(stack)].physicalId).toBe('small-env-2');
  expect(stack.pendingCleanup ?? []).toEqual([]);
});

test('rollback: updated resources get their old properties back, created ones are deleted, replaced ones lose the new id', async () => {
  await h.engine().deploy(smallStack({ second: false }));
  takeRecordedCalls();
  h.events.length = 0;

  const failing = smallStack({ first: { Value: 'changed', Generation: 2 }, second: { FailOn: 'Create:isComplete' } });
  await expect(h.engine().deploy(failing)).rejects.toThrow(
    /Stack Small failed: Second \(Custom::ProtonRecording\) CREATE failed: Second failed on purpose in isComplete\. Rolled back\./);

  expect(eventLines(h.events)).toEqual([
    'First UPDATE IN_PROGRESS', 'First UPDATE COMPLETE',
    'Second CREATE IN_PROGRESS', 'Second CREATE FAILED',
    'Second DELETE(rollback) IN_PROGRESS', 'Second DELETE(rollback) COMPLETE',
    'First DELETE(rollback) IN_PROGRESS', 'First DELETE(rollback) COMPLETE',
  ]);
  const rollbackDeletes = takeRecordedCalls().filter((c) => c.event.RequestType === 'Delete' && c.phase === 'onEvent');
  expect(rollbackDeletes.map((c) => c.event.PhysicalResourceId)).toEqual(['second-1', 'first-2']);
  const stack = h.state.stack('Small')!;
  expect(stack.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  expect(stack.resources.First.physicalId).toBe('first-1');
  expect(stack.resources.Second).toBeUndefined();

  // An in-place update is reverted with an Update carrying the old properties.
  h.events.length = 0;
  await expect(h.engine().deploy(smallStack({ first: { Value: 'changed', FailOn: 'Update:isComplete' }, second: false }))).rejects.toThrow(/Rolled back/);
  const revert = takeRecordedCalls().filter((c) => c.phase === 'onEvent' && c.event.RequestType === 'Update');
  expect(revert.map((c) => [c.event.ResourceProperties.Value, c.event.OldResourceProperties.Value])).toEqual([['changed', 'hello'], ['hello', 'changed']]);
  expect(eventLines(h.events)).toEqual([
    'First UPDATE IN_PROGRESS', 'First UPDATE FAILED', 'First UPDATE(rollback) IN_PROGRESS', 'First UPDATE(rollback) COMPLETE',
  ]);
});

test('a failed first deployment leaves no stack and no resources', async () => {
  await expect(h.engine().deploy(smallStack({ second: { FailOn: 'Create:onEvent' } }))).rejects.toThrow(/Second failed on purpose in onEvent/);
  expect(h.state.stack('Small')).toBeUndefined();
  // The template was created before Second failed, and deleted by the rollback.
  expect(await templateNames()).toEqual([]);
  // onEvent failed before answering an id: the framework's CREATE_FAILED marker is deleted without calling the handler.
  const deletes = takeRecordedCalls().filter((c) => c.event.RequestType === 'Delete');
  expect(deletes.map((c) => c.event.LogicalResourceId)).toEqual(['First', 'First']);
});

test('destroy deletes in reverse dependency order and honours DeletionPolicy Retain', async () => {
  await h.engine().deploy(smallStack({ retainSecond: true }));
  h.events.length = 0;

  await h.engine().destroy();

  expect(withoutHashes(eventLines(h.events))).toEqual([
    'Second DELETE RETAINED',
    'First DELETE IN_PROGRESS', 'First DELETE COMPLETE',
    'EnvTemplate DELETE IN_PROGRESS', 'EnvTemplate DELETE COMPLETE',
  ]);
  expect(h.state.stacks).toEqual({});
  expect(await templateNames()).toEqual([]);
});

test('resources removed from the template are deleted in the cleanup phase', async () => {
  await h.engine().deploy(smallStack());
  h.events.length = 0;
  await h.engine().deploy(smallStack({ second: false }));
  expect(eventLines(h.events)).toEqual(['Second DELETE(cleanup) IN_PROGRESS', 'Second DELETE(cleanup) COMPLETE']);
  expect(h.state.stack('Small')!.resources.Second).toBeUndefined();
});

test('a native AWS::Proton::* resource is not deployed: it is listed as skipped, like every type the engine does not manage', async () => {
  const native = synthesize((app) => {
    const stack = new Stack(app, 'Small');
    new proton.CfnEnvironmentTemplate(stack, 'NativeTemplate', { name: 'native-env' });
  });
  const [outcome] = await h.engine().deploy(native);
  expect(outcome.status).toBe('CREATE_COMPLETE');
  expect(h.events.map((e) => [e.logicalId, e.resourceType, e.status])).toEqual([['NativeTemplate', 'AWS::Proton::EnvironmentTemplate', 'SKIPPED']]);
  expect(await templateNames()).toEqual([]);
  // Only the stack template's asset upload: no Proton call.
  expect(mutatingCalls(h.local).filter((operation) => !operation.startsWith('S3.'))).toEqual([]);
});

test('an unsupported intrinsic function is a clear error naming it, before anything is deployed', async () => {
  const assembly = synthesize((app) => {
    const stack = new Stack(app, 'Small');
    const provider = recordingProvider(stack);
    recordingResource(stack, provider, 'First', { Name: 'first', Zones: Fn.getAzs() });
  });
  await expect(h.engine().deploy(assembly)).rejects.toThrow(
    'Resources.First.Properties.Zones: the intrinsic function Fn::GetAZs is not supported by proton-local deploy');
  expect(takeRecordedCalls()).toEqual([]);
});

test('several stacks: exports and imports, deployed in dependency order and destroyed in reverse', async () => {
  const assembly = synthesize((app) => {
    const platform = new Stack(app, 'Platform');
    const template = new EnvironmentTemplate(platform, 'EnvTemplate', { environmentTemplateName: 'shared-env' });
    const team = new Stack(app, 'Team');
    const provider = recordingProvider(team);
    // Fn::GetAtt, unlike the computed environmentTemplateArn, crosses stacks as an export and an import.
    recordingResource(team, provider, 'Consumer', { Name: 'consumer', TemplateArn: templateResource(template).getAttString('Arn') });
  });
  expect(assembly.stacks.map((s) => s.stackName)).toEqual(['Platform', 'Team']);

  await h.engine().deploy(assembly);

  const consumer = takeRecordedCalls().find((c) => c.event.LogicalResourceId === 'Consumer')!;
  expect(consumer.event.ResourceProperties.TemplateArn).toMatch(/:environment-template\/shared-env$/);
  expect(h.state.stack('Team')!.imports).toHaveLength(1);
  await expect(h.engine().destroy(['Platform'])).rejects.toThrow(/Stack Platform cannot be destroyed: export .* is in use by stack Team/);

  h.events.length = 0;
  await h.engine().destroy();
  expect(await templateNames()).toEqual([]);
  expect(withoutHashes(eventLines(h.events))).toEqual([
    'Consumer DELETE IN_PROGRESS', 'Consumer DELETE COMPLETE', 'EnvTemplate DELETE IN_PROGRESS', 'EnvTemplate DELETE COMPLETE',
  ]);
});

test('destroy in a later process runs the handler code kept in the state directory', async () => {
  const assembly = smallStack();
  await h.engine().deploy(assembly);
  fs.rmSync(assembly.directory, { recursive: true, force: true });
  takeRecordedCalls();

  // A new DeployState reads the stacks back from the directory, as another process would.
  const later = new DeployEngine({ state: new DeployState(h.state.directory), client: h.client, endpoint: h.local.endpoint, pollIntervalMs: 10 });
  await later.destroy();

  expect(takeRecordedCalls().filter((c) => c.phase === 'onEvent').map((c) => c.event.LogicalResourceId)).toEqual(['Second', 'First']);
  expect(new DeployState(h.state.directory).stacks).toEqual({});
});

test('CloudFormation stringifies every scalar property value, recursively', () => {
  expect(stringifyProperties({ a: 1, b: true, c: null, d: [2.5, { e: false }], f: 'x' })).toEqual({ a: '1', b: 'true', c: null, d: ['2.5', { e: 'false' }], f: 'x' });
});

test('a custom resource whose ServiceToken is not a Provider framework function is a clear error', async () => {
  const assembly = synthesize((app) => {
    const stack = new Stack(app, 'Small');
    new CustomResource(stack, 'Direct', { serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:mine', resourceType: 'Custom::ProtonDirect' });
  });
  await expect(h.engine().deploy(assembly)).rejects.toThrow(/Resources\.Direct\.Properties\.ServiceToken: expected the Arn of a custom_resources\.Provider framework function/);
});

test('an export another stack imports cannot change: the update fails and rolls back', async () => {
  const twoStacks = (templateName: string) => synthesize((app) => {
    const platform = new Stack(app, 'Platform');
    const template = new EnvironmentTemplate(platform, 'EnvTemplate', { environmentTemplateName: templateName });
    const team = new Stack(app, 'Team');
    recordingResource(team, recordingProvider(team), 'Consumer', { Name: 'consumer', TemplateArn: templateResource(template).getAttString('Arn') });
  });
  await h.engine().deploy(twoStacks('shared-env'));
  h.events.length = 0;

  await expect(h.engine().deploy(twoStacks('renamed-env'))).rejects.toThrow(
    /Stack Platform failed: Cannot update export Platform:ExportsOutputFnGetAttEnvTemplate[0-9A-F]{8}Arn\w+ as it is in use by Team\. Rolled back\./);
  // The renamed template is a replacement (a new physical id from Update): the rollback deletes the new one.
  expect(withoutHashes(eventLines(h.events))).toEqual([
    'EnvTemplate UPDATE IN_PROGRESS', 'EnvTemplate UPDATE COMPLETE', 'EnvTemplate DELETE(rollback) IN_PROGRESS', 'EnvTemplate DELETE(rollback) COMPLETE',
  ]);
  expect(h.events.find((e) => e.phase === 'rollback')!.physicalId).toBe('renamed-env');
  expect(await templateNames()).toEqual(['shared-env']);
  const platform = h.state.stack('Platform')!;
  expect(platform.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  expect(platform.resources[templateLogicalId(platform)].physicalId).toBe('shared-env');
});

test('UpdateReplacePolicy Retain keeps the replaced resource', async () => {
  const named = (name: string) => synthesize((app) => {
    const stack = new Stack(app, 'Small');
    const template = new EnvironmentTemplate(stack, 'EnvTemplate', { environmentTemplateName: name });
    (templateResource(template).node.defaultChild as CfnResource).cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
  });
  await h.engine().deploy(named('kept-env'));
  h.events.length = 0;
  await h.engine().deploy(named('new-env'));
  expect(withoutHashes(eventLines(h.events))).toEqual(['EnvTemplate UPDATE IN_PROGRESS', 'EnvTemplate UPDATE COMPLETE', 'EnvTemplate DELETE(cleanup) RETAINED']);
  expect(await templateNames()).toEqual(['kept-env', 'new-env']);
});

test('independent deletions overlap: each invocation keeps its environment and its console output goes to the handler log', async () => {
  const independent = synthesize((app) => {
    const stack = new Stack(app, 'Small');
    const provider = recordingProvider(stack);
    for (const name of ['alpha', 'beta', 'gamma']) recordingResource(stack, provider, name, { Name: name, Polls: 3 });
  });
  await h.engine().deploy(independent);
  takeRecordedCalls();
  h.events.length = 0;
  const consoleLog = jest.spyOn(console, 'log');
  try {
    await h.engine().destroy();
  } finally {
    consoleLog.mockRestore();
  }

  // The three deletions ran at the same time: all started before any completed.
  const lines = eventLines(h.events);
  expect(lines.slice(0, 3).sort()).toEqual(['alpha DELETE IN_PROGRESS', 'beta DELETE IN_PROGRESS', 'gamma DELETE IN_PROGRESS']);
  const calls = takeRecordedCalls();
  expect(calls).toHaveLength(12);
  for (const call of calls) {
    // The stack's account (an environment-agnostic stack's is the engine's default) signs the calls: proton-local's caller.
    expect(call.env).toEqual({ endpoint: h.local.endpoint, region: 'us-east-1', accessKey: '123456789012' });
  }
  expect(calls.filter((c) => c.phase === 'onEvent')).toHaveLength(3);
  expect(consoleLog).not.toHaveBeenCalled();
  const log = fs.readFileSync(h.state.handlerLogFile, 'utf-8');
  for (const name of ['alpha', 'beta', 'gamma']) {
    expect(log).toContain(`[${name} isComplete] recording handler: isComplete Delete ${name}`);
  }
  expect(process.env.AWS_ENDPOINT_URL_PROTON).toBeUndefined();
  expect(process.env.PROTON_HANDLER_PHASE).toBeUndefined();
});

/** Polls `condition` until it holds; fails with `what` (and whatever `diagnose` adds) after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, diagnose: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}. ${diagnose()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The stack as the state directory holds it now (the engine writes it atomically, by rename). */
function stackOnDisk(stateDir: string, stackName: string): StackRecord | undefined {
  const file = path.join(stateDir, 'stacks.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf-8')).stacks[stackName] : undefined;
}

test('a deploy killed midway: the next run says so, repeats the interrupted operation with its RequestId and creates nothing twice', async () => {
  /** Three resources in a chain; in the first run Second's isComplete never answers. */
  const chain = (options: { hangSecond: boolean }) => synthesize((app) => {
    const stack = new Stack(app, 'Chain');
    const provider = recordingProvider(stack);
    const first = recordingResource(stack, provider, 'First', { Name: 'first', Value: 'one' });
    const second = recordingResource(stack, provider, 'Second', {
      Name: 'second', Value: first.getAttString('Echo'), ...(options.hangSecond ? { HangOn: 'Create:isComplete' } : {}),
    });
    recordingResource(stack, provider, 'Third', { Name: 'third', Value: second.getAttString('Echo') });
  });
  const stateDir = temporaryDirectory('killed');
  const handlerLog = new DeployState(stateDir).handlerLogFile;
  const readLog = () => (fs.existsSync(handlerLog) ? fs.readFileSync(handlerLog, 'utf-8') : '');
  const logLines = (text: string) => readLog().split('\n').filter((line) => line.endsWith(text));

  // The real CLI in its own process, against this test's proton-local, killed as `kill -9` would.
  const child: ChildProcess = spawn(TS_NODE, [
    '--transpile-only', 'src/local/cli.ts', 'deploy', '--assembly', chain({ hangSecond: true }).directory,
    '--state-dir', stateDir, '--endpoint', h.local.endpoint, '--poll-interval-ms', '10',
  ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => output += chunk);
  child.stderr!.on('data', (chunk) => output += chunk);
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  try {
    await waitFor('the deploy to hang in Second',
      () => stackOnDisk(stateDir, 'Chain')?.pending?.logicalId === 'Second' && logLines('hanging in isComplete Create Second').length === 1,
      () => `Exit: ${child.exitCode}. Output:\n${output}\nHandler log:\n${readLog()}`, 90_000);
  } finally {
    child.kill('SIGKILL');
  }
  expect(await exited).toBe('SIGKILL');

  // What the killed run left: First created, Second's create under way.
  const left = stackOnDisk(stateDir, 'Chain')!;
  expect(left).toMatchObject({
    status: 'CREATE_IN_PROGRESS',
    pending: { logicalId: 'Second', action: 'CREATE', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    resources: { First: { physicalId: 'first-1' } },
  });
  expect(left.resources.Second).toBeUndefined();
  expect(logLines('onEvent Create First')).toHaveLength(1);

  // A later run, with an assembly whose Second completes, in this process.
  const engine = new DeployEngine({
    state: new DeployState(stateDir), client: h.client, endpoint: h.local.endpoint, pollIntervalMs: 10, onEvent: (event) => h.events.push(event),
  });
  const [outcome] = await engine.deploy(chain({ hangSecond: false }));

  expect(outcome.status).toBe('CREATE_COMPLETE');
  expect(outcome.warnings).toEqual([expect.stringMatching(/^A previous run was interrupted while CREATE_IN_PROGRESS \(at Second CREATE\)/)]);
  expect(h.events.filter((e) => e.reason?.includes('interrupted'))).toHaveLength(1);
  expect(eventLines(h.events, (e) => e.resourceType === 'Custom::ProtonRecording')).toEqual([
    'Second CREATE IN_PROGRESS', 'Second CREATE COMPLETE', 'Third CREATE IN_PROGRESS', 'Third CREATE COMPLETE',
  ]);
  const creates = takeRecordedCalls().filter((c) => c.phase === 'onEvent');
  expect(creates.map((c) => [c.event.LogicalResourceId, c.event.RequestType])).toEqual([['Second', 'Create'], ['Third', 'Create']]);
  // The interrupted operation is repeated as the same request (the handler's client tokens repeat with it).
  expect(creates[0].event.RequestId).toBe(left.pending!.requestId);
  expect(creates[0].event.ResourceProperties.Value).toBe('one');
  // Across both runs, First was created once; Second's create was sent twice, as one request.
  expect(logLines('onEvent Create First')).toHaveLength(1);
  expect(logLines('onEvent Create Second')).toHaveLength(2);
  const stack = stackOnDisk(stateDir, 'Chain')!;
  expect(stack.status).toBe('CREATE_COMPLETE');
  expect(stack.pending).toBeUndefined();
  expect(Object.fromEntries(Object.entries(stack.resources).filter(([, r]) => r.managed).map(([id, r]) => [id, r.physicalId])))
    .toEqual({ First: 'first-1', Second: 'second-1', Third: 'third-1' });

  await engine.destroy();
  const deletes = takeRecordedCalls().filter((c) => c.phase === 'onEvent');
  expect(deletes.map((c) => [c.event.RequestType, c.event.PhysicalResourceId])).toEqual([
    ['Delete', 'third-1'], ['Delete', 'second-1'], ['Delete', 'first-1'],
  ]);
  expect(stackOnDisk(stateDir, 'Chain')).toBeUndefined();
}, 180_000);
