/**
 * The environment handler's lifecycle against proton-local, driven through the Provider framework's contract.
 */
import {
  CreateEnvironmentTemplateVersionCommand, GetEnvironmentCommand, ListTagsForResourceCommand, TagResourceCommand, UpdateEnvironmentCommand,
  UpdateEnvironmentTemplateVersionCommand,
} from '@aws-sdk/client-proton';
import { parse } from 'yaml';
import { failure, Properties, useHandlerWorkloads } from './workload-events';
import { handler } from '../../lambda/proton.lambda';
import { EnvironmentProperties as P, ResourceTypes, SystemTags } from '../../src/private/properties';
import { bundle, DEPLOYMENT_DELAY_MS, FARGATE_ENV, REGISTRATION_DELAY_MS, SERVICE_ROLE, serviceSpec } from '../local/workload-helpers';

const w = useHandlerWorkloads();

const ENV_ARN = 'arn:aws:proton:us-east-1:123456789012:environment/prod';

function properties(overrides: Properties = {}, inputs: object = { vpc_cidr: '10.0.0.0/16' }): Properties {
  return {
    [P.ENVIRONMENT_NAME]: 'prod',
    [P.TEMPLATE_NAME]: 'fargate',
    [P.TEMPLATE_MAJOR_VERSION]: '1',
    [P.TEMPLATE_MINOR_VERSION]: '0',
    [P.SPEC]: JSON.stringify(inputs),
    [P.PROTON_SERVICE_ROLE_ARN]: SERVICE_ROLE,
    ...overrides,
  };
}

const event = (requestType: 'Create' | 'Update' | 'Delete', props: Properties, extra = {}) =>
  w.event(ResourceTypes.ENVIRONMENT, requestType, props, extra);

async function getEnvironment(name = 'prod') {
  return (await w.env.proton.send(new GetEnvironmentCommand({ name }))).environment!;
}

/** Creates 'prod' on fargate 1.0 through the handler. */
async function created(props: Properties = properties()) {
  await w.environmentTemplate('fargate');
  return w.deploy(event('Create', props));
}

const update = (oldProps: Properties, newProps: Properties) =>
  w.deploy(event('Update', newProps, { PhysicalResourceId: newProps[P.ENVIRONMENT_NAME], OldResourceProperties: oldProps }));

describe('create', () => {
  test('creates the environment with the YAML spec Proton expects and waits until it is deployed', async () => {
    const result = await created(properties({ [P.DESCRIPTION]: 'production' }));
    expect(result).toEqual({ PhysicalResourceId: 'prod', Data: {} });
    const environment = await getEnvironment();
    expect(environment).toMatchObject({
      deploymentStatus: 'SUCCEEDED',
      templateName: 'fargate',
      templateMajorVersion: '1',
      templateMinorVersion: '0',
      description: 'production',
      protonServiceRoleArn: SERVICE_ROLE,
    });
    expect(parse(environment.spec!)).toEqual({ proton: 'EnvironmentSpec', spec: { vpc_cidr: '10.0.0.0/16' } });
  });

  test('returns the outputs the app reads as Data', async () => {
    // fargate-env's SNSRegion output is !Ref AWS::Region, which proton-local renders as its region.
    const result = await created(properties({ [P.OUTPUT_KEYS]: JSON.stringify(['Outputs.SNSRegion']) }));
    expect(result.Data).toEqual({ 'Outputs.SNSRegion': 'us-east-1' });
  });

  test('a missing output fails the resource, naming the outputs there are', async () => {
    const error = await failure(created(properties({ [P.OUTPUT_KEYS]: JSON.stringify(['Outputs.VpcId']) })));
    expect(error.message).toMatch(/environment 'prod' has no output 'VpcId' \(its outputs: Cluster, ClusterArn, ServiceTaskDefExecutionRoleArn, /);
  });

  test('outputs that do not fit in CloudFormation\'s response fail the resource, naming their sizes', async () => {
    const files = bundle(FARGATE_ENV);
    const big = { type: 'string', default: 'x'.repeat(1000) };
    files['schema/schema.yaml'] = JSON.stringify({
      schema: { format: { openapi: '3.0.0' }, environment_input_type: 'Big', types: { Big: { type: 'object', properties: { a: big, b: big, c: big, d: big } } } },
    });
    // Each output passes its input through.
    files['infrastructure/cloudformation.yaml'] = `Resources: {}\nOutputs:\n${['a', 'b', 'c', 'd']
      .map(key => `  ${key}:\n    Value: "{{ environment.inputs.${key} }}"\n`).join('')}`;
    await w.environmentTemplate('big', { files });
    const props = properties({
      [P.TEMPLATE_NAME]: 'big',
      [P.OUTPUT_KEYS]: JSON.stringify(['Outputs.a', 'Outputs.b', 'Outputs.c', 'Outputs.d']),
    }, {});
    const error = await failure(w.deploy(event('Create', props)));
    expect(error.message).toMatch(/the outputs the app reads take \d+ bytes, more than the 3500 that fit in a CloudFormation custom resource response: Outputs.a \(1000 bytes\)/);
  });

  test('an environment of a CUSTOMER_MANAGED template registers the external stack\'s outputs', async () => {
    const schema = {
      schema: {
        format: { openapi: '3.0.0' },
        environment_input_type: 'Outputs',
        types: { Outputs: { type: 'object', properties: { VpcId: { type: 'string' } }, required: ['VpcId'] } },
      },
    };
    await w.environmentTemplate('imported', { provisioning: 'CUSTOMER_MANAGED', files: { 'schema/schema.yaml': JSON.stringify(schema) } });
    const props = {
      [P.ENVIRONMENT_NAME]: 'prod',
      [P.TEMPLATE_NAME]: 'imported',
      [P.TEMPLATE_MAJOR_VERSION]: '1',
      [P.TEMPLATE_MINOR_VERSION]: '0',
      [P.SPEC]: JSON.stringify({ VpcId: 'vpc-0123' }),
      [P.OUTPUT_KEYS]: JSON.stringify(['Outputs.VpcId']),
    };
    const result = await w.deploy(event('Create', props));
    expect(result.Data).toEqual({ 'Outputs.VpcId': 'vpc-0123' });
    expect(await getEnvironment()).toMatchObject({ provisioning: 'CUSTOMER_MANAGED', deploymentStatus: 'SUCCEEDED' });
  });

  test('a spec longer than Proton accepts fails before anything is created', async () => {
    const files = bundle(FARGATE_ENV);
    files['schema/schema.yaml'] = JSON.stringify({
      schema: { format: { openapi: '3.0.0' }, environment_input_type: 'Free', types: { Free: { type: 'object', properties: { text: { type: 'string' } } } } },
    });
    await w.environmentTemplate('free', { files });
    const error = await failure(w.deploy(event('Create', properties({ [P.TEMPLATE_NAME]: 'free' }, { text: 'x'.repeat(60_000) }))));
    expect(error.message).toMatch(/the EnvironmentSpec is 600\d\d characters long as YAML; Proton accepts at most 51200/);
    expect(w.env.local.requestLog.count('CreateEnvironment')).toBe(0);
  });

  test('a failed deployment fails the resource with Proton\'s message', async () => {
    w.env.local.failDeploymentsFor('prod');
    const error = await failure(created());
    expect(error.message).toMatch(/environment 'prod' failed to deploy: Deployment of environment 'prod' failed on demand/);
    expect(error.physicalResourceId).toBe('prod');
  });

  test('the same Create delivered twice creates one environment and deploys it once', async () => {
    await w.environmentTemplate('fargate');
    const first = event('Create', properties());
    await w.deploy(first);
    const deploymentId = (await getEnvironment()).lastAttemptedDeploymentId;
    await w.deploy(first);
    expect((await getEnvironment()).lastAttemptedDeploymentId).toBe(deploymentId);
  });

  test('the environment is tagged with its owner: the stack and logical id', async () => {
    await created();
    const tags = (await w.env.proton.send(new ListTagsForResourceCommand({ resourceArn: ENV_ARN }))).tags!;
    expect(tags).toContainEqual({ key: SystemTags.OWNER, value: 'workloads/Workload' });
  });

  test('a name another resource owns fails, naming the owner, and changes nothing', async () => {
    await created();
    const deploymentId = (await getEnvironment()).lastAttemptedDeploymentId;
    const error = await failure(w.deploy(event('Create', properties({}, { vpc_cidr: '10.9.0.0/16' }), { LogicalResourceId: 'OtherEnvironment' })));
    expect(error.message).toMatch(/environment 'prod' already exists and belongs to workloads\/Workload \(stack\/logical id, tag cdk-proton:owner\)/);
    const environment = await getEnvironment();
    expect(environment.lastAttemptedDeploymentId).toBe(deploymentId);
    expect(parse(environment.spec!).spec).toEqual({ vpc_cidr: '10.0.0.0/16' });
  });

  test('an environment made outside any stack fails unless adoptExisting, naming the way out', async () => {
    await w.environmentTemplate('fargate');
    await w.environment('prod', 'fargate');
    const error = await failure(w.deploy(event('Create', properties())));
    expect(error.message).toMatch(/environment 'prod' already exists in Proton and was not created by this stack: choose another name, or set adoptExisting: true/);
    expect(w.env.local.requestLog.count('TagResource')).toBe(0);
  });

  test('adoptExisting takes over an environment made outside any stack and brings it to the properties', async () => {
    await w.environmentTemplate('fargate');
    await w.environment('prod', 'fargate');
    const result = await w.deploy(event('Create', properties({ [P.ADOPT_EXISTING]: 'true' }, { vpc_cidr: '10.7.0.0/16' })));
    expect(result.PhysicalResourceId).toBe('prod');
    const environment = await getEnvironment();
    expect(parse(environment.spec!).spec).toEqual({ vpc_cidr: '10.7.0.0/16' });
    expect(environment.deploymentStatus).toBe('SUCCEEDED');
    const tags = (await w.env.proton.send(new ListTagsForResourceCommand({ resourceArn: ENV_ARN }))).tags!;
    expect(tags).toContainEqual({ key: SystemTags.OWNER, value: 'workloads/Workload' });
    expect(w.env.local.requestLog.count('CreateEnvironment', 'success')).toBe(1); // the one made outside
  });

  test('adoptExisting never takes over an environment another resource owns', async () => {
    await created();
    const error = await failure(w.deploy(event('Create', properties({ [P.ADOPT_EXISTING]: 'true' }), { LogicalResourceId: 'OtherEnvironment' })));
    expect(error.message).toMatch(/belongs to workloads\/Workload/);
  });
});

describe('template version by bundle hash', () => {
  const HASH_10 = '1'.repeat(64);
  const HASH_11 = '2'.repeat(64);
  const byHash = (hash: string, inputs?: object) => {
    const { [P.TEMPLATE_MINOR_VERSION]: _, ...rest } = properties({ [P.TEMPLATE_BUNDLE_HASH]: hash }, inputs);
    return rest;
  };
  const tagVersion = (minor: string, hash: string) => w.env.proton.send(new TagResourceCommand({
    resourceArn: `arn:aws:proton:us-east-1:123456789012:environment-template/fargate:1.${minor}`,
    tags: [{ key: SystemTags.BUNDLE_HASH, value: hash }],
  }));
  async function twoVersions() {
    await w.environmentTemplate('fargate');
    await w.environmentTemplate('fargate', { majorVersion: '1' });
    await tagVersion('0', HASH_10);
    await tagVersion('1', HASH_11);
  }

  test('the handler resolves the minor registered from the bundle: not the newest, the one with that hash', async () => {
    await twoVersions();
    await w.deploy(event('Create', byHash(HASH_10)));
    expect(await getEnvironment()).toMatchObject({ templateMajorVersion: '1', templateMinorVersion: '0', deploymentStatus: 'SUCCEEDED' });
  });

  test('a new bundle hash moves the environment to its version; the rollback, with the old hash, moves it back', async () => {
    await twoVersions();
    await w.deploy(event('Create', byHash(HASH_10)));
    await update(byHash(HASH_10), byHash(HASH_11));
    expect(await getEnvironment()).toMatchObject({ templateMinorVersion: '1', deploymentStatus: 'SUCCEEDED' });
    await update(byHash(HASH_11), byHash(HASH_10));
    expect(await getEnvironment()).toMatchObject({ templateMinorVersion: '0', deploymentStatus: 'SUCCEEDED' });
  });

  test('a hash no version has fails before anything is created, saying which stack to deploy first', async () => {
    await twoVersions();
    const error = await failure(w.deploy(event('Create', byHash('f'.repeat(64)))));
    expect(error.message).toMatch(/environment template 'fargate' version major 1 registered from bundle sha256:ffffffffffff does not exist: deploy the stack that defines that template version first/);
    expect(w.env.local.requestLog.count('CreateEnvironment')).toBe(0);
  });

  test('neither a minor nor a hash: the major\'s recommended minor', async () => {
    await twoVersions();
    const { [P.TEMPLATE_MINOR_VERSION]: _, ...recommended } = properties();
    await w.deploy(event('Create', recommended));
    expect(await getEnvironment()).toMatchObject({ templateMinorVersion: '1', deploymentStatus: 'SUCCEEDED' });
  });

  test('a version still registering defers the create to isComplete, which creates the environment once it is published', async () => {
    await w.environmentTemplate('fargate');
    const registering = await w.env.proton.send(new CreateEnvironmentTemplateVersionCommand({
      templateName: 'fargate',
      majorVersion: '1',
      source: await w.env.uploadBundle('templates', 'late.tar.gz', bundle(FARGATE_ENV)),
      tags: [{ key: SystemTags.BUNDLE_HASH, value: HASH_11 }],
    }));
    expect(registering.environmentTemplateVersion!.status).toBe('REGISTRATION_IN_PROGRESS');
    const request = event('Create', byHash(HASH_11));
    const response = await w.onEvent(request);
    // Carried: the deferred create, and when onEvent ended (isComplete's first poll waits a second after it).
    expect(response).toEqual({ PhysicalResourceId: 'prod', CdkProtonCarried: { CreateDeferred: 'true', StartedAt: expect.stringMatching(/^\d+$/) } });
    expect(w.env.local.requestLog.count('CreateEnvironment')).toBe(0);

    // The platform's version finishes registering and is published; the next polls create and deploy the environment.
    w.advance(REGISTRATION_DELAY_MS);
    await w.env.proton.send(new UpdateEnvironmentTemplateVersionCommand({ templateName: 'fargate', majorVersion: '1', minorVersion: '1', status: 'PUBLISHED' }));
    process.env.PROTON_HANDLER_PHASE = 'isComplete';
    let result: any = { IsComplete: false };
    for (let poll = 0; poll < 10 && !result.IsComplete; poll++) {
      result = await handler({ ...request, ...response } as any);
      w.advance(DEPLOYMENT_DELAY_MS / 4);
    }
    expect(result).toEqual({ IsComplete: true });
    expect(await getEnvironment()).toMatchObject({ templateMinorVersion: '1', deploymentStatus: 'SUCCEEDED' });
    expect(w.env.local.requestLog.count('CreateEnvironment', 'success')).toBe(1);
  });

  test('a version registered but never published (publish: false) fails with Proton\'s refusal', async () => {
    await w.environmentTemplate('fargate');
    await w.env.proton.send(new CreateEnvironmentTemplateVersionCommand({
      templateName: 'fargate',
      majorVersion: '1',
      source: await w.env.uploadBundle('templates', 'draft.tar.gz', bundle(FARGATE_ENV)),
      tags: [{ key: SystemTags.BUNDLE_HASH, value: HASH_11 }],
    }));
    w.advance(REGISTRATION_DELAY_MS);
    const error = await failure(w.deploy(event('Create', byHash(HASH_11))));
    expect(error.message).toMatch(/fargate:1\.1 is DRAFT: only a PUBLISHED version can be deployed/);
  });
});

describe('update', () => {
  test('a spec change redeploys the current version', async () => {
    const before = properties();
    await created(before);
    const after = properties({}, { vpc_cidr: '10.1.0.0/16' });
    await update(before, after);
    const environment = await getEnvironment();
    expect(parse(environment.spec!).spec).toEqual({ vpc_cidr: '10.1.0.0/16' });
    expect(environment).toMatchObject({ deploymentStatus: 'SUCCEEDED', templateMinorVersion: '0' });
    expect(w.env.local.requestLog.count('UpdateEnvironment', 'success')).toBe(1);
  });

  test('a new minor upgrades, and a rollback goes back down to the old minor', async () => {
    const v10 = properties();
    await created(v10);
    await w.environmentTemplate('fargate', { majorVersion: '1' });
    const v11 = properties({ [P.TEMPLATE_MINOR_VERSION]: '1' });
    await update(v10, v11);
    expect(await getEnvironment()).toMatchObject({ templateMajorVersion: '1', templateMinorVersion: '1', deploymentStatus: 'SUCCEEDED' });
    // CloudFormation rolls back by sending the old properties as the new ones.
    await update(v11, v10);
    expect(await getEnvironment()).toMatchObject({ templateMajorVersion: '1', templateMinorVersion: '0', deploymentStatus: 'SUCCEEDED' });
  });

  test('a new major upgrades; a major never goes down', async () => {
    const v1 = properties();
    await created(v1);
    await w.environmentTemplate('fargate');
    const v2 = properties({ [P.TEMPLATE_MAJOR_VERSION]: '2' });
    await update(v1, v2);
    expect(await getEnvironment()).toMatchObject({ templateMajorVersion: '2', templateMinorVersion: '0' });
    const error = await failure(update(v2, v1));
    expect(error.message).toMatch(/environment 'prod' runs template version 2.0 and can't move to 1.0: Proton never moves a resource to a lower major version/);
  });

  test('an update that arrives during a deployment waits for it, then applies', async () => {
    const before = properties();
    await created(before);
    await w.env.proton.send(new UpdateEnvironmentCommand({
      name: 'prod', deploymentType: 'CURRENT_VERSION', spec: 'proton: EnvironmentSpec\nspec:\n  vpc_cidr: 10.5.0.0/16\n',
    }));
    const after = properties({}, { vpc_cidr: '10.1.0.0/16' });
    await update(before, after);
    const environment = await getEnvironment();
    expect(parse(environment.spec!).spec).toEqual({ vpc_cidr: '10.1.0.0/16' });
    expect(environment.deploymentStatus).toBe('SUCCEEDED');
    // The other deployment, then this one: the handler waited instead of failing or deploying over it.
    expect(w.env.local.requestLog.count('UpdateEnvironment', 'success')).toBe(2);
  });

  test('a failed update fails the resource; the rollback redeploys the old spec', async () => {
    const before = properties();
    await created(before);
    const after = properties({}, { vpc_cidr: '10.1.0.0/16' });
    w.env.local.failDeploymentsFor('prod');
    const error = await failure(update(before, after));
    expect(error.message).toMatch(/environment 'prod' failed to deploy: Deployment of environment 'prod' failed on demand/);
    expect(parse((await getEnvironment()).spec!).spec).toEqual({ vpc_cidr: '10.1.0.0/16' });
    w.env.local.settings.failDeploymentsFor.delete('prod');
    await update(after, before);
    const environment = await getEnvironment();
    expect(parse(environment.spec!).spec).toEqual({ vpc_cidr: '10.0.0.0/16' });
    expect(environment.deploymentStatus).toBe('SUCCEEDED');
  });

  test('description and tags change without a deployment', async () => {
    const before = properties({ [P.TAGS]: JSON.stringify([{ key: 'team', value: 'a' }, { key: 'old', value: 'x' }]) });
    await created(before);
    const deploymentId = (await getEnvironment()).lastAttemptedDeploymentId;
    const after = properties({ [P.DESCRIPTION]: 'new words', [P.TAGS]: JSON.stringify([{ key: 'team', value: 'b' }]) });
    await update(before, after);
    const environment = await getEnvironment();
    expect(environment.description).toBe('new words');
    expect(environment.lastAttemptedDeploymentId).toBe(deploymentId);
    expect(w.env.local.requestLog.count('UpdateEnvironment', 'success')).toBe(1);
    const tags = (await w.env.proton.send(new ListTagsForResourceCommand({ resourceArn: ENV_ARN }))).tags!;
    // The user's tags follow the properties; the library's own owner tag stays.
    expect(tags.filter(t => !t.key!.startsWith('aws:'))).toEqual([{ key: SystemTags.OWNER, value: 'workloads/Workload' }, { key: 'team', value: 'b' }]);
  });

  test('a new name replaces the environment; CloudFormation then deletes the old one', async () => {
    const before = properties();
    await created(before);
    const after = properties({ [P.ENVIRONMENT_NAME]: 'prod2' });
    const result = await w.deploy(event('Update', after, { PhysicalResourceId: 'prod', OldResourceProperties: before }));
    expect(result.PhysicalResourceId).toBe('prod2');
    expect((await getEnvironment('prod2')).deploymentStatus).toBe('SUCCEEDED');
    await w.deploy(event('Delete', before, { PhysicalResourceId: 'prod' }));
    await expect(getEnvironment('prod')).rejects.toThrow(/does not exist/);
  });

  test('a new template under the same name is refused, naming the way out', async () => {
    const before = properties();
    await created(before);
    await w.environmentTemplate('other');
    const error = await failure(update(before, properties({ [P.TEMPLATE_NAME]: 'other' })));
    expect(error.message).toMatch(/environment 'prod' uses template 'fargate' and Proton can't move it to template 'other': give the environment a new name/);
  });
});

describe('delete', () => {
  test('deletes the environment and waits until it is gone', async () => {
    await created();
    await w.deploy(event('Delete', properties(), { PhysicalResourceId: 'prod' }));
    await expect(getEnvironment()).rejects.toThrow(/does not exist/);
  });

  test('an environment that is already gone counts as deleted', async () => {
    await w.deploy(event('Delete', properties(), { PhysicalResourceId: 'prod' }));
    expect(w.env.local.requestLog.count('DeleteEnvironment')).toBe(0);
  });

  test('a deployment in progress is cancelled first, then the environment is deleted', async () => {
    await created();
    await w.env.proton.send(new UpdateEnvironmentCommand({
      name: 'prod', deploymentType: 'CURRENT_VERSION', spec: 'proton: EnvironmentSpec\nspec:\n  vpc_cidr: 10.5.0.0/16\n',
    }));
    await w.deploy(event('Delete', properties(), { PhysicalResourceId: 'prod' }));
    await expect(getEnvironment()).rejects.toThrow(/does not exist/);
    expect(w.env.local.requestLog.count('CancelEnvironmentDeployment', 'success')).toBe(1);
    expect(w.env.local.requestLog.count('DeleteEnvironment', 'success')).toBeGreaterThanOrEqual(1);
  });

  test('an environment a service still runs in fails at once, naming the service instance', async () => {
    await created();
    await w.serviceTemplate('backend', { compatible: [{ templateName: 'fargate', majorVersion: '1' }], pipelineProvisioning: 'CUSTOMER_MANAGED' });
    await w.service('web', 'backend', serviceSpec([{ name: 'web-prod', environment: 'prod' }], null), { withPipeline: false });
    const error = await failure(w.deploy(event('Delete', properties(), { PhysicalResourceId: 'prod' })));
    expect(error.message).toMatch(/environment 'prod' can't be deleted: .*service instance 'web\/web-prod'/);
  });

  test('DELETE_FAILED fails the resource with Proton\'s message', async () => {
    await created();
    w.env.local.failDeploymentsFor('prod');
    const error = await failure(w.deploy(event('Delete', properties(), { PhysicalResourceId: 'prod' })));
    expect(error.message).toMatch(/environment 'prod' failed to delete: Deletion of environment 'prod' failed on demand/);
  });
});
