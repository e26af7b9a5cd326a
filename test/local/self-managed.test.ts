/**
 * Self-managed provisioning ("Self-managed provisioning", Proton User Guide): Proton renders the IaC into a pull
 * request of the environment's provisioningRepository and the deployment stays IN_PROGRESS until the customer's
 * automation reports it with NotifyResourceDeploymentStatusChange. proton-local waits the same way unless started
 * with autoCompleteSelfManaged.
 */
import {
  CancelEnvironmentDeploymentCommand, CreateEnvironmentCommand, CreateRepositoryCommand, DeleteEnvironmentCommand, GetDeploymentCommand,
  GetEnvironmentCommand, GetServiceCommand, GetServiceInstanceCommand, ListEnvironmentOutputsCommand, NotifyResourceDeploymentStatusChangeCommand,
  UpdateAccountSettingsCommand, UpdateEnvironmentCommand,
} from '@aws-sdk/client-proton';
import { CONNECTION_ARN, ENV_SPEC, serviceSpec, useWorkloads, WorkloadFixture } from './workload-helpers';

const REPOSITORY = { provider: 'GITHUB' as const, name: 'owner/infra' };
const ENV_ARN = 'arn:aws:proton:us-east-1:123456789012:environment/prod';
const LONG_AFTER = 60 * 60 * 1000;
/** The outputs the backend-fargate-svc sample's instance IaC reads from its environment. */
const BACKEND_ENV_OUTPUTS = ['CloudMapNamespaceId', 'Cluster', 'PrivateSubnet1', 'PrivateSubnet2', 'PublicSubnet1', 'PublicSubnet2', 'SNSRegion',
  'SNSTopicArn', 'ServiceTaskDefExecutionRoleArn', 'VPC'];

async function selfManagedEnvironment(w: WorkloadFixture) {
  await w.environmentTemplate('env');
  await w.env.proton.send(new CreateRepositoryCommand({ ...REPOSITORY, connectionArn: CONNECTION_ARN }));
  return (await w.env.proton.send(new CreateEnvironmentCommand({
    name: 'prod', templateName: 'env', templateMajorVersion: '1', spec: ENV_SPEC, provisioningRepository: { ...REPOSITORY, branch: 'main' },
  }))).environment!;
}

describe('proton-local self-managed provisioning (the default: waits for NotifyResourceDeploymentStatusChange)', () => {
  const w = useWorkloads();
  const proton = () => w.env.proton;
  const environment = async () => (await proton().send(new GetEnvironmentCommand({ name: 'prod' }))).environment!;
  const notify = (input: Omit<ConstructorParameters<typeof NotifyResourceDeploymentStatusChangeCommand>[0], 'resourceArn'>, resourceArn = ENV_ARN) =>
    proton().send(new NotifyResourceDeploymentStatusChangeCommand({ resourceArn, ...input }));

  test('the deployment stays IN_PROGRESS, however long, until notified', async () => {
    const created = await selfManagedEnvironment(w);
    w.advance(LONG_AFTER);
    expect((await environment()).deploymentStatus).toBe('IN_PROGRESS');
    const { deployment } = await proton().send(new GetDeploymentCommand({ id: created.lastAttemptedDeploymentId! }));
    expect(deployment).toMatchObject({ deploymentStatus: 'IN_PROGRESS' });
    expect(deployment!.completedAt).toBeUndefined();
    // An IN_PROGRESS report (a status message of the automation) keeps it running.
    await notify({ status: 'IN_PROGRESS', statusMessage: 'terraform plan' });
    w.advance(LONG_AFTER);
    expect((await environment()).deploymentStatus).toBe('IN_PROGRESS');
    // Nothing else can start meanwhile.
    await expect(proton().send(new UpdateEnvironmentCommand({ name: 'prod', deploymentType: 'CURRENT_VERSION' })))
      .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('IN_PROGRESS') });
  });

  test('SUCCEEDED with outputs: the outputs are the environment\'s (ListEnvironmentOutputs)', async () => {
    const created = await selfManagedEnvironment(w);
    // Until then, nothing was provisioned: no outputs.
    expect((await proton().send(new ListEnvironmentOutputsCommand({ environmentName: 'prod' }))).outputs).toEqual([]);
    const outputs = [{ key: 'VpcId', valueString: 'vpc-0123456789abcdef0' }, { key: 'ClusterName', valueString: 'prod-cluster' }];
    await notify({ status: 'SUCCEEDED', deploymentId: created.lastAttemptedDeploymentId, outputs });
    const deployed = await environment();
    expect(deployed).toMatchObject({ deploymentStatus: 'SUCCEEDED', lastSucceededDeploymentId: created.lastAttemptedDeploymentId });
    expect((await proton().send(new ListEnvironmentOutputsCommand({ environmentName: 'prod' }))).outputs).toEqual(outputs);
    expect((await proton().send(new ListEnvironmentOutputsCommand({ environmentName: 'prod', deploymentId: created.lastAttemptedDeploymentId })))
      .outputs).toEqual(outputs);
    const { deployment } = await proton().send(new GetDeploymentCommand({ id: created.lastAttemptedDeploymentId! }));
    expect(deployment).toMatchObject({ deploymentStatus: 'SUCCEEDED', completedAt: expect.any(Date) });
  });

  test('FAILED marks the deployment and the environment failed, with the status message', async () => {
    await selfManagedEnvironment(w);
    await notify({ status: 'FAILED', statusMessage: 'terraform apply: Error creating VPC' });
    expect(await environment()).toMatchObject({ deploymentStatus: 'FAILED', deploymentStatusMessage: 'terraform apply: Error creating VPC' });
    expect((await environment()).lastSucceededDeploymentId).toBeUndefined();
    // A completed deployment takes no more reports.
    await expect(notify({ status: 'SUCCEEDED' })).rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('FAILED') });
  });

  test('an unknown resource or deployment is ResourceNotFoundException', async () => {
    await expect(notify({ status: 'SUCCEEDED' })).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining(ENV_ARN) });
    await selfManagedEnvironment(w);
    await expect(notify({ status: 'SUCCEEDED', deploymentId: '00000000-0000-4000-8000-000000000000' }))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('00000000-0000-4000-8000-000000000000') });
  });

  test('the model\'s validation: status values, at most 50 outputs, output key and value lengths, statusMessage length', async () => {
    await selfManagedEnvironment(w);
    const send = (input: object) => proton().send(new NotifyResourceDeploymentStatusChangeCommand({ resourceArn: ENV_ARN, ...input }));
    await expect(send({ status: 'DONE' })).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('status') });
    const outputs = Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, valueString: 'v' }));
    await expect(send({ status: 'SUCCEEDED', outputs })).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('outputs') });
    await expect(send({ status: 'SUCCEEDED', outputs: [{ key: 'k'.repeat(1025), valueString: 'v' }] }))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('outputs') });
    await expect(send({ status: 'FAILED', statusMessage: 'x'.repeat(5001) }))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('statusMessage') });
    // None of them touched the deployment.
    expect((await environment()).deploymentStatus).toBe('IN_PROGRESS');
    await send({ status: 'SUCCEEDED', outputs: outputs.slice(0, 50) });
    expect((await proton().send(new ListEnvironmentOutputsCommand({ environmentName: 'prod' }))).outputs).toHaveLength(50);
  });

  test('service instances on a self-managed environment wait too; the service becomes ACTIVE once they are reported', async () => {
    await selfManagedEnvironment(w);
    await notify({ status: 'SUCCEEDED', outputs: BACKEND_ENV_OUTPUTS.map(key => ({ key, valueString: `${key}-value` })) });
    await w.serviceTemplate('svc', { compatible: [{ templateName: 'env', majorVersion: '1' }], pipelineProvisioning: 'CUSTOMER_MANAGED' });
    await w.service('api', 'svc', serviceSpec([{ name: 'one', environment: 'prod' }], null), { withPipeline: false });
    w.advance(LONG_AFTER);
    const instance = async () => (await proton().send(new GetServiceInstanceCommand({ serviceName: 'api', name: 'one' }))).serviceInstance!;
    expect((await instance()).deploymentStatus).toBe('IN_PROGRESS');
    expect((await proton().send(new GetServiceCommand({ name: 'api' }))).service!.status).toBe('CREATE_IN_PROGRESS');
    await notify({ status: 'SUCCEEDED', outputs: [{ key: 'Url', valueString: 'https://api.example.com' }] }, (await instance()).arn);
    expect((await instance()).deploymentStatus).toBe('SUCCEEDED');
    expect((await proton().send(new GetServiceCommand({ name: 'api' }))).service!.status).toBe('ACTIVE');
  });

  test('with the account\'s pipelineProvisioningRepository, the pipeline of a service on a self-managed environment waits too', async () => {
    await selfManagedEnvironment(w);
    await notify({ status: 'SUCCEEDED', outputs: BACKEND_ENV_OUTPUTS.map(key => ({ key, valueString: `${key}-value` })) });
    await proton().send(new UpdateAccountSettingsCommand({ pipelineProvisioningRepository: { ...REPOSITORY, branch: 'pipelines' } }));
    await w.serviceTemplate('svc', { compatible: [{ templateName: 'env', majorVersion: '1' }] });
    await w.service('api', 'svc', serviceSpec([{ name: 'one', environment: 'prod' }]));
    w.advance(LONG_AFTER);
    const service = async () => (await proton().send(new GetServiceCommand({ name: 'api' }))).service!;
    expect((await service()).pipeline!.deploymentStatus).toBe('IN_PROGRESS');
    await notify({ status: 'SUCCEEDED' }, (await proton().send(new GetServiceInstanceCommand({ serviceName: 'api', name: 'one' }))).serviceInstance!.arn);
    expect((await service()).status).toBe('CREATE_IN_PROGRESS');
    await notify({ status: 'SUCCEEDED' }, (await service()).pipeline!.arn);
    expect(await service()).toMatchObject({ status: 'ACTIVE', pipeline: { deploymentStatus: 'SUCCEEDED' } });
  });

  test('deletion stays DELETE_IN_PROGRESS until notified; an update deployment can still be cancelled', async () => {
    await selfManagedEnvironment(w);
    await notify({ status: 'SUCCEEDED' });
    await proton().send(new UpdateEnvironmentCommand({ name: 'prod', deploymentType: 'CURRENT_VERSION' }));
    await proton().send(new CancelEnvironmentDeploymentCommand({ environmentName: 'prod' }));
    w.advance();
    expect((await environment()).deploymentStatus).toBe('CANCELLED');

    await proton().send(new DeleteEnvironmentCommand({ name: 'prod' }));
    w.advance(LONG_AFTER);
    expect((await environment()).deploymentStatus).toBe('DELETE_IN_PROGRESS');
    await notify({ status: 'SUCCEEDED' });
    await expect(proton().send(new GetEnvironmentCommand({ name: 'prod' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('proton-local self-managed provisioning with autoCompleteSelfManaged', () => {
  const w = useWorkloads({ autoCompleteSelfManaged: true });

  test('deployments end after the deployment delay, as if provisioned', async () => {
    await selfManagedEnvironment(w);
    w.advance();
    expect((await w.env.proton.send(new GetEnvironmentCommand({ name: 'prod' }))).environment!.deploymentStatus).toBe('SUCCEEDED');
    await w.env.proton.send(new DeleteEnvironmentCommand({ name: 'prod' }));
    w.advance();
    await expect(w.env.proton.send(new GetEnvironmentCommand({ name: 'prod' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
