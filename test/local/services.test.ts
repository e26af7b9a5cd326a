import {
  CancelServiceInstanceDeploymentCommand, CancelServicePipelineDeploymentCommand, CreateServiceCommand, CreateServiceCommandInput,
  CreateServiceInstanceCommand, DeleteEnvironmentCommand, DeleteServiceCommand, DeleteServiceTemplateVersionCommand, GetServiceCommand,
  GetServiceInstanceCommand, ListDeploymentsCommand, ListServiceInstanceOutputsCommand, ListServiceInstanceProvisionedResourcesCommand,
  ListServiceInstancesCommand, ListServicePipelineOutputsCommand, ListServicesCommand, UpdateAccountSettingsCommand, UpdateServiceCommand,
  UpdateServiceInstanceCommand, UpdateServicePipelineCommand,
} from '@aws-sdk/client-proton';
import { parse } from 'yaml';
import { BACKEND_SVC, bundle, CONNECTION_ARN, SERVICE_ROLE, serviceSpec, useWorkloads } from './workload-helpers';

const REPOSITORY = { repositoryConnectionArn: CONNECTION_ARN, repositoryId: 'owner/repo', branchName: 'main' };

/** backend-fargate-svc whose pipeline also outputs its dockerfile input, so pipeline outputs follow the pipeline's spec. */
function passThroughPipeline() {
  const files = bundle(BACKEND_SVC);
  const template = 'pipeline_infrastructure/cloudformation.yaml';
  files[template] = files[template].trimEnd() + '\n  dockerfile:\n    Value: \'{{ pipeline.inputs.dockerfile }}\'\n';
  return files;
}

describe('proton-local services', () => {
  const w = useWorkloads();
  const proton = () => w.env.proton;
  const getService = async (name = 'svc') => (await proton().send(new GetServiceCommand({ name }))).service!;
  const getInstance = async (name: string, serviceName = 'svc') =>
    (await proton().send(new GetServiceInstanceCommand({ name, serviceName }))).serviceInstance!;
  const create = (input: Partial<CreateServiceCommandInput> = {}) => proton().send(new CreateServiceCommand({
    name: 'svc',
    templateName: 'backend',
    templateMajorVersion: '1',
    spec: serviceSpec([{ name: 'one', environment: 'prod' }]),
    ...REPOSITORY,
    ...input,
  }));

  beforeEach(async () => {
    await w.environmentTemplate('env');
    await w.environment('prod', 'env');
    await w.environment('staging', 'env');
    await w.serviceTemplate('backend', { compatible: [{ templateName: 'env', majorVersion: '1' }], files: passThroughPipeline() });
    await proton().send(new UpdateAccountSettingsCommand({ pipelineServiceRoleArn: SERVICE_ROLE }));
  });

  describe('create', () => {
    test('deploys every instance and the pipeline: CREATE_IN_PROGRESS, then ACTIVE', async () => {
      const created = (await create({ spec: serviceSpec([{ name: 'one', environment: 'prod', spec: { port: 8080 } }, { name: 'two', environment: 'staging' }]) })).service!;
      expect(created).toMatchObject({ status: 'CREATE_IN_PROGRESS', pipeline: { deploymentStatus: 'IN_PROGRESS' }, ...REPOSITORY });
      expect((await getInstance('one')).deploymentStatus).toBe('IN_PROGRESS');
      w.advance();

      const service = await getService();
      expect(service).toMatchObject({ status: 'ACTIVE', pipeline: { deploymentStatus: 'SUCCEEDED', templateMajorVersion: '1', templateMinorVersion: '0' } });
      const one = await getInstance('one');
      expect(one).toMatchObject({ deploymentStatus: 'SUCCEEDED', environmentName: 'prod', serviceName: 'svc', templateName: 'backend' });
      expect(one.arn).toBe('arn:aws:proton:us-east-1:123456789012:service/svc/service-instance/one');
      expect(parse(one.spec!)).toEqual({
        proton: 'ServiceSpec',
        pipeline: {},
        instances: [{ name: 'one', environment: 'prod', spec: { port: 8080 } }, { name: 'two', environment: 'staging', spec: {} }],
      });
      // backend-fargate-svc's one output, BackendURL: "{{service_instance.name}}.{{service.name}}.{{environment.name}}.local:{{port}}".
      const outputsOf = async (serviceInstanceName: string) =>
        (await proton().send(new ListServiceInstanceOutputsCommand({ serviceName: 'svc', serviceInstanceName }))).outputs;
      expect(await outputsOf('one')).toEqual([{ key: 'BackendURL', valueString: 'one.svc.prod.local:8080' }]);
      expect(await outputsOf('two')).toEqual([{ key: 'BackendURL', valueString: 'two.svc.staging.local:80' }]); // the default port
      const pipelineOutputs = await proton().send(new ListServicePipelineOutputsCommand({ serviceName: 'svc' }));
      expect(pipelineOutputs.outputs).toEqual([
        { key: 'PipelineEndpoint', valueString: expect.stringMatching(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/codesuite\/codepipeline\/pipelines\/AWSProton-svc-pipeline-Pipeline-[0-9a-f]{12}\/view\?region=us-east-1$/) },
        { key: 'dockerfile', valueString: 'Dockerfile' }, // the schema's default
      ]);
      const resources = await proton().send(new ListServiceInstanceProvisionedResourcesCommand({ serviceName: 'svc', serviceInstanceName: 'one' }));
      expect(resources.provisionedResources).toHaveLength(1);
    });

    test('fails on demand: a failing instance or a failing service (its pipeline) ends CREATE_FAILED', async () => {
      w.env.local.failDeploymentsFor('two');
      await create({ spec: serviceSpec([{ name: 'one', environment: 'prod' }, { name: 'two', environment: 'prod' }]) });
      w.advance();
      const service = await getService();
      expect(service.status).toBe('CREATE_FAILED');
      expect(service.statusMessage).toContain('instance \'two\'');
      expect((await getInstance('two')).deploymentStatus).toBe('FAILED');
      expect((await getInstance('one')).deploymentStatus).toBe('SUCCEEDED');

      w.env.local.failDeploymentsFor('svc2');
      await create({ name: 'svc2' });
      w.advance();
      expect(await getService('svc2')).toMatchObject({ status: 'CREATE_FAILED', pipeline: { deploymentStatus: 'FAILED' } });
    });

    test('repository parameters and the pipeline: section go with a pipeline, and only with one', async () => {
      await expect(create({ branchName: undefined }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('needs branchName') });
      await expect(create({ spec: serviceSpec([{ name: 'one', environment: 'prod' }], null) }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('pipeline: section') });
      await proton().send(new UpdateAccountSettingsCommand({ pipelineServiceRoleArn: '' }));
      await expect(create()).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('pipelineServiceRoleArn') });

      await w.serviceTemplate('no-pipeline', { compatible: [{ templateName: 'env', majorVersion: '1' }], pipelineProvisioning: 'CUSTOMER_MANAGED' });
      const withoutPipeline = { templateName: 'no-pipeline', spec: serviceSpec([{ name: 'one', environment: 'prod' }], null) };
      await expect(create({ ...withoutPipeline }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('omit repositoryConnectionArn, repositoryId, branchName') });
      await expect(create({ ...withoutPipeline, ...{ repositoryConnectionArn: undefined, repositoryId: undefined, branchName: undefined }, spec: serviceSpec([{ name: 'one', environment: 'prod' }]) }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('remove the pipeline: section') });
      const noRepository = { repositoryConnectionArn: undefined, repositoryId: undefined, branchName: undefined };
      const service = (await create({ ...withoutPipeline, ...noRepository })).service!;
      expect(service.pipeline).toBeUndefined();
      w.advance();
      expect((await getService()).status).toBe('ACTIVE');
    });

    test('instances: environments must exist and be compatible, inputs must match, 1 to 20 of them', async () => {
      await expect(create({ spec: serviceSpec([{ name: 'one', environment: 'nowhere' }]) }))
        .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('nowhere') });
      await w.environmentTemplate('other');
      await w.environment('elsewhere', 'other');
      await expect(create({ spec: serviceSpec([{ name: 'one', environment: 'elsewhere' }]) }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('other:1') });
      await expect(create({ spec: serviceSpec([{ name: 'one', environment: 'prod', spec: { port: 70000 } }]) }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/instance 'one'.*input "port".*70000/) });
      await expect(create({ spec: serviceSpec([]) }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('at least 1 instance') });
      await expect(create({ spec: serviceSpec([{ name: 'one', environment: 'prod' }, { name: 'one', environment: 'prod' }]) }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('more than once') });
      const many = Array.from({ length: 21 }, (_, i) => ({ name: `i${i}`, environment: 'prod' }));
      await expect(create({ spec: serviceSpec(many) })).rejects.toMatchObject({ name: 'ServiceQuotaExceededException' });
      await expect(create({ spec: serviceSpec([{ name: 'one', environment: 'prod' }], { dockerfile: 7 }) }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/pipeline.*input "dockerfile"/) });
    });

    test('is idempotent by name: same input returns it, different input mismatches, a modified one conflicts', async () => {
      const first = (await create()).service!;
      expect((await create()).service!.createdAt).toEqual(first.createdAt);
      await expect(create({ description: 'x' }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Idempotent parameter mismatch') });
      w.advance();
      await proton().send(new UpdateServiceCommand({ name: 'svc', description: 'changed' }));
      await expect(create()).rejects.toMatchObject({ name: 'ConflictException' });
    });
  });

  describe('UpdateService', () => {
    beforeEach(async () => {
      await create();
      w.advance();
    });
    const update = (instances: Array<{ name: string; environment: string; spec?: object }>, pipeline: object = {}) =>
      proton().send(new UpdateServiceCommand({ name: 'svc', spec: serviceSpec(instances, pipeline) }));

    test('adds and removes instances (UPDATE_IN_PROGRESS, then ACTIVE)', async () => {
      const adding = (await update([{ name: 'one', environment: 'prod' }, { name: 'two', environment: 'staging' }])).service!;
      expect(adding.status).toBe('UPDATE_IN_PROGRESS');
      await expect(update([{ name: 'one', environment: 'prod' }])).rejects.toMatchObject({ name: 'ConflictException' });
      w.advance();
      expect((await getService()).status).toBe('ACTIVE');
      expect((await getInstance('two')).deploymentStatus).toBe('SUCCEEDED');

      const removing = (await update([{ name: 'two', environment: 'staging' }])).service!;
      expect(removing.status).toBe('UPDATE_IN_PROGRESS');
      expect((await getInstance('one')).deploymentStatus).toBe('DELETE_IN_PROGRESS');
      expect(parse(removing.spec!).instances.map((i: any) => i.name)).toEqual(['two']);
      w.advance();
      expect((await getService()).status).toBe('ACTIVE');
      await expect(getInstance('one')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    });

    test('can\'t change existing instances or the pipeline, nor remove every instance; ${Proton::CURRENT_VAL} keeps values', async () => {
      await expect(update([{ name: 'one', environment: 'prod', spec: { port: 81 } }]))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('UpdateServiceInstance') });
      await expect(update([{ name: 'one', environment: 'staging' }]))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('existing instance \'one\'') });
      await expect(update([{ name: 'one', environment: 'prod' }], { dockerfile: 'Other' }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('UpdateServicePipeline') });
      await expect(update([])).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('at least 1 instance') });
      await update([{ name: 'one', environment: 'prod' }, { name: 'two', environment: 'prod', spec: { port: 81 } }]);
      w.advance();
      const kept = await update([
        { name: 'one', environment: 'prod' },
        { name: 'two', environment: 'prod', spec: { port: '${Proton::CURRENT_VAL}' } },
        { name: 'three', environment: 'prod' },
      ]);
      expect(kept.service!.status).toBe('UPDATE_IN_PROGRESS');
    });

    test('a description-only update deploys nothing', async () => {
      const updated = (await proton().send(new UpdateServiceCommand({ name: 'svc', description: 'about' }))).service!;
      expect(updated).toMatchObject({ status: 'ACTIVE', description: 'about' });
    });

    test('a failed addition is rolled back (UPDATE_FAILED_CLEANUP_COMPLETE); a failed removal stays DELETE_FAILED', async () => {
      w.env.local.failDeploymentsFor('two');
      await update([{ name: 'one', environment: 'prod' }, { name: 'two', environment: 'prod' }]);
      w.advance();
      const rolledBack = await getService();
      expect(rolledBack.status).toBe('UPDATE_FAILED_CLEANUP_COMPLETE');
      expect(parse(rolledBack.spec!).instances.map((i: any) => i.name)).toEqual(['one']);
      await expect(getInstance('two')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

      await update([{ name: 'one', environment: 'prod' }, { name: 'three', environment: 'prod' }]);
      w.advance();
      w.env.local.failDeploymentsFor('one');
      await update([{ name: 'three', environment: 'prod' }]);
      w.advance();
      expect((await getService()).status).toBe('UPDATE_COMPLETE_CLEANUP_FAILED');
      expect((await getInstance('one')).deploymentStatus).toBe('DELETE_FAILED');
    });
  });

  describe('delete', () => {
    beforeEach(async () => {
      await create({ spec: serviceSpec([{ name: 'one', environment: 'prod' }, { name: 'two', environment: 'staging' }]) });
    });

    test('deletes instances and pipeline asynchronously; retries return it, then nothing', async () => {
      await expect(proton().send(new DeleteServiceCommand({ name: 'svc' }))).rejects.toMatchObject({ name: 'ConflictException' });
      w.advance();
      const deleting = (await proton().send(new DeleteServiceCommand({ name: 'svc' }))).service!;
      expect(deleting.status).toBe('DELETE_IN_PROGRESS');
      expect((await proton().send(new DeleteServiceCommand({ name: 'svc' }))).service!.status).toBe('DELETE_IN_PROGRESS');
      expect((await getInstance('one')).deploymentStatus).toBe('DELETE_IN_PROGRESS');
      w.advance();
      await expect(getService()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      expect((await proton().send(new DeleteServiceCommand({ name: 'svc' }))).service).toBeUndefined();
      await proton().send(new DeleteEnvironmentCommand({ name: 'prod' }));
    });

    test('fails on demand (DELETE_FAILED)', async () => {
      w.advance();
      w.env.local.failDeploymentsFor('two');
      await proton().send(new DeleteServiceCommand({ name: 'svc' }));
      w.advance();
      const service = await getService();
      expect(service.status).toBe('DELETE_FAILED');
      expect(service.statusMessage).toContain('instance \'two\'');
    });

    test('instances keep their environment and template version from being deleted', async () => {
      w.advance();
      await expect(proton().send(new DeleteEnvironmentCommand({ name: 'staging' })))
        .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('service instance \'svc/two\'') });
      await expect(proton().send(new DeleteServiceTemplateVersionCommand({ templateName: 'backend', majorVersion: '1', minorVersion: '0' })))
        .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('service instance \'svc/one\'') });
    });
  });

  describe('service instances', () => {
    beforeEach(async () => {
      await create();
      w.advance();
    });
    const instanceSpec = (name: string, spec: object = {}) => serviceSpec([{ name, environment: 'staging', spec }]);

    test('CreateServiceInstance is idempotent by client token and refuses an existing name', async () => {
      const input = { name: 'two', serviceName: 'svc', spec: instanceSpec('two'), clientToken: 'token-1' };
      const created = (await proton().send(new CreateServiceInstanceCommand(input))).serviceInstance!;
      expect(created).toMatchObject({ deploymentStatus: 'IN_PROGRESS', environmentName: 'staging', lastClientRequestToken: 'token-1' });
      const again = (await proton().send(new CreateServiceInstanceCommand(input))).serviceInstance!;
      expect(again.lastAttemptedDeploymentId).toBe(created.lastAttemptedDeploymentId);
      await expect(proton().send(new CreateServiceInstanceCommand({ ...input, spec: instanceSpec('two', { port: 1 }) })))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('IdempotentParameterMismatch') });
      await expect(proton().send(new CreateServiceInstanceCommand({ ...input, clientToken: 'token-2' })))
        .rejects.toMatchObject({ name: 'ConflictException' });
      await expect(proton().send(new CreateServiceInstanceCommand({ ...input, name: 'three', clientToken: 'token-3' })))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('instance \'three\'') });
      w.advance();
      expect((await getInstance('two')).deploymentStatus).toBe('SUCCEEDED');
    });

    test('UpdateServiceInstance follows the deploymentType rules and is refused while IN_PROGRESS', async () => {
      const update = (input: Partial<ConstructorParameters<typeof UpdateServiceInstanceCommand>[0]>) =>
        proton().send(new UpdateServiceInstanceCommand({ name: 'one', serviceName: 'svc', deploymentType: 'CURRENT_VERSION', ...input }));
      await expect(update({ templateMajorVersion: '1' })).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(update({ spec: serviceSpec([{ name: 'one', environment: 'staging' }]) }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('can\'t move') });
      const updated = (await update({ spec: serviceSpec([{ name: 'one', environment: 'prod', spec: { port: 81 } }]), clientToken: 'u-1' })).serviceInstance!;
      expect(updated).toMatchObject({ deploymentStatus: 'IN_PROGRESS', lastClientRequestToken: 'u-1' });
      const replayed = (await update({ spec: serviceSpec([{ name: 'one', environment: 'prod', spec: { port: 81 } }]), clientToken: 'u-1' })).serviceInstance!;
      expect(replayed.lastAttemptedDeploymentId).toBe(updated.lastAttemptedDeploymentId);
      await expect(update({ clientToken: 'u-2' })).rejects.toMatchObject({ name: 'ConflictException' });
      w.advance();
      await w.serviceTemplate('backend', { majorVersion: '1', compatible: [{ templateName: 'env', majorVersion: '1' }] });
      const moved = (await update({ deploymentType: 'MINOR_VERSION' })).serviceInstance!;
      expect(moved).toMatchObject({ templateMajorVersion: '1', templateMinorVersion: '1' });
      w.advance();
      const { outputs } = await proton().send(new ListServiceInstanceOutputsCommand({ serviceName: 'svc', serviceInstanceName: 'one' }));
      expect(outputs).toEqual([{ key: 'BackendURL', valueString: 'one.svc.prod.local:81' }]);
      // The pipeline still runs on 1.0.
      await expect(proton().send(new DeleteServiceTemplateVersionCommand({ templateName: 'backend', majorVersion: '1', minorVersion: '0' })))
        .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('the pipeline of service \'svc\'') });
    });

    test('cancelling an instance deployment restores its previous spec', async () => {
      const before = await getInstance('one');
      await proton().send(new UpdateServiceInstanceCommand({
        name: 'one', serviceName: 'svc', deploymentType: 'CURRENT_VERSION', spec: serviceSpec([{ name: 'one', environment: 'prod', spec: { port: 99 } }]),
      }));
      expect((await proton().send(new CancelServiceInstanceDeploymentCommand({ serviceName: 'svc', serviceInstanceName: 'one' })))
        .serviceInstance!.deploymentStatus).toBe('CANCELLING');
      w.advance();
      const cancelled = await getInstance('one');
      expect(cancelled).toMatchObject({ deploymentStatus: 'CANCELLED', spec: before.spec });
    });

    test('ListServiceInstances filters, sorts and paginates', async () => {
      await proton().send(new CreateServiceInstanceCommand({ name: 'two', serviceName: 'svc', spec: instanceSpec('two') }));
      await create({ name: 'alpha', spec: serviceSpec([{ name: 'zed', environment: 'prod' }]) });
      const all = await proton().send(new ListServiceInstancesCommand({}));
      expect(all.serviceInstances!.map(i => `${i.serviceName}/${i.name}`)).toEqual(['alpha/zed', 'svc/one', 'svc/two']);
      const byName = await proton().send(new ListServiceInstancesCommand({ sortBy: 'name', sortOrder: 'DESCENDING' }));
      expect(byName.serviceInstances!.map(i => i.name)).toEqual(['zed', 'two', 'one']);
      const inStaging = await proton().send(new ListServiceInstancesCommand({ filters: [{ key: 'environmentName', value: 'staging' }] }));
      expect(inStaging.serviceInstances!.map(i => i.name)).toEqual(['two']);
      const inProgress = await proton().send(new ListServiceInstancesCommand({ serviceName: 'svc', filters: [{ key: 'deploymentStatus', value: 'IN_PROGRESS' }] }));
      expect(inProgress.serviceInstances!.map(i => i.name)).toEqual(['two']);
      const created = (await getInstance('one')).createdAt!;
      const later = await proton().send(new ListServiceInstancesCommand({ filters: [{ key: 'createdAtAfter', value: created.toISOString() }] }));
      expect(later.serviceInstances!.map(i => i.name)).toEqual(['zed', 'two']);
      await expect(proton().send(new ListServiceInstancesCommand({ filters: [{ key: 'deployedTemplateVersionStatus', value: 'x' }] })))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('not supported by proton-local') });
      const page = await proton().send(new ListServiceInstancesCommand({ maxResults: 2 }));
      expect(page.serviceInstances).toHaveLength(2);
      const next = await proton().send(new ListServiceInstancesCommand({ maxResults: 2, nextToken: page.nextToken }));
      expect(next.serviceInstances!.map(i => i.name)).toEqual(['two']);
      expect((await proton().send(new ListServicesCommand({}))).services!.map(s => s.name)).toEqual(['alpha', 'svc']);
    });
  });

  describe('pipeline', () => {
    beforeEach(async () => {
      await create();
      w.advance();
    });

    test('UpdateServicePipeline deploys the pipeline: section; NONE deploys nothing; busy and cancel rules hold', async () => {
      const none = (await proton().send(new UpdateServicePipelineCommand({
        serviceName: 'svc', deploymentType: 'NONE', spec: serviceSpec([{ name: 'one', environment: 'prod' }], { dockerfile: 'X' }),
      }))).pipeline!;
      expect(none.deploymentStatus).toBe('SUCCEEDED');
      const updated = (await proton().send(new UpdateServicePipelineCommand({
        serviceName: 'svc', deploymentType: 'CURRENT_VERSION', spec: serviceSpec([{ name: 'one', environment: 'prod' }], { dockerfile: 'Dockerfile.prod' }),
      }))).pipeline!;
      expect(updated.deploymentStatus).toBe('IN_PROGRESS');
      await expect(proton().send(new UpdateServicePipelineCommand({ serviceName: 'svc', deploymentType: 'CURRENT_VERSION', spec: serviceSpec([]) })))
        .rejects.toMatchObject({ name: 'ConflictException' });
      await expect(proton().send(new UpdateServiceCommand({ name: 'svc', description: 'x' }))).rejects.toMatchObject({ name: 'ConflictException' });
      w.advance();
      expect((await getService()).pipeline!.deploymentStatus).toBe('SUCCEEDED');
      expect((await proton().send(new ListServicePipelineOutputsCommand({ serviceName: 'svc' }))).outputs)
        .toContainEqual({ key: 'dockerfile', valueString: 'Dockerfile.prod' });

      await proton().send(new UpdateServicePipelineCommand({
        serviceName: 'svc', deploymentType: 'CURRENT_VERSION', spec: serviceSpec([], { dockerfile: 'Dockerfile.next' }),
      }));
      await proton().send(new CancelServicePipelineDeploymentCommand({ serviceName: 'svc' }));
      w.advance();
      expect((await getService()).pipeline!.deploymentStatus).toBe('CANCELLED');
      expect((await proton().send(new ListServicePipelineOutputsCommand({ serviceName: 'svc' }))).outputs)
        .toContainEqual({ key: 'dockerfile', valueString: 'Dockerfile.prod' });
    });

    test('ListDeployments records every instance and pipeline deployment of a service', async () => {
      const { deployments } = await proton().send(new ListDeploymentsCommand({ serviceName: 'svc' }));
      expect(deployments!.map(d => d.targetResourceType).sort()).toEqual(['SERVICE_INSTANCE', 'SERVICE_PIPELINE']);
      expect(deployments!.every(d => d.deploymentStatus === 'SUCCEEDED' && d.completedAt instanceof Date)).toBe(true);
    });
  });
});
