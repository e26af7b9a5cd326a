/**
 * integ-tests-alpha assertion stacks through the local engine: Proton SDK calls run against proton-local and are
 * PASSED or FAILED by their expectation; what proton-local cannot run is NOT_RUN, and `proton-local deploy` then exits 1
 * unless --allow-skipped.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ActualResult, ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Environment, EnvironmentTemplate, EnvironmentTemplateVersion, TemplateBundle } from '../src';
import { Harness, startHarness, synthesize, temporaryDirectory } from './e2e/helpers';
import { runDeployCommand } from '../src/local/deploy/command';

const BUNDLE = 'examples/templates/fargate-env';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });
afterEach(async () => { await h.stop(); });

/** The platform under test (a template, its version, the `prod` environment) and an IntegTest over it. */
function integApp(app: App, addAssertions: (integ: IntegTest, environment: Environment) => void): void {
  const stack = new Stack(app, 'Platform');
  const template = new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'fargate-env' });
  const version = new EnvironmentTemplateVersion(stack, 'V1', { template, bundle: TemplateBundle.fromDirectory(BUNDLE) });
  const environment = new Environment(stack, 'Prod', {
    environmentName: 'prod',
    templateVersion: version,
    protonServiceRole: new iam.Role(stack, 'ProtonRole', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') }),
    spec: { vpc_cidr: '10.0.0.0/16' },
  });
  addAssertions(new IntegTest(app, 'Integ', { testCases: [stack] }), environment);
}

/** The assertion stack's outcome (the last stack: it depends on the platform). */
function assertionStackOutcome(outcomes: Awaited<ReturnType<ReturnType<Harness['engine']>['deploy']>>) {
  const outcome = outcomes.find((o) => o.stackName.startsWith('IntegDefaultTestDeployAssert'));
  if (!outcome) throw new Error(`no assertion stack among ${outcomes.map((o) => o.stackName).join(', ')}`);
  return outcome;
}

test('Proton API calls run against proton-local: matching expectations PASSED, a mismatch FAILED with the mismatch', async () => {
  const assembly = synthesize((app) => integApp(app, (integ, environment) => {
    integ.assertions.awsApiCall('Proton', 'getEnvironment', { name: environment.environmentName })
      .expect(ExpectedResult.objectLike({ environment: { name: 'prod', templateName: 'fargate-env', deploymentStatus: 'SUCCEEDED' } }));
    integ.assertions.awsApiCall('Proton', 'GetEnvironmentCommand', { name: 'prod' })
      .assertAtPath('environment.deploymentStatus', ExpectedResult.exact('SUCCEEDED'));
    integ.assertions.awsApiCall('Proton', 'listEnvironments', {})
      .expect(ExpectedResult.objectLike({ environments: Match.arrayWith([Match.objectLike({ name: 'prod', templateMajorVersion: '1' })]) }));
    // Proton's timestamps reach the expectation as the SDK gives them (Dates, serialized as ISO 8601 text).
    integ.assertions.awsApiCall('Proton', 'getEnvironment', { name: 'prod' })
      .expect(ExpectedResult.objectLike({ environment: { createdAt: Match.stringLikeRegexp('^\\d{4}-\\d\\d-\\d\\dT') } }));
    integ.assertions.awsApiCall('Proton', 'getEnvironment', { name: 'prod' })
      .expect(ExpectedResult.objectLike({ environment: { deploymentStatus: 'FAILED' } }));
  }));

  const outcome = assertionStackOutcome(await h.engine().deploy(assembly));

  // The stack deploys, as on AWS (a mismatch is reported in the assertion's result, not by failing the resource).
  expect(outcome.status).toBe('CREATE_COMPLETE');
  const verdicts = (outcome.assertions ?? []).map((a) => a.status);
  expect(verdicts.sort()).toEqual(['FAILED', 'PASSED', 'PASSED', 'PASSED', 'PASSED']);
  const failed = outcome.assertions!.find((a) => a.status === 'FAILED')!;
  expect(failed.message).toMatch(/!!\s+Expected FAILED but received SUCCEEDED/);
  // The AssertionResults outputs hold what AWS's provider returns.
  const outputs = h.state.stack(outcome.stackName)!.outputs;
  expect(Object.values(outputs).map((v) => JSON.parse(String(v)).status).sort()).toEqual(['fail', 'success', 'success', 'success', 'success']);
  expect(h.events.filter((e) => e.action === 'ASSERT').map((e) => e.status).sort()).toEqual(['FAILED', 'PASSED', 'PASSED', 'PASSED', 'PASSED']);
  expect(h.local.requestLog.count('GetEnvironment')).toBeGreaterThanOrEqual(4);
});

test('integ.assertions.expect compares a flattened response attribute (AssertEquals): PASSED, or FAILED with the mismatch', async () => {
  const assembly = synthesize((app) => integApp(app, (integ, environment) => {
    const call = integ.assertions.awsApiCall('Proton', 'getEnvironment', { name: environment.environmentName });
    integ.assertions.expect('NameIsProd', ExpectedResult.exact('prod'), ActualResult.fromAwsApiCall(call, 'environment.name'));
    integ.assertions.expect('NameIsStaging', ExpectedResult.exact('staging'), ActualResult.fromAwsApiCall(call, 'environment.name'));
  }));

  const outcome = assertionStackOutcome(await h.engine().deploy(assembly));

  const verdicts = (outcome.assertions ?? []).map((a) => [a.resourceType, a.status, a.message]);
  expect(verdicts).toEqual(expect.arrayContaining([
    ['Custom::DeployAssert@AssertEquals', 'PASSED', undefined],
    ['Custom::DeployAssert@AssertEquals', 'FAILED', expect.stringMatching(/Expected staging but received prod/)],
  ]));
  expect(verdicts).toHaveLength(2);
});

test('a Proton call that fails fails its resource, and the stack rolls back', async () => {
  const assembly = synthesize((app) => integApp(app, (integ) => {
    integ.assertions.awsApiCall('Proton', 'getEnvironment', { name: 'no-such-environment' })
      .expect(ExpectedResult.objectLike({ environment: { name: 'no-such-environment' } }));
  }));

  await expect(h.engine().deploy(assembly)).rejects.toThrow(/AwsApiCallProtongetEnvironment\w+ \(Custom::DeployAssert@SdkCallProtongetEnvironment\) CREATE failed: ResourceNotFoundException/);
});

test('waitForAssertions repeats the call at the waiter interval until the expectation matches, then times out FAILED', async () => {
  const assembly = synthesize((app) => integApp(app, (integ, environment) => {
    integ.assertions.awsApiCall('Proton', 'getEnvironment', { name: environment.environmentName })
      .assertAtPath('environment.deploymentStatus', ExpectedResult.exact('SUCCEEDED'))
      .waitForAssertions();
  }));
  const outcome = assertionStackOutcome(await h.engine().deploy(assembly));
  expect(outcome.assertions).toEqual([expect.objectContaining({ status: 'PASSED' })]);

  // An expectation that never holds: the waiter's attempts (360 at 5 s; here at the 10 ms poll interval) run out.
  const never = synthesize((app) => integApp(app, (integ, environment) => {
    integ.assertions.awsApiCall('Proton', 'getEnvironment', { name: environment.environmentName })
      .assertAtPath('environment.deploymentStatus', ExpectedResult.exact('DELETE_FAILED'))
      .waitForAssertions();
  }));
  const before = h.local.requestLog.count('GetEnvironment');
  await expect(h.engine().deploy(never)).rejects.toThrow(/Operation timed out after 360 attempts of waitForAssertions: .*Expected DELETE_FAILED but received SUCCEEDED/s);
  expect(h.local.requestLog.count('GetEnvironment') - before).toBeGreaterThanOrEqual(360);
});

test('what proton-local cannot answer is NOT_RUN, never passed: HTTP calls, other services, calls that read made-up resources', async () => {
  const assembly = synthesize((app) => integApp(app, (integ, environment) => {
    integ.assertions.httpApiCall('https://example.com/health').expect(ExpectedResult.objectLike({ status: 200 }));
    integ.assertions.awsApiCall('S3', 'listBuckets', {}).expect(ExpectedResult.objectLike({ Buckets: [] }));
    // The made-up name of a role the engine does not create: in the test stack (through an export), and beside the call.
    const testRole = Stack.of(environment).node.findChild('ProtonRole') as iam.Role;
    integ.assertions.awsApiCall('Proton', 'getEnvironment', { name: testRole.roleName }).expect(ExpectedResult.objectLike({}));
    const passing = integ.assertions.awsApiCall('Proton', 'getEnvironment', { name: 'prod' }).expect(ExpectedResult.objectLike({ environment: { name: 'prod' } }));
    const localRole = new iam.Role(Stack.of(passing), 'LocalRole', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });
    integ.assertions.awsApiCall('Proton', 'listEnvironments', { environmentTemplates: [{ templateName: localRole.roleName }] }).expect(ExpectedResult.objectLike({}));
  }));

  const outcome = assertionStackOutcome(await h.engine().deploy(assembly));

  const byStatus = (status: string) => (outcome.assertions ?? []).filter((a) => a.status === status);
  expect(byStatus('PASSED')).toHaveLength(1);
  expect(byStatus('NOT_RUN').map((a) => a.message).sort()).toEqual([
    'an AWS API call to S3.listBuckets: proton-local answers the Proton API only',
    'an HTTP call is not run by proton-local deploy',
    expect.stringMatching(/^it reads LocalRole\w+ \(AWS::IAM::Role\), which proton-local deploy does not create/),
    expect.stringMatching(/^it reads Platform\/ProtonRole\w+ \(AWS::IAM::Role\), which proton-local deploy does not create/),
  ]);
  // Their AssertionResults outputs say so too: nothing reads as success.
  const statuses = Object.values(h.state.stack(outcome.stackName)!.outputs).map((v) => JSON.parse(String(v)).status);
  expect(statuses.sort()).toEqual(['not run', 'not run', 'not run', 'not run', 'success']);
  expect(h.events.filter((e) => e.status === 'NOT_RUN')).toHaveLength(4);
});

describe('proton-local deploy exit status', () => {
  let output: string[];
  let restore: () => void;
  beforeEach(() => {
    output = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((text) => { output.push(String(text)); return true; });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((text) => { output.push(String(text)); return true; });
    restore = () => { stdout.mockRestore(); stderr.mockRestore(); };
  });
  afterEach(() => restore());

  const deploy = (assembly: { directory: string }, ...flags: string[]) => runDeployCommand('deploy', [
    '--assembly', assembly.directory, '--endpoint', h.local.endpoint, '--state-dir', temporaryDirectory('cli-state'), '--poll-interval-ms', '10', ...flags,
  ]);

  test('a NOT_RUN assertion fails the deploy unless --allow-skipped; the output names it', async () => {
    const assembly = synthesize((app) => integApp(app, (integ) => {
      integ.assertions.httpApiCall('https://example.com/health').expect(ExpectedResult.objectLike({ status: 200 }));
      integ.assertions.awsApiCall('Proton', 'getEnvironment', { name: 'prod' }).expect(ExpectedResult.objectLike({ environment: { name: 'prod' } }));
    }));

    expect(await deploy(assembly)).toBe(1);
    const text = output.join('');
    expect(text).toMatch(/IntegDefaultTestDeployAssert\w+: CREATE_COMPLETE, assertions: 1 passed, 0 failed, 1 not run/);
    expect(text).toMatch(/NOT RUN HttpApiCall\w+: an HTTP call is not run by proton-local deploy/);
    expect(text).toMatch(/proton-local: assertions: 1 passed, 0 failed, 1 not run\. Not run by proton-local \(pass --allow-skipped to accept that\): HttpApiCall\w+\./);

    // The README shows this very output.
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const shown = /\*\*integ-tests-alpha assertions\.\*\*[^]*?```text\n([^]*?)```/.exec(readme)![1].trim().split('\n');
    const printed = text.split('\n');
    expect(shown.filter((line) => !printed.includes(line))).toEqual([]);

    output.length = 0;
    expect(await deploy(assembly, '--allow-skipped')).toBe(0);
    expect(output.join('')).toMatch(/NOT RUN HttpApiCall/);
  });

  test('a FAILED assertion fails the deploy, --allow-skipped or not', async () => {
    const assembly = synthesize((app) => integApp(app, (integ) => {
      integ.assertions.awsApiCall('Proton', 'getEnvironment', { name: 'prod' }).expect(ExpectedResult.objectLike({ environment: { name: 'staging' } }));
    }));

    expect(await deploy(assembly, '--allow-skipped')).toBe(1);
    expect(output.join('')).toMatch(/FAILED AwsApiCallProtongetEnvironment\w+: \{\n.*!!\s+Expected staging but received prod/s);
  });

  test('--allow-skipped is a deploy option only', async () => {
    expect(await runDeployCommand('destroy', ['--allow-skipped'])).toBe(2);
    expect(output.join('')).toContain('--allow-skipped applies to deploy only');
  });
});
