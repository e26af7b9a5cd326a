import {
  CancelComponentDeploymentCommand, CreateComponentCommand, CreateComponentCommandInput, DeleteComponentCommand, DeleteEnvironmentCommand,
  DeleteServiceCommand, GetComponentCommand, GetDeploymentCommand, ListComponentOutputsCommand, ListComponentProvisionedResourcesCommand,
  ListComponentsCommand,
  UpdateComponentCommand, UpdateServiceCommand, UpdateServiceInstanceCommand,
} from '@aws-sdk/client-proton';
import { sampleBundle } from './helpers';
import { COMPONENT_ROLE, serviceSpec, useWorkloads } from './workload-helpers';

const component = sampleBundle('component-templates/s3-bucket-component');
const TEMPLATE = { manifest: component['manifest.yaml'], templateFile: component['cloudformation.yaml'] };

describe('proton-local components', () => {
  const w = useWorkloads();
  const proton = () => w.env.proton;
  const getComponent = async (name = 'bucket') => (await proton().send(new GetComponentCommand({ name }))).component!;
  const create = (input: Partial<CreateComponentCommandInput> = {}) =>
    proton().send(new CreateComponentCommand({ name: 'bucket', ...TEMPLATE, ...input }));
  const attach = (serviceName: string, serviceInstanceName: string) =>
    proton().send(new UpdateComponentCommand({ name: 'bucket', deploymentType: 'CURRENT_VERSION', serviceName, serviceInstanceName }));

  beforeEach(async () => {
    await w.environmentTemplate('env');
    await w.environment('prod', 'env', { componentRoleArn: COMPONENT_ROLE });
    await w.environment('bare', 'env');
    await w.serviceTemplate('backend', { compatible: [{ templateName: 'env', majorVersion: '1' }], supportedComponentSources: ['DIRECTLY_DEFINED'], pipelineProvisioning: 'CUSTOMER_MANAGED' });
    await w.serviceTemplate('plain', { compatible: [{ templateName: 'env', majorVersion: '1' }], pipelineProvisioning: 'CUSTOMER_MANAGED' });
    await w.service('svc', 'backend', serviceSpec([{ name: 'one', environment: 'prod' }, { name: 'two', environment: 'prod' }], null), { withPipeline: false });
    await w.service('other', 'plain', serviceSpec([{ name: 'one', environment: 'prod' }], null), { withPipeline: false });
  });

  test('a component in an environment deploys: IN_PROGRESS, then SUCCEEDED, with a deployment record', async () => {
    const created = (await create({ environmentName: 'prod', clientToken: 'c-1' })).component!;
    expect(created).toMatchObject({ deploymentStatus: 'IN_PROGRESS', environmentName: 'prod', lastClientRequestToken: 'c-1' });
    expect(created.arn).toBe('arn:aws:proton:us-east-1:123456789012:component/bucket');
    w.advance();
    expect((await getComponent()).deploymentStatus).toBe('SUCCEEDED');
    expect((await proton().send(new ListComponentProvisionedResourcesCommand({ componentName: 'bucket' }))).provisionedResources).toHaveLength(1);
    const { deployment } = await proton().send(new GetDeploymentCommand({ id: created.lastAttemptedDeploymentId!, componentName: 'bucket' }));
    expect(deployment).toMatchObject({ targetResourceType: 'COMPONENT', targetState: { component: { templateFile: TEMPLATE.templateFile } } });
  });

  test('needs an environment with a componentRoleArn, or an instance whose template supports DIRECTLY_DEFINED', async () => {
    await expect(create({ environmentName: 'bare' }))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('componentRoleArn') });
    await expect(create()).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('environmentName is required') });
    await expect(create({ serviceName: 'svc' }))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('go together') });
    await expect(create({ serviceName: 'other', serviceInstanceName: 'one' }))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('DIRECTLY_DEFINED') });
    await expect(create({ environmentName: 'prod', manifest: 'infrastructure: [' }))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('manifest') });
    const attached = (await create({ serviceName: 'svc', serviceInstanceName: 'one', serviceSpec: 'proton: ServiceSpec\n' })).component!;
    expect(attached).toMatchObject({ environmentName: 'prod', serviceName: 'svc', serviceInstanceName: 'one' });
  });

  test('is idempotent by client token', async () => {
    const first = (await create({ environmentName: 'prod', clientToken: 't' })).component!;
    expect((await create({ environmentName: 'prod', clientToken: 't' })).component!.lastAttemptedDeploymentId).toBe(first.lastAttemptedDeploymentId);
    await expect(create({ environmentName: 'prod', clientToken: 't', description: 'other' }))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('IdempotentParameterMismatch') });
    await expect(create({ environmentName: 'prod', clientToken: 'u' })).rejects.toMatchObject({ name: 'ConflictException' });
  });

  test('an attached component blocks its deletion, its instance\'s removal, its service\'s and environment\'s deletion', async () => {
    await create({ serviceName: 'svc', serviceInstanceName: 'one' });
    w.advance();
    await expect(proton().send(new DeleteComponentCommand({ name: 'bucket' })))
      .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('detach it first') });
    await expect(proton().send(new UpdateServiceCommand({ name: 'svc', spec: serviceSpec([{ name: 'two', environment: 'prod' }], null) })))
      .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('component \'bucket\'') });
    await expect(proton().send(new DeleteServiceCommand({ name: 'svc' })))
      .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('component \'bucket\'') });
    await expect(proton().send(new DeleteEnvironmentCommand({ name: 'prod' })))
      .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('component \'bucket\'') });

    const detaching = (await attach('', '')).component!;
    expect(detaching).toMatchObject({ deploymentStatus: 'IN_PROGRESS' });
    expect(detaching.serviceName).toBeUndefined();
    w.advance();
    const deleting = (await proton().send(new DeleteComponentCommand({ name: 'bucket' }))).component!;
    expect(deleting.deploymentStatus).toBe('DELETE_IN_PROGRESS');
    expect((await proton().send(new DeleteComponentCommand({ name: 'bucket' }))).component!.deploymentStatus).toBe('DELETE_IN_PROGRESS');
    w.advance();
    await expect(getComponent()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await proton().send(new DeleteComponentCommand({ name: 'bucket' }))).component).toBeUndefined();
  });

  test('UpdateComponent: NONE changes the description only; busy component or instance conflicts', async () => {
    await create({ environmentName: 'prod' });
    await expect(attach('svc', 'one')).rejects.toMatchObject({ name: 'ConflictException' });
    w.advance();
    await expect(proton().send(new UpdateComponentCommand({ name: 'bucket', deploymentType: 'NONE', templateFile: 'Resources: {}' })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('templateFile need deploymentType CURRENT_VERSION') });
    const described = (await proton().send(new UpdateComponentCommand({ name: 'bucket', deploymentType: 'NONE', description: 'logs' }))).component!;
    expect(described).toMatchObject({ description: 'logs', deploymentStatus: 'SUCCEEDED' });

    await attach('svc', 'one');
    await expect(proton().send(new UpdateServiceInstanceCommand({ name: 'one', serviceName: 'svc', deploymentType: 'CURRENT_VERSION' })))
      .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('component \'bucket\'') });
    w.advance();
    await proton().send(new UpdateServiceInstanceCommand({ name: 'one', serviceName: 'svc', deploymentType: 'CURRENT_VERSION' }));
    await expect(proton().send(new UpdateComponentCommand({ name: 'bucket', deploymentType: 'CURRENT_VERSION' })))
      .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('svc/one') });
  });

  test('cancel restores the previous attachment; a deletion can fail on demand', async () => {
    await create({ environmentName: 'prod' });
    w.advance();
    await attach('svc', 'two');
    expect((await proton().send(new CancelComponentDeploymentCommand({ componentName: 'bucket' }))).component!.deploymentStatus).toBe('CANCELLING');
    w.advance();
    const cancelled = await getComponent();
    expect(cancelled.deploymentStatus).toBe('CANCELLED');
    expect(cancelled.serviceName).toBeUndefined();

    w.env.local.failDeploymentsFor('bucket');
    await proton().send(new DeleteComponentCommand({ name: 'bucket' }));
    w.advance();
    expect((await getComponent()).deploymentStatus).toBe('DELETE_FAILED');
  });

  test('ListComponents filters by environment, service and instance', async () => {
    await create({ name: 'a', environmentName: 'prod' });
    await create({ name: 'b', serviceName: 'svc', serviceInstanceName: 'two' });
    const all = await proton().send(new ListComponentsCommand({}));
    expect(all.components!.map(c => c.name)).toEqual(['a', 'b']);
    const onTwo = await proton().send(new ListComponentsCommand({ serviceName: 'svc', serviceInstanceName: 'two' }));
    expect(onTwo.components!.map(c => c.name)).toEqual(['b']);
    expect((await proton().send(new ListComponentsCommand({ environmentName: 'bare' }))).components).toEqual([]);
  });

  test('a deployment gives one output per output the template declares, from when it succeeds', async () => {
    const outputs = async (deploymentId?: string) =>
      (await proton().send(new ListComponentOutputsCommand({ componentName: 'bucket', deploymentId }))).outputs;
    const created = (await create({ environmentName: 'prod' })).component!;
    expect(await outputs()).toEqual([]);
    w.advance();
    // The rendered template's Outputs: a GetAtt Arn and a Ref of a managed policy (whose Ref is its ARN).
    expect(await outputs()).toEqual([
      { key: 'BucketName', valueString: expect.stringMatching(/^arn:aws:s3:.*S3Bucket/) },
      { key: 'BucketAccessPolicyArn', valueString: expect.stringMatching(/^arn:aws:iam::\d{12}:policy\//) },
    ]);

    await proton().send(new UpdateComponentCommand({
      name: 'bucket', deploymentType: 'CURRENT_VERSION', templateFile: 'Resources: {}\nOutputs:\n  Name:\n    Value: "{{ environment.name }}"\n',
    }));
    w.advance();
    expect(await outputs()).toEqual([{ key: 'Name', valueString: 'prod' }]);
    expect(await outputs(created.lastAttemptedDeploymentId)).toHaveLength(2);
  });
});
