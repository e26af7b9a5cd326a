import {
  CreateEnvironmentCommand, DeleteDeploymentCommand, GetDeploymentCommand, GetEnvironmentCommand, ListDeploymentsCommand,
  ListEnvironmentOutputsCommand, NotifyResourceDeploymentStatusChangeCommand, UpdateEnvironmentCommand,
} from '@aws-sdk/client-proton';
import { ENV_SPEC, SERVICE_ROLE, useWorkloads } from './workload-helpers';

describe('proton-local deployment records', () => {
  const w = useWorkloads();
  const proton = () => w.env.proton;
  const createEnvironment = async (name: string) => (await proton().send(new CreateEnvironmentCommand({
    name, templateName: 'env', templateMajorVersion: '1', spec: ENV_SPEC, protonServiceRoleArn: SERVICE_ROLE,
  }))).environment!;

  beforeEach(() => w.environmentTemplate('env'));

  test('GetDeployment checks the optional target names', async () => {
    const { lastAttemptedDeploymentId: id } = await createEnvironment('prod');
    const { deployment } = await proton().send(new GetDeploymentCommand({ id }));
    expect(deployment).toMatchObject({ id, deploymentStatus: 'IN_PROGRESS', environmentName: 'prod', targetResourceType: 'ENVIRONMENT' });
    expect(deployment!.completedAt).toBeUndefined();
    expect(deployment!.initialState).toBeUndefined();
    await expect(proton().send(new GetDeploymentCommand({ id, environmentName: 'other' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('ListDeployments lists newest first, filters by environment and paginates', async () => {
    const prod = await createEnvironment('prod');
    await createEnvironment('dev');
    w.advance();
    const update = await proton().send(new UpdateEnvironmentCommand({ name: 'prod', deploymentType: 'CURRENT_VERSION' }));
    const { deployments } = await proton().send(new ListDeploymentsCommand({ environmentName: 'prod' }));
    expect(deployments!.map(d => d.id)).toEqual([update.environment!.lastAttemptedDeploymentId, prod.lastAttemptedDeploymentId]);
    const first = await proton().send(new ListDeploymentsCommand({ maxResults: 2 }));
    expect(first.deployments).toHaveLength(2);
    const rest = await proton().send(new ListDeploymentsCommand({ maxResults: 2, nextToken: first.nextToken }));
    expect(rest.deployments).toHaveLength(1);
    expect(rest.nextToken).toBeUndefined();
  });

  test('DeleteDeployment removes a completed record only, and is idempotent', async () => {
    const { lastAttemptedDeploymentId: id } = await createEnvironment('prod');
    await expect(proton().send(new DeleteDeploymentCommand({ id })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('IN_PROGRESS') });
    w.advance();
    expect((await proton().send(new DeleteDeploymentCommand({ id }))).deployment!.deploymentStatus).toBe('SUCCEEDED');
    expect((await proton().send(new DeleteDeploymentCommand({ id }))).deployment).toBeUndefined();
    await expect(proton().send(new GetDeploymentCommand({ id }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('NotifyResourceDeploymentStatusChange ends a deployment at once with the reported outputs or failure', async () => {
    const { arn, lastAttemptedDeploymentId } = await createEnvironment('prod');
    const notify = (input: Omit<ConstructorParameters<typeof NotifyResourceDeploymentStatusChangeCommand>[0], 'resourceArn'>) =>
      proton().send(new NotifyResourceDeploymentStatusChangeCommand({ resourceArn: arn, ...input }));
    await notify({ status: 'SUCCEEDED', deploymentId: lastAttemptedDeploymentId, outputs: [{ key: 'VpcId', valueString: 'vpc-123' }] });
    const environment = (await proton().send(new GetEnvironmentCommand({ name: 'prod' }))).environment!;
    expect(environment).toMatchObject({ deploymentStatus: 'SUCCEEDED', lastSucceededDeploymentId: lastAttemptedDeploymentId });
    expect((await proton().send(new ListEnvironmentOutputsCommand({ environmentName: 'prod' }))).outputs).toEqual([{ key: 'VpcId', valueString: 'vpc-123' }]);
    await expect(notify({ status: 'FAILED' })).rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('SUCCEEDED') });

    await proton().send(new UpdateEnvironmentCommand({ name: 'prod', deploymentType: 'CURRENT_VERSION' }));
    await notify({ status: 'FAILED', statusMessage: 'terraform apply failed' });
    expect((await proton().send(new GetEnvironmentCommand({ name: 'prod' }))).environment)
      .toMatchObject({ deploymentStatus: 'FAILED', deploymentStatusMessage: 'terraform apply failed' });
    await expect(notify({ status: 'SUCCEEDED', deploymentId: '00000000-0000-4000-8000-000000000000' }))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
