import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  CancelEnvironmentDeploymentCommand, CreateEnvironmentCommand, CreateEnvironmentCommandInput, CreateRepositoryCommand, DeleteEnvironmentCommand,
  DeleteEnvironmentTemplateVersionCommand, GetDeploymentCommand, GetEnvironmentCommand, ListEnvironmentOutputsCommand,
  ListEnvironmentProvisionedResourcesCommand, ListEnvironmentsCommand, UpdateEnvironmentCommand,
} from '@aws-sdk/client-proton';
import { parse as parseYaml } from 'yaml';
import { protonClient } from './helpers';
import { bundle, DEPLOYMENT_DELAY_MS, ENV_SPEC, FARGATE_ENV, SERVICE_ROLE, useWorkloads } from './workload-helpers';
import { ManualClock, ProtonLocal } from '../../src/local';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** fargate-env with two more outputs passing inputs through, so a deployment's outputs follow its spec. */
function passThroughEnvironment() {
  const files = bundle(FARGATE_ENV);
  const template = 'infrastructure/cloudformation.yaml';
  files[template] = files[template].trimEnd() + '\n'
    + '  vpc_cidr:\n    Value: \'{{ environment.inputs.vpc_cidr }}\'\n'
    + '  public_subnet_one_cidr:\n    Value: \'{{ environment.inputs.public_subnet_one_cidr }}\'\n';
  return files;
}

describe('proton-local environments', () => {
  // The self-managed environments here (provisioningRepository) are expected to deploy and delete on their own.
  const w = useWorkloads({ autoCompleteSelfManaged: true });
  const proton = () => w.env.proton;
  const getEnvironment = async (name: string) => (await proton().send(new GetEnvironmentCommand({ name }))).environment!;
  const create = (input: Partial<CreateEnvironmentCommandInput> = {}) => proton().send(new CreateEnvironmentCommand({
    name: 'prod', templateName: 'env', templateMajorVersion: '1', spec: ENV_SPEC, protonServiceRoleArn: SERVICE_ROLE, ...input,
  }));

  describe('create', () => {
    test('deploys on the recommended minor: IN_PROGRESS, then SUCCEEDED with the rendered template\'s outputs and a stack', async () => {
      await w.environmentTemplate('env');
      await w.environmentTemplate('env', { majorVersion: '1' });

      const created = (await create()).environment!;
      expect(created).toMatchObject({ name: 'prod', deploymentStatus: 'IN_PROGRESS', templateMajorVersion: '1', templateMinorVersion: '1' });
      expect(created.lastAttemptedDeploymentId).toMatch(UUID);
      expect(created.lastSucceededDeploymentId).toBeUndefined();
      expect(created.arn).toBe('arn:aws:proton:us-east-1:123456789012:environment/prod');

      w.advance();
      const deployed = await getEnvironment('prod');
      expect(deployed.deploymentStatus).toBe('SUCCEEDED');
      expect(deployed.lastSucceededDeploymentId).toBe(created.lastAttemptedDeploymentId);
      expect(deployed.lastDeploymentSucceededAt).toBeInstanceOf(Date);

      // fargate-env's Outputs section, in template order: pseudo parameters resolved, stable fake ids for resources.
      const { outputs } = await proton().send(new ListEnvironmentOutputsCommand({ environmentName: 'prod' }));
      expect(outputs!.map(o => o.key)).toEqual(['Cluster', 'ClusterArn', 'ServiceTaskDefExecutionRoleArn', 'SNSTopicArn', 'SNSTopicName',
        'SNSRegion', 'VPC', 'PublicSubnet1', 'PublicSubnet2', 'PrivateSubnet1', 'PrivateSubnet2', 'CloudMapNamespaceId']);
      expect(outputs).toEqual(expect.arrayContaining([
        { key: 'SNSRegion', valueString: 'us-east-1' },
        { key: 'VPC', valueString: expect.stringMatching(/^vpc-[0-9a-f]{17}$/) },
        { key: 'ClusterArn', valueString: expect.stringMatching(/^arn:aws:ecs:us-east-1:123456789012:cluster\/AWSProton-prod-Cluster-[0-9a-f]{12}$/) },
      ]));
      const { provisionedResources } = await proton().send(new ListEnvironmentProvisionedResourcesCommand({ environmentName: 'prod' }));
      expect(provisionedResources).toEqual([expect.objectContaining({ provisioningEngine: 'CLOUDFORMATION' })]);
    });

    test('fails on demand with a deploymentStatusMessage, leaving the environment in place', async () => {
      await w.environmentTemplate('env');
      w.env.local.failDeploymentsFor('prod');
      await create();
      w.advance();
      const failed = await getEnvironment('prod');
      expect(failed.deploymentStatus).toBe('FAILED');
      expect(failed.deploymentStatusMessage).toMatch(/prod/);
      expect(failed.lastSucceededDeploymentId).toBeUndefined();
      expect((await proton().send(new ListEnvironmentOutputsCommand({ environmentName: 'prod' }))).outputs).toEqual([]);
    });

    test('spec errors name the input, the value and the rule', async () => {
      await w.environmentTemplate('env');
      await expect(create({ spec: 'proton: EnvironmentSpec\nspec:\n  vpc_cidr: not-a-cidr\n' }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/vpc_cidr.*not-a-cidr.*pattern/) });
      await expect(create({ spec: 'proton: ServiceSpec\n' }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('proton: EnvironmentSpec') });
      await expect(create({ spec: 'proton: [\n' })).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('not valid YAML') });
    });

    test('inputs the schema does not declare are accepted, as Proton accepts them', async () => {
      await w.environmentTemplate('env');
      await create({ spec: 'proton: EnvironmentSpec\nspec:\n  colour: blue\n' });
      expect(parseYaml((await getEnvironment('prod')).spec!)).toMatchObject({ spec: { colour: 'blue' } });
    });

    test('the template version must exist and be PUBLISHED', async () => {
      await w.environmentTemplate('env');
      await expect(create({ templateMajorVersion: '2' })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      await expect(create({ templateName: 'nope' })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      await expect(create({ templateMinorVersion: '7' }))
        .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('environment-template/env:1.7') });
    });

    test('provisioning modes: one is needed, and a connection or a repository excludes the others', async () => {
      await w.environmentTemplate('env');
      await expect(create({ protonServiceRoleArn: undefined }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('protonServiceRoleArn') });
      await expect(create({ environmentAccountConnectionId: '0a1b2c3d-0000-4000-8000-000000000000' }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('environmentAccountConnectionId can\'t be combined') });
      const provisioningRepository = { provider: 'GITHUB' as const, name: 'owner/infra', branch: 'main' };
      await expect(create({ protonServiceRoleArn: undefined, provisioningRepository }))
        .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('CreateRepository') });
      await proton().send(new CreateRepositoryCommand({ ...provisioningRepository, connectionArn: 'arn:aws:codestar-connections:us-east-1:123456789012:connection/x' }));
      const selfManaged = (await create({ protonServiceRoleArn: undefined, provisioningRepository })).environment!;
      expect(selfManaged.provisioningRepository).toMatchObject({ name: 'owner/infra', branch: 'main', arn: expect.stringContaining(':repository/github:owner/infra') });
      w.advance();
      const { provisionedResources } = await proton().send(new ListEnvironmentProvisionedResourcesCommand({ environmentName: 'prod' }));
      expect(provisionedResources).toEqual([expect.objectContaining({ provisioningEngine: 'TERRAFORM' })]);
    });

    test('a CUSTOMER_MANAGED template needs no provisioning role and provisions nothing', async () => {
      const schemaOnly = { 'schema/schema.yaml': bundle(FARGATE_ENV)['schema/schema.yaml'] };
      await w.environmentTemplate('imported', { files: schemaOnly, provisioning: 'CUSTOMER_MANAGED' });
      const created = (await create({ templateName: 'imported', protonServiceRoleArn: undefined })).environment!;
      expect(created.provisioning).toBe('CUSTOMER_MANAGED');
      w.advance();
      expect((await getEnvironment('prod')).deploymentStatus).toBe('SUCCEEDED');
      expect((await proton().send(new ListEnvironmentProvisionedResourcesCommand({ environmentName: 'prod' }))).provisionedResources).toEqual([]);
    });

    test('is idempotent by name: same input returns it, different input mismatches, a modified one conflicts', async () => {
      await w.environmentTemplate('env');
      const first = (await create()).environment!;
      const again = (await create()).environment!;
      expect(again.lastAttemptedDeploymentId).toBe(first.lastAttemptedDeploymentId);
      await expect(create({ description: 'other' }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Idempotent parameter mismatch') });
      w.advance();
      await proton().send(new UpdateEnvironmentCommand({ name: 'prod', deploymentType: 'NONE', description: 'changed' }));
      await expect(create()).rejects.toMatchObject({ name: 'ConflictException' });
    });
  });

  describe('update', () => {
    beforeEach(async () => {
      await w.environmentTemplate('env', { files: passThroughEnvironment() });
      await create();
      w.advance();
    });
    const update = (input: Omit<ConstructorParameters<typeof UpdateEnvironmentCommand>[0], 'name'>) =>
      proton().send(new UpdateEnvironmentCommand({ name: 'prod', ...input }));

    test('is refused while a deployment is IN_PROGRESS', async () => {
      await update({ deploymentType: 'CURRENT_VERSION', spec: 'proton: EnvironmentSpec\nspec:\n  vpc_cidr: 10.1.0.0/16\n' });
      await expect(update({ deploymentType: 'CURRENT_VERSION' })).rejects.toMatchObject({ name: 'ConflictException' });
      w.advance();
      expect((await update({ deploymentType: 'CURRENT_VERSION' })).environment!.deploymentStatus).toBe('IN_PROGRESS');
    });

    test('NONE changes metadata only; it takes neither a spec nor version parameters', async () => {
      const before = await getEnvironment('prod');
      const updated = (await update({ deploymentType: 'NONE', description: 'prod env', componentRoleArn: SERVICE_ROLE })).environment!;
      expect(updated).toMatchObject({ description: 'prod env', componentRoleArn: SERVICE_ROLE, deploymentStatus: 'SUCCEEDED' });
      expect(updated.lastAttemptedDeploymentId).toBe(before.lastAttemptedDeploymentId);
      await expect(update({ deploymentType: 'NONE', spec: ENV_SPEC })).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(update({ deploymentType: 'NONE', templateMajorVersion: '1' })).rejects.toMatchObject({ name: 'ValidationException' });
    });

    test('CURRENT_VERSION redeploys the spec and refuses version parameters; ${Proton::CURRENT_VAL} keeps a value', async () => {
      await expect(update({ deploymentType: 'CURRENT_VERSION', templateMinorVersion: '0' }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('don\'t include templateMajorVersion or templateMinorVersion') });
      await update({
        deploymentType: 'CURRENT_VERSION',
        spec: 'proton: EnvironmentSpec\nspec:\n  vpc_cidr: "${Proton::CURRENT_VAL}"\n  public_subnet_one_cidr: 10.0.0.0/24\n',
      });
      w.advance();
      const { outputs } = await proton().send(new ListEnvironmentOutputsCommand({ environmentName: 'prod' }));
      expect(outputs).toEqual(expect.arrayContaining([
        { key: 'vpc_cidr', valueString: '10.0.0.0/16' },
        { key: 'public_subnet_one_cidr', valueString: '10.0.0.0/24' },
      ]));
    });

    test('MINOR_VERSION moves to the recommended minor of the current major only', async () => {
      await w.environmentTemplate('env', { majorVersion: '1' });
      await w.environmentTemplate('env');
      await expect(update({ deploymentType: 'MINOR_VERSION', templateMajorVersion: '2' }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('MAJOR_VERSION') });
      const updated = (await update({ deploymentType: 'MINOR_VERSION' })).environment!;
      expect(updated).toMatchObject({ templateMajorVersion: '1', templateMinorVersion: '1', deploymentStatus: 'IN_PROGRESS' });
    });

    test('MAJOR_VERSION must go up, to the recommended major by default', async () => {
      await expect(update({ deploymentType: 'MAJOR_VERSION', templateMajorVersion: '1' }))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('higher than the current 1') });
      await w.environmentTemplate('env');
      const updated = (await update({ deploymentType: 'MAJOR_VERSION' })).environment!;
      expect(updated).toMatchObject({ templateMajorVersion: '2', templateMinorVersion: '0' });
    });

    test('cancel: IN_PROGRESS → CANCELLING → CANCELLED, back on the previous version and spec', async () => {
      await w.environmentTemplate('env', { majorVersion: '1' });
      const before = await getEnvironment('prod');
      await update({ deploymentType: 'MINOR_VERSION', spec: 'proton: EnvironmentSpec\nspec:\n  vpc_cidr: 10.9.0.0/16\n' });
      const cancelling = (await proton().send(new CancelEnvironmentDeploymentCommand({ environmentName: 'prod' }))).environment!;
      expect(cancelling.deploymentStatus).toBe('CANCELLING');
      w.advance();
      const cancelled = await getEnvironment('prod');
      expect(cancelled).toMatchObject({ deploymentStatus: 'CANCELLED', templateMinorVersion: '0', spec: before.spec });
      expect(cancelled.lastSucceededDeploymentId).toBe(before.lastSucceededDeploymentId);
      await expect(proton().send(new CancelEnvironmentDeploymentCommand({ environmentName: 'prod' })))
        .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('only IN_PROGRESS') });
    });

    test('deployment records keep each deployment\'s states and outputs', async () => {
      const first = await getEnvironment('prod');
      await update({ deploymentType: 'CURRENT_VERSION', spec: 'proton: EnvironmentSpec\nspec:\n  vpc_cidr: 10.2.0.0/16\n' });
      w.advance();
      const second = await getEnvironment('prod');
      const { deployment } = await proton().send(new GetDeploymentCommand({ id: second.lastSucceededDeploymentId!, environmentName: 'prod' }));
      expect(deployment).toMatchObject({
        targetResourceType: 'ENVIRONMENT',
        targetArn: first.arn,
        deploymentStatus: 'SUCCEEDED',
        environmentName: 'prod',
        initialState: { environment: { spec: first.spec, templateName: 'env', templateMajorVersion: '1', templateMinorVersion: '0' } },
        targetState: { environment: { spec: second.spec } },
      });
      expect(deployment!.completedAt).toBeInstanceOf(Date);
      const old = await proton().send(new ListEnvironmentOutputsCommand({ environmentName: 'prod', deploymentId: first.lastSucceededDeploymentId }));
      expect(old.outputs).toContainEqual({ key: 'vpc_cidr', valueString: '10.0.0.0/16' });
    });
  });

  describe('delete', () => {
    beforeEach(async () => {
      await w.environmentTemplate('env');
      await create();
    });

    test('is refused during a deployment, then asynchronous and idempotent', async () => {
      await expect(proton().send(new DeleteEnvironmentCommand({ name: 'prod' }))).rejects.toMatchObject({ name: 'ConflictException' });
      w.advance();
      const deleting = (await proton().send(new DeleteEnvironmentCommand({ name: 'prod' }))).environment!;
      expect(deleting.deploymentStatus).toBe('DELETE_IN_PROGRESS');
      const retry = (await proton().send(new DeleteEnvironmentCommand({ name: 'prod' }))).environment!;
      expect(retry).toMatchObject({ deploymentStatus: 'DELETE_IN_PROGRESS', lastAttemptedDeploymentId: deleting.lastAttemptedDeploymentId });
      w.advance();
      await expect(getEnvironment('prod')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      expect((await proton().send(new DeleteEnvironmentCommand({ name: 'prod' }))).environment).toBeUndefined();
      const { deployment } = await proton().send(new GetDeploymentCommand({ id: deleting.lastAttemptedDeploymentId! }));
      expect(deployment!.deploymentStatus).toBe('DELETE_COMPLETE');
    });

    test('fails on demand (DELETE_FAILED) and can be retried', async () => {
      w.advance();
      w.env.local.failDeploymentsFor('prod');
      await proton().send(new DeleteEnvironmentCommand({ name: 'prod' }));
      w.advance();
      expect((await getEnvironment('prod')).deploymentStatus).toBe('DELETE_FAILED');
      w.env.local.settings.failDeploymentsFor.delete('prod');
      await proton().send(new DeleteEnvironmentCommand({ name: 'prod' }));
      w.advance();
      await expect(getEnvironment('prod')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    });

    test('an environment keeps its template version from being deleted', async () => {
      w.advance();
      await expect(proton().send(new DeleteEnvironmentTemplateVersionCommand({ templateName: 'env', majorVersion: '1', minorVersion: '0' })))
        .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('environment \'prod\'') });
      await proton().send(new DeleteEnvironmentCommand({ name: 'prod' }));
      w.advance();
      await proton().send(new DeleteEnvironmentTemplateVersionCommand({ templateName: 'env', majorVersion: '1', minorVersion: '0' }));
    });
  });

  test('ListEnvironments filters by template major version and paginates', async () => {
    await w.environmentTemplate('env');
    await w.environmentTemplate('env');
    await create({ name: 'a' });
    await create({ name: 'b' });
    await create({ name: 'c', templateMajorVersion: '2' });
    const onMajor1 = await proton().send(new ListEnvironmentsCommand({ environmentTemplates: [{ templateName: 'env', majorVersion: '1' }] }));
    expect(onMajor1.environments!.map(e => e.name)).toEqual(['a', 'b']);
    const first = await proton().send(new ListEnvironmentsCommand({ maxResults: 2 }));
    expect(first.environments!.map(e => e.name)).toEqual(['a', 'b']);
    const rest = await proton().send(new ListEnvironmentsCommand({ maxResults: 2, nextToken: first.nextToken }));
    expect(rest.environments!.map(e => e.name)).toEqual(['c']);
    expect(rest.nextToken).toBeUndefined();
  });

  test('a deployment in progress resumes from a saved state file', async () => {
    await w.environmentTemplate('env');
    await create();
    const stateFile = join(mkdtempSync(join(tmpdir(), 'proton-local-')), 'state.json');
    writeFileSync(stateFile, JSON.stringify(w.env.local.state));
    const clock = new ManualClock(w.clock.now());
    const reloaded = await ProtonLocal.start({ stateFile, clock, deploymentDelayMs: DEPLOYMENT_DELAY_MS });
    const client = protonClient(reloaded.endpoint);
    try {
      expect((await client.send(new GetEnvironmentCommand({ name: 'prod' }))).environment!.deploymentStatus).toBe('IN_PROGRESS');
      clock.advance(DEPLOYMENT_DELAY_MS);
      expect((await client.send(new GetEnvironmentCommand({ name: 'prod' }))).environment!.deploymentStatus).toBe('SUCCEEDED');
    } finally {
      client.destroy();
      await reloaded.stop();
    }
  });
});
