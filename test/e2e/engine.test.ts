/**
 * The local CloudFormation engine on small hand-written stacks: a custom resource backed by a trivial recording
 * handler (test/e2e/fixtures/recording-handler) and the native AWS::Proton::*Template types.
 */
import * as fs from 'fs';
import { CfnDeletionPolicy, CfnOutput, CustomResource, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as proton from 'aws-cdk-lib/aws-proton';
import {
  Harness, eventLines, mutatingCalls, recordingProvider, recordingResource, startHarness, synthesize, takeRecordedCalls,
} from './helpers';
import { stringifyProperties } from '../../src/local/deploy/custom-resources';
import { DeployEngine } from '../../src/local/deploy/engine';
import { DeployState } from '../../src/local/deploy/state';

interface SmallStackOptions {
  readonly templateName?: string;
  readonly description?: string;
  readonly tags?: { [key: string]: string };
  readonly first?: { [name: string]: unknown };
  readonly second?: { [name: string]: unknown } | false;
  readonly retainSecond?: boolean;
}

/** An environment template, a custom resource reading its Arn, and a second one reading the first's Data. */
function smallStack(options: SmallStackOptions = {}) {
  return synthesize((app) => {
    const stack = new Stack(app, 'Small');
    const template = new proton.CfnEnvironmentTemplate(stack, 'EnvTemplate', {
      name: options.templateName ?? 'small-env',
      description: options.description,
      tags: Object.entries(options.tags ?? { team: 'platform' }).map(([key, value]) => ({ key, value })),
    });
    const provider = recordingProvider(stack);
    const first = recordingResource(stack, provider, 'First', {
      Name: 'first',
      Value: 'hello',
      TemplateArn: template.attrArn,
      Count: 3,
      Enabled: true,
      Nested: { List: [1, false, 'x'] },
      ...options.first,
    });
    if (options.second !== false) {
      const second = recordingResource(stack, provider, 'Second', { Name: 'second', Upstream: first.getAttString('Echo'), ...options.second });
      if (options.retainSecond) second.applyRemovalPolicy(RemovalPolicy.RETAIN);
    }
    new CfnOutput(stack, 'TemplateArn', { value: template.attrArn, exportName: 'SmallTemplateArn' });
  });
}

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  takeRecordedCalls();
});
afterEach(() => h.stop());

test('create: dependency order, CloudFormation-shaped stringified events, Data through Fn::GetAtt, native template with tags', async () => {
  await h.engine().deploy(smallStack());

  expect(eventLines(h.events, (e) => e.status !== 'SKIPPED')).toEqual([
    'EnvTemplate CREATE IN_PROGRESS', 'EnvTemplate CREATE COMPLETE',
    'First CREATE IN_PROGRESS', 'First CREATE COMPLETE',
    'Second CREATE IN_PROGRESS', 'Second CREATE COMPLETE',
  ]);
  expect(h.events.filter((e) => e.status === 'SKIPPED').map((e) => e.resourceType)).toEqual(
    expect.arrayContaining(['AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::StepFunctions::StateMachine']));

  const { environmentTemplate } = await h.client.call('GetEnvironmentTemplate', { name: 'small-env' });
  const { tags } = await h.client.call('ListTagsForResource', { resourceArn: environmentTemplate.arn });
  expect(tags).toEqual(expect.arrayContaining([{ key: 'team', value: 'platform' }]));

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

test('update in place sends OldResourceProperties and polls isComplete until complete; native update and tags', async () => {
  await h.engine().deploy(smallStack());
  const stackId = takeRecordedCalls()[0].event.StackId;
  h.events.length = 0;

  await h.engine().deploy(smallStack({ first: { Value: 'bonjour', Polls: 3 }, description: 'now described', tags: { team: 'apps' } }));

  expect(eventLines(h.events)).toEqual([
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
  expect(tags.filter((t: any) => !t.key.startsWith('aws:'))).toEqual([{ key: 'team', value: 'apps' }]);
});

test('replacement: a new physical id from Update, or a changed createOnly Name, deletes the old resource in cleanup', async () => {
  await h.engine().deploy(smallStack());
  const oldArn = h.state.stack('Small')!.resources.EnvTemplate.physicalId;
  takeRecordedCalls();
  h.events.length = 0;

  await h.engine().deploy(smallStack({ templateName: 'small-env-2', first: { Generation: 2 } }));

  expect(eventLines(h.events)).toEqual([
    'EnvTemplate CREATE IN_PROGRESS', 'EnvTemplate CREATE COMPLETE',
    'First UPDATE IN_PROGRESS', 'First UPDATE COMPLETE',
    // Second reads First's Echo, which did not change: no update. Cleanup: dependents first.
    'First DELETE(cleanup) IN_PROGRESS', 'First DELETE(cleanup) COMPLETE',
    'EnvTemplate DELETE(cleanup) IN_PROGRESS', 'EnvTemplate DELETE(cleanup) COMPLETE',
  ]);
  const deletes = takeRecordedCalls().filter((c) => c.event.RequestType === 'Delete');
  expect(deletes.map((c) => [c.phase, c.event.PhysicalResourceId, c.event.ResourceProperties.Generation])).toEqual([
    ['onEvent', 'first-1', undefined], ['isComplete', 'first-1', undefined],
  ]);
  const { templates } = await h.client.call('ListEnvironmentTemplates', {});
  expect(templates.map((t: any) => t.name)).toEqual(['small-env-2']);
  expect(h.state.stack('Small')!.resources.First.physicalId).toBe('first-2');
  expect(oldArn).toMatch(/small-env$/);
});

test('a changed createOnly property of a custom-named template fails as CloudFormation does, leaving the stack as it was', async () => {
  await h.engine().deploy(smallStack());

  const withKey = synthesize((app) => {
    const stack = new Stack(app, 'Small');
    new proton.CfnEnvironmentTemplate(stack, 'EnvTemplate', {
      name: 'small-env', encryptionKey: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
  });
  await expect(h.engine().deploy(withKey)).rejects.toThrow(/EnvTemplate: CloudFormation cannot update a stack when a custom-named resource requires replacing \(changed: EncryptionKey\)/);
  expect(h.state.stack('Small')!.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  expect(Object.keys(h.state.stack('Small')!.resources)).toContain('First');
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
  const { templates } = await h.client.call('ListEnvironmentTemplates', {});
  expect(templates).toEqual([]);
  // onEvent failed before answering an id: the framework's CREATE_FAILED marker is deleted without calling the handler.
  const deletes = takeRecordedCalls().filter((c) => c.event.RequestType === 'Delete');
  expect(deletes.map((c) => c.event.LogicalResourceId)).toEqual(['First', 'First']);
});

test('destroy deletes in reverse dependency order and honours DeletionPolicy Retain', async () => {
  await h.engine().deploy(smallStack({ retainSecond: true }));
  h.events.length = 0;

  await h.engine().destroy();

  expect(eventLines(h.events)).toEqual([
    'Second DELETE RETAINED',
    'First DELETE IN_PROGRESS', 'First DELETE COMPLETE',
    'EnvTemplate DELETE IN_PROGRESS', 'EnvTemplate DELETE COMPLETE',
  ]);
  expect(h.state.stacks).toEqual({});
  const { templates } = await h.client.call('ListEnvironmentTemplates', {});
  expect(templates).toEqual([]);
});

test('resources removed from the template are deleted in the cleanup phase', async () => {
  await h.engine().deploy(smallStack());
  h.events.length = 0;
  await h.engine().deploy(smallStack({ second: false }));
  expect(eventLines(h.events)).toEqual(['Second DELETE(cleanup) IN_PROGRESS', 'Second DELETE(cleanup) COMPLETE']);
  expect(h.state.stack('Small')!.resources.Second).toBeUndefined();
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
    const template = new proton.CfnEnvironmentTemplate(platform, 'EnvTemplate', { name: 'shared-env' });
    const team = new Stack(app, 'Team');
    const provider = recordingProvider(team);
    recordingResource(team, provider, 'Consumer', { Name: 'consumer', TemplateArn: template.attrArn });
  });
  expect(assembly.stacks.map((s) => s.stackName)).toEqual(['Platform', 'Team']);

  await h.engine().deploy(assembly);

  const consumer = takeRecordedCalls().find((c) => c.event.LogicalResourceId === 'Consumer')!;
  expect(consumer.event.ResourceProperties.TemplateArn).toMatch(/:environment-template\/shared-env$/);
  expect(h.state.stack('Team')!.imports).toHaveLength(1);
  await expect(h.engine().destroy(['Platform'])).rejects.toThrow(/Stack Platform cannot be destroyed: export .* is in use by stack Team/);

  h.events.length = 0;
  await h.engine().destroy();
  expect(eventLines(h.events)).toEqual([
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
    const template = new proton.CfnEnvironmentTemplate(platform, 'EnvTemplate', { name: templateName });
    const team = new Stack(app, 'Team');
    recordingResource(team, recordingProvider(team), 'Consumer', { Name: 'consumer', TemplateArn: template.attrArn });
  });
  await h.engine().deploy(twoStacks('shared-env'));
  h.events.length = 0;

  await expect(h.engine().deploy(twoStacks('renamed-env'))).rejects.toThrow(
    /Stack Platform failed: Cannot update export Platform:ExportsOutputFnGetAttEnvTemplateArn\w+ as it is in use by Team\. Rolled back\./);
  expect(eventLines(h.events)).toEqual([
    'EnvTemplate CREATE IN_PROGRESS', 'EnvTemplate CREATE COMPLETE', 'EnvTemplate DELETE(rollback) IN_PROGRESS', 'EnvTemplate DELETE(rollback) COMPLETE',
  ]);
  const { templates } = await h.client.call('ListEnvironmentTemplates', {});
  expect(templates.map((t: any) => t.name)).toEqual(['shared-env']);
});

test('UpdateReplacePolicy Retain keeps the replaced resource', async () => {
  const named = (name: string) => synthesize((app) => {
    const stack = new Stack(app, 'Small');
    new proton.CfnEnvironmentTemplate(stack, 'EnvTemplate', { name }).cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
  });
  await h.engine().deploy(named('kept-env'));
  h.events.length = 0;
  await h.engine().deploy(named('new-env'));
  expect(eventLines(h.events)).toEqual(['EnvTemplate CREATE IN_PROGRESS', 'EnvTemplate CREATE COMPLETE', 'EnvTemplate DELETE(cleanup) RETAINED']);
  const { templates } = await h.client.call('ListEnvironmentTemplates', {});
  expect(templates.map((t: any) => t.name).sort()).toEqual(['kept-env', 'new-env']);
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
    expect(call.env).toEqual({ endpoint: h.local.endpoint, region: 'us-east-1', accessKey: 'proton-local' });
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
