import {
  CreateEnvironmentCommand, DeleteDeploymentCommand, GetDeploymentCommand, ListDeploymentsCommand, UpdateEnvironmentCommand,
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
});
