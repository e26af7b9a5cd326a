/**
 * The service handler's lifecycle against proton-local, driven through the Provider framework's contract: the service,
 * its instances and its pipeline, and the account settings pipelines need.
 */
import {
  CreateRepositoryCommand, DeleteServiceTemplateVersionCommand, GetAccountSettingsCommand, GetServiceCommand, GetServiceInstanceCommand,
  ListTagsForResourceCommand, UpdateAccountSettingsCommand, UpdateServiceInstanceCommand, UpdateServicePipelineCommand,
} from '@aws-sdk/client-proton';
import { parse } from 'yaml';
import { failure, Properties, useHandlerWorkloads } from './workload-events';
import { ACCOUNT_SETTINGS_RESOURCE_TYPE, AccountSettingsProperties, ResourceTypes, ServiceProperties as P, SystemTags } from '../../src/private/properties';
import { CONNECTION_ARN, SERVICE_ROLE, serviceSpec } from '../local/workload-helpers';

const w = useHandlerWorkloads();

interface Instance {
  name: string;
  environment: string;
  spec?: object;
}

/** The properties of service 'web' on backend 1.0; a null pipeline leaves out the pipeline and repository. */
function properties(instanceList: Instance[], pipeline: object | null = { dockerfile: 'Dockerfile' }, overrides: Properties = {}): Properties {
  return {
    [P.SERVICE_NAME]: 'web',
    [P.TEMPLATE_NAME]: 'backend',
    [P.TEMPLATE_MAJOR_VERSION]: '1',
    [P.TEMPLATE_MINOR_VERSION]: '0',
    [P.INSTANCES]: JSON.stringify(instanceList.map(i => ({ spec: {}, ...i }))),
    ...(pipeline ? {
      [P.PIPELINE_SPEC]: JSON.stringify(pipeline),
      [P.REPOSITORY_CONNECTION_ARN]: CONNECTION_ARN,
      [P.REPOSITORY_ID]: 'owner/repo',
      [P.BRANCH_NAME]: 'main',
    } : {}),
    ...overrides,
  };
}

const PROD = { name: 'web-prod', environment: 'prod', spec: { port: 80 } };
const BETA = { name: 'web-beta', environment: 'beta', spec: { port: 8080 } };

const event = (requestType: 'Create' | 'Update' | 'Delete', props: Properties, extra = {}) => w.event(ResourceTypes.SERVICE, requestType, props, extra);
const update = (oldProps: Properties, newProps: Properties) =>
  w.deploy(event('Update', newProps, { PhysicalResourceId: newProps[P.SERVICE_NAME], OldResourceProperties: oldProps }));

/** fargate 1.0 with environments prod and beta; backend 1.0 compatible with it; the account's pipeline role. */
async function platform(options: { pipeline?: boolean } = { pipeline: true }) {
  await w.environmentTemplate('fargate');
  await w.environment('prod', 'fargate');
  await w.environment('beta', 'fargate');
  await w.serviceTemplate('backend', {
    compatible: [{ templateName: 'fargate', majorVersion: '1' }],
    pipelineProvisioning: options.pipeline ? undefined : 'CUSTOMER_MANAGED',
  });
  if (options.pipeline) {
    await w.env.proton.send(new UpdateAccountSettingsCommand({ pipelineServiceRoleArn: SERVICE_ROLE }));
  }
}

async function created(props: Properties) {
  await platform();
  return w.deploy(event('Create', props));
}

async function getService() {
  return (await w.env.proton.send(new GetServiceCommand({ name: 'web' }))).service!;
}

async function getInstance(name: string) {
  return (await w.env.proton.send(new GetServiceInstanceCommand({ serviceName: 'web', name }))).serviceInstance!;
}

/** Each instance as `name@environment:major.minor:status {inputs}`, from the service spec and the instance records. */
async function instances() {
  const spec = parse((await getService()).spec!);
  return Promise.all(spec.instances.map(async (i: any) => {
    const instance = await getInstance(i.name);
    return `${i.name}@${i.environment}:${instance.templateMajorVersion}.${instance.templateMinorVersion}:${instance.deploymentStatus} ${JSON.stringify(i.spec)}`;
  }));
}

const mutations = () => ['CreateServiceInstance', 'UpdateService', 'UpdateServiceInstance', 'UpdateServicePipeline']
  .map(operation => `${operation}=${w.env.local.requestLog.count(operation, 'success')}`).join(' ');

describe('create', () => {
  test('creates the service with its instances and pipeline, and waits until all are deployed', async () => {
    const props = properties([PROD, BETA], { dockerfile: 'Dockerfile' }, {
      [P.OUTPUT_KEYS]: JSON.stringify(['Instances.web-prod.Outputs.BackendURL', 'Instances.web-beta.Outputs.BackendURL', 'Pipeline.Outputs.PipelineEndpoint']),
    });
    const result = await created(props);
    // backend-fargate-svc's BackendURL is "<instance>.<service>.<environment>.local:<port>".
    expect(result).toEqual({
      PhysicalResourceId: 'web',
      Data: {
        'Instances.web-prod.Outputs.BackendURL': 'web-prod.web.prod.local:80',
        'Instances.web-beta.Outputs.BackendURL': 'web-beta.web.beta.local:8080',
        'Pipeline.Outputs.PipelineEndpoint': expect.stringMatching(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/codesuite\/codepipeline\/pipelines\//),
      },
    });
    const service = await getService();
    expect(service.status).toBe('ACTIVE');
    expect(service.pipeline?.deploymentStatus).toBe('SUCCEEDED');
    expect(parse(service.spec!)).toEqual({
      proton: 'ServiceSpec',
      pipeline: { dockerfile: 'Dockerfile' },
      instances: [{ name: 'web-prod', environment: 'prod', spec: { port: 80 } }, { name: 'web-beta', environment: 'beta', spec: { port: 8080 } }],
    });
    expect(await instances()).toEqual([
      'web-prod@prod:1.0:SUCCEEDED {"port":80}',
      'web-beta@beta:1.0:SUCCEEDED {"port":8080}',
    ]);
  });

  test('a missing output names the outputs the instance has', async () => {
    const error = await failure(created(properties([PROD], undefined, { [P.OUTPUT_KEYS]: JSON.stringify(['Instances.web-prod.Outputs.Url']) })));
    expect(error.message).toMatch(/service instance 'web-prod' of service 'web' has no output 'Url' \(its outputs: BackendURL\)/);
  });

  test('a failed instance deployment fails the resource with Proton\'s message', async () => {
    w.env.local.failDeploymentsFor('web-beta');
    const error = await failure(created(properties([PROD, BETA])));
    expect(error.message).toMatch(/service 'web' is CREATE_FAILED: Service creation failed: instance 'web-beta' ended FAILED/);
    expect(error.physicalResourceId).toBe('web');
  });

  test('a service without a pipeline (CUSTOMER_MANAGED pipeline provisioning)', async () => {
    await platform({ pipeline: false });
    await w.deploy(event('Create', properties([PROD], null)));
    const service = await getService();
    expect(service.pipeline).toBeUndefined();
    expect(parse(service.spec!)).toEqual({ proton: 'ServiceSpec', instances: [{ name: 'web-prod', environment: 'prod', spec: { port: 80 } }] });
    const changed = properties([{ ...PROD, spec: { port: 81 } }], null);
    await update(properties([PROD], null), changed);
    expect(await instances()).toEqual(['web-prod@prod:1.0:SUCCEEDED {"port":81}']);
  });
});

describe('update', () => {
  test('an instance is added with CreateServiceInstance, and removed with UpdateService, which is waited for', async () => {
    const one = properties([PROD]);
    await created(one);
    const two = properties([PROD, BETA]);
    await update(one, two);
    expect(await instances()).toEqual(['web-prod@prod:1.0:SUCCEEDED {"port":80}', 'web-beta@beta:1.0:SUCCEEDED {"port":8080}']);
    const betaOnly = properties([BETA]);
    await update(two, betaOnly);
    expect(await instances()).toEqual(['web-beta@beta:1.0:SUCCEEDED {"port":8080}']);
    await expect(getInstance('web-prod')).rejects.toThrow(/does not exist/);
    expect(mutations()).toBe('CreateServiceInstance=1 UpdateService=1 UpdateServiceInstance=0 UpdateServicePipeline=0');
  });

  test('an instance spec change goes through UpdateServiceInstance with a deterministic client token', async () => {
    const before = properties([PROD, BETA]);
    await created(before);
    const after = properties([PROD, { ...BETA, spec: { port: 9090 } }]);
    await update(before, after);
    expect(await instances()).toEqual(['web-prod@prod:1.0:SUCCEEDED {"port":80}', 'web-beta@beta:1.0:SUCCEEDED {"port":9090}']);
    expect((await getInstance('web-beta')).lastClientRequestToken).toMatch(/^[0-9a-f]{64}$/);
    expect(mutations()).toBe('CreateServiceInstance=0 UpdateService=0 UpdateServiceInstance=1 UpdateServicePipeline=0');
  });

  test('a pipeline spec change goes through UpdateServicePipeline', async () => {
    const before = properties([PROD]);
    await created(before);
    await update(before, properties([PROD], { dockerfile: 'Dockerfile.prod' }));
    const service = await getService();
    expect(parse(service.spec!).pipeline).toEqual({ dockerfile: 'Dockerfile.prod' });
    expect(service.pipeline?.deploymentStatus).toBe('SUCCEEDED');
    expect(mutations()).toBe('CreateServiceInstance=0 UpdateService=0 UpdateServiceInstance=0 UpdateServicePipeline=1');
  });

  test('several changes in one update are applied one call at a time, each once; a re-delivered event changes nothing', async () => {
    const before = properties([PROD]);
    await created(before);
    const after = properties([{ ...PROD, spec: { port: 81 } }, BETA], { dockerfile: 'Dockerfile.v2' });
    const changes = event('Update', after, { PhysicalResourceId: 'web', OldResourceProperties: before });
    await w.deploy(changes);
    expect(await instances()).toEqual(['web-prod@prod:1.0:SUCCEEDED {"port":81}', 'web-beta@beta:1.0:SUCCEEDED {"port":8080}']);
    expect(parse((await getService()).spec!).pipeline).toEqual({ dockerfile: 'Dockerfile.v2' });
    expect(mutations()).toBe('CreateServiceInstance=1 UpdateService=0 UpdateServiceInstance=1 UpdateServicePipeline=1');
    await w.deploy(changes);
    expect(mutations()).toBe('CreateServiceInstance=1 UpdateService=0 UpdateServiceInstance=1 UpdateServicePipeline=1');
  });

  test('a new minor moves every instance and the pipeline; a rollback moves them back down', async () => {
    const v10 = properties([PROD, BETA]);
    await created(v10);
    await w.serviceTemplate('backend', { compatible: [{ templateName: 'fargate', majorVersion: '1' }], majorVersion: '1' });
    const v11 = properties([PROD, BETA], undefined, { [P.TEMPLATE_MINOR_VERSION]: '1' });
    await update(v10, v11);
    expect(await instances()).toEqual(['web-prod@prod:1.1:SUCCEEDED {"port":80}', 'web-beta@beta:1.1:SUCCEEDED {"port":8080}']);
    expect((await getService()).pipeline).toMatchObject({ templateMajorVersion: '1', templateMinorVersion: '1' });
    await update(v11, v10);
    expect(await instances()).toEqual(['web-prod@prod:1.0:SUCCEEDED {"port":80}', 'web-beta@beta:1.0:SUCCEEDED {"port":8080}']);
    expect((await getService()).pipeline).toMatchObject({ templateMajorVersion: '1', templateMinorVersion: '0' });
  });

  test('an instance added after an upgrade, once the old version is deleted, runs the service\'s new version', async () => {
    const v10 = properties([PROD]);
    await created(v10);
    await w.serviceTemplate('backend', { compatible: [{ templateName: 'fargate', majorVersion: '1' }], majorVersion: '1' });
    const v11 = properties([PROD], undefined, { [P.TEMPLATE_MINOR_VERSION]: '1' });
    await update(v10, v11);
    await w.env.proton.send(new DeleteServiceTemplateVersionCommand({ templateName: 'backend', majorVersion: '1', minorVersion: '0' }));
    await update(v11, properties([PROD, BETA], undefined, { [P.TEMPLATE_MINOR_VERSION]: '1' }));
    expect(await instances()).toEqual(['web-prod@prod:1.1:SUCCEEDED {"port":80}', 'web-beta@beta:1.1:SUCCEEDED {"port":8080}']);
  });

  test('the same Create delivered twice creates one service', async () => {
    await platform();
    const first = event('Create', properties([PROD]));
    await w.deploy(first);
    await w.deploy(first);
    expect(await instances()).toEqual(['web-prod@prod:1.0:SUCCEEDED {"port":80}']);
    // The second delivery finds the service it owns (tag cdk-proton:owner) and creates nothing.
    expect(w.env.local.requestLog.count('CreateService')).toBe(1);
    expect(mutations()).toBe('CreateServiceInstance=0 UpdateService=0 UpdateServiceInstance=0 UpdateServicePipeline=0');
  });

  test('a service another resource owns fails at create, naming the owner; one made outside needs adoptExisting', async () => {
    await created(properties([PROD]));
    const error = await failure(w.deploy(event('Create', properties([PROD]), { LogicalResourceId: 'OtherService' })));
    expect(error.message).toMatch(/service 'web' already exists and belongs to workloads\/Workload/);

    await w.service('outside', 'backend', serviceSpec([{ name: 'o-prod', environment: 'prod' }]));
    const outside = properties([{ name: 'o-prod', environment: 'prod', spec: {} }], undefined, { [P.SERVICE_NAME]: 'outside' });
    const refused = await failure(w.deploy(event('Create', outside, { LogicalResourceId: 'Outside' })));
    expect(refused.message).toMatch(/service 'outside' already exists in Proton and was not created by this stack: .*adoptExisting: true/);
    const adopted = await w.deploy(event('Create', { ...outside, [P.ADOPT_EXISTING]: 'true' }, { LogicalResourceId: 'Outside' }));
    expect(adopted.PhysicalResourceId).toBe('outside');
    const tags = (await w.env.proton.send(new ListTagsForResourceCommand({
      resourceArn: 'arn:aws:proton:us-east-1:123456789012:service/outside',
    }))).tags!;
    expect(tags).toContainEqual({ key: SystemTags.OWNER, value: 'workloads/Outside' });
  });

  test('an update that arrives while the pipeline deploys waits (ConflictException), then applies', async () => {
    const before = properties([PROD]);
    await created(before);
    await w.env.proton.send(new UpdateServicePipelineCommand({
      serviceName: 'web', deploymentType: 'CURRENT_VERSION', spec: 'proton: ServiceSpec\npipeline:\n  dockerfile: Dockerfile\n  service_dir: x\n',
    }));
    const after = properties([PROD, BETA], { dockerfile: 'Dockerfile', service_dir: 'x' });
    await update(before, after);
    expect(await instances()).toEqual(['web-prod@prod:1.0:SUCCEEDED {"port":80}', 'web-beta@beta:1.0:SUCCEEDED {"port":8080}']);
    expect(w.env.local.requestLog.count('CreateServiceInstance', 'ConflictException')).toBeGreaterThanOrEqual(1);
  });

  test('a failed instance update fails with Proton\'s message, and the rollback restores the old spec', async () => {
    const before = properties([PROD]);
    await created(before);
    w.env.local.failDeploymentsFor('web-prod');
    const after = properties([{ ...PROD, spec: { port: 81 } }]);
    const error = await failure(update(before, after));
    expect(error.message).toMatch(/service instance 'web-prod' of service 'web' failed to deploy: Deployment of service instance 'web-prod' failed on demand/);
    w.env.local.settings.failDeploymentsFor.delete('web-prod');
    await update(after, before);
    expect(await instances()).toEqual(['web-prod@prod:1.0:SUCCEEDED {"port":80}']);
  });

  test('an added instance that fails to deploy fails the update with Proton\'s message; the rollback removes it', async () => {
    const one = properties([PROD]);
    await created(one);
    w.env.local.failDeploymentsFor('web-beta');
    const two = properties([PROD, BETA]);
    const error = await failure(update(one, two));
    expect(error.message).toMatch(/service instance 'web-beta' of service 'web' failed to deploy: Deployment of service instance 'web-beta' failed on demand/);
    w.env.local.settings.failDeploymentsFor.delete('web-beta');
    await update(two, one);
    expect(await instances()).toEqual(['web-prod@prod:1.0:SUCCEEDED {"port":80}']);
  });

  test('a new name replaces the service; CloudFormation then deletes the old one', async () => {
    const before = properties([PROD]);
    await created(before);
    const after = properties([{ ...PROD, name: 'web2-prod' }], undefined, { [P.SERVICE_NAME]: 'web2' });
    const result = await w.deploy(event('Update', after, { PhysicalResourceId: 'web', OldResourceProperties: before }));
    expect(result.PhysicalResourceId).toBe('web2');
    expect((await w.env.proton.send(new GetServiceCommand({ name: 'web2' }))).service?.status).toBe('ACTIVE');
    await w.deploy(event('Delete', before, { PhysicalResourceId: 'web' }));
    await expect(getService()).rejects.toThrow(/does not exist/);
  });

  test('an instance can\'t move to another environment', async () => {
    const before = properties([PROD]);
    await created(before);
    const error = await failure(update(before, properties([{ ...PROD, environment: 'beta' }])));
    expect(error.message).toMatch(/service instance 'web-prod' of service 'web' runs in environment 'prod' and Proton can't move it to 'beta'/);
  });
});

describe('delete', () => {
  test('deletes the service with its instances and pipeline', async () => {
    await created(properties([PROD, BETA]));
    await w.deploy(event('Delete', properties([PROD, BETA]), { PhysicalResourceId: 'web' }));
    await expect(getService()).rejects.toThrow(/does not exist/);
  });

  test('a deployment in progress is cancelled first, then the service is deleted', async () => {
    await created(properties([PROD]));
    await w.env.proton.send(new UpdateServiceInstanceCommand({
      serviceName: 'web',
      name: 'web-prod',
      deploymentType: 'CURRENT_VERSION',
      spec: 'proton: ServiceSpec\ninstances:\n  - name: web-prod\n    environment: prod\n    spec:\n      port: 90\n',
    }));
    await w.deploy(event('Delete', properties([PROD]), { PhysicalResourceId: 'web' }));
    await expect(getService()).rejects.toThrow(/does not exist/);
    expect(w.env.local.requestLog.count('CancelServiceInstanceDeployment', 'success')).toBe(1);
  });

  test('a service that is already gone counts as deleted', async () => {
    await w.deploy(event('Delete', properties([PROD]), { PhysicalResourceId: 'web' }));
    expect(w.env.local.requestLog.count('DeleteService')).toBe(0);
  });

  test('DELETE_FAILED fails the resource with Proton\'s message', async () => {
    await created(properties([PROD]));
    w.env.local.failDeploymentsFor('web-prod');
    const error = await failure(w.deploy(event('Delete', properties([PROD]), { PhysicalResourceId: 'web' })));
    expect(error.message).toMatch(/service 'web' failed to delete: Deleting instance 'web-prod' failed/);
  });
});

describe('account settings', () => {
  const settingsEvent = (requestType: 'Create' | 'Update' | 'Delete', props: Properties, extra = {}) =>
    w.event(ACCOUNT_SETTINGS_RESOURCE_TYPE, requestType, props, extra);
  const settings = async () => (await w.env.proton.send(new GetAccountSettingsCommand({}))).accountSettings!;
  const OTHER_ROLE = 'arn:aws:iam::123456789012:role/pipelines';

  test('takes over a pipeline role set to another value only with AdoptExisting, and restores it on delete', async () => {
    await w.env.proton.send(new UpdateAccountSettingsCommand({ pipelineServiceRoleArn: SERVICE_ROLE }));
    const refused = { [AccountSettingsProperties.PIPELINE_SERVICE_ROLE_ARN]: OTHER_ROLE };
    expect((await failure(w.deploy(settingsEvent('Create', refused)))).message).toMatch(/already set .*adoptExisting: true/);
    expect((await settings()).pipelineServiceRoleArn).toBe(SERVICE_ROLE);
    const props = { ...refused, [AccountSettingsProperties.ADOPT_EXISTING]: 'true' };
    const { PhysicalResourceId } = await w.deploy(settingsEvent('Create', props));
    expect((await settings()).pipelineServiceRoleArn).toBe(OTHER_ROLE);
    await w.deploy(settingsEvent('Delete', props, { PhysicalResourceId }));
    expect((await settings()).pipelineServiceRoleArn).toBe(SERVICE_ROLE);
  });

  test('an update that drops a setting restores it; delete clears what was not set before', async () => {
    await w.env.proton.send(new CreateRepositoryCommand({ provider: 'GITHUB', name: 'acme/pipelines', connectionArn: CONNECTION_ARN }));
    const all = {
      [AccountSettingsProperties.PIPELINE_SERVICE_ROLE_ARN]: OTHER_ROLE,
      [AccountSettingsProperties.PIPELINE_CODEBUILD_ROLE_ARN]: SERVICE_ROLE,
      [AccountSettingsProperties.PIPELINE_PROVISIONING_REPOSITORY]: JSON.stringify({ provider: 'GITHUB', name: 'acme/pipelines', branch: 'main' }),
    };
    const { PhysicalResourceId } = await w.deploy(settingsEvent('Create', all));
    expect(await settings()).toMatchObject({
      pipelineServiceRoleArn: OTHER_ROLE,
      pipelineCodebuildRoleArn: SERVICE_ROLE,
      pipelineProvisioningRepository: expect.objectContaining({ provider: 'GITHUB', name: 'acme/pipelines', branch: 'main' }),
    });
    const roleOnly = { [AccountSettingsProperties.PIPELINE_SERVICE_ROLE_ARN]: OTHER_ROLE };
    await w.deploy(settingsEvent('Update', roleOnly, { PhysicalResourceId, OldResourceProperties: all }));
    expect(await settings()).toMatchObject({ pipelineServiceRoleArn: OTHER_ROLE });
    expect((await settings()).pipelineCodebuildRoleArn ?? '').toBe('');
    expect((await settings()).pipelineProvisioningRepository).toBeUndefined();
    await w.deploy(settingsEvent('Delete', roleOnly, { PhysicalResourceId }));
    expect((await settings()).pipelineServiceRoleArn ?? '').toBe('');
  });

  test('a Delete after a failed Create changes nothing', async () => {
    await w.env.proton.send(new UpdateAccountSettingsCommand({ pipelineServiceRoleArn: SERVICE_ROLE }));
    await w.deploy(settingsEvent('Delete', { [AccountSettingsProperties.PIPELINE_SERVICE_ROLE_ARN]: OTHER_ROLE }, { PhysicalResourceId: 'request-0' }));
    expect((await settings()).pipelineServiceRoleArn).toBe(SERVICE_ROLE);
    expect(w.env.local.requestLog.count('UpdateAccountSettings')).toBe(1);
  });
});
