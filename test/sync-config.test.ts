import { join } from 'path';
import { App, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  Environment, EnvironmentTemplate, EnvironmentTemplateVersion, Repository, RepositoryProvider, Service, ServiceSyncConfig, ServiceSyncConfigProps,
  ServiceTemplate, ServiceTemplateVersion, TemplateBundle, TemplateSyncConfig, TemplateSyncConfigProps,
} from '../src';

const SAMPLES = join(__dirname, 'fixtures/proton-samples');
const CONNECTION = 'arn:aws:codestar-connections:us-east-1:111122223333:connection/0f8e2d4c-1b3a-4c5d-9e7f-a1b2c3d4e5f6';

function setup() {
  const stack = new Stack(new App(), 'Git', { env: { account: '111122223333', region: 'us-east-1' } });
  const repository = new Repository(stack, 'Repo', { provider: RepositoryProvider.GITHUB, repositoryName: 'acme/proton', connectionArn: CONNECTION });
  const envTemplate = new EnvironmentTemplate(stack, 'EnvTemplate', { environmentTemplateName: 'fargate-env' });
  const svcTemplate = new ServiceTemplate(stack, 'SvcTemplate', { serviceTemplateName: 'backend' });
  return { stack, repository, envTemplate, svcTemplate };
}

function withService() {
  const s = setup();
  const envVersion = new EnvironmentTemplateVersion(s.stack, 'EnvV1', {
    template: s.envTemplate, bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates/fargate-env/v1')),
  });
  const env = new Environment(s.stack, 'Prod', {
    environmentName: 'prod', templateVersion: envVersion, protonServiceRole: iam.Role.fromRoleName(s.stack, 'Role', 'proton'),
  });
  const version = new ServiceTemplateVersion(s.stack, 'SvcV1', {
    template: s.svcTemplate,
    bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'service-templates/backend-fargate-svc/v1')),
    compatibleEnvironmentTemplates: [{ template: s.envTemplate, majorVersion: '1' }],
  });
  const service = new Service(s.stack, 'Api', {
    serviceName: 'api',
    templateVersion: version,
    instances: [{ instanceName: 'prod', environment: env }],
    pipelineSpec: {},
    repository: { connectionArn: CONNECTION, repositoryId: 'acme/api', branchName: 'main' },
  });
  return { ...s, service };
}

const resources = (stack: Stack, type: string) => Object.entries(Template.fromStack(stack).findResources(type));

describe('TemplateSyncConfig', () => {
  test('syncs an environment template or a service template; created after the template and the repository link', () => {
    const { stack, repository, envTemplate, svcTemplate } = setup();
    new TemplateSyncConfig(stack, 'EnvSync', { environmentTemplate: envTemplate, repository, branch: 'main', subdirectory: 'templates' });
    new TemplateSyncConfig(stack, 'SvcSync', { serviceTemplate: svcTemplate, repository, branch: 'release' });
    const logicalId = (prefix: string) => resources(stack, prefix === 'Repo' ? 'Custom::ProtonRepository' : 'Custom::ProtonEnvironmentTemplate')[0][0];
    const [env, svc] = resources(stack, 'Custom::ProtonTemplateSyncConfig').map(([, r]) => r);
    expect(env.Properties).toEqual({
      ServiceToken: expect.anything(),
      TemplateName: 'fargate-env',
      TemplateType: 'ENVIRONMENT',
      RepositoryProvider: 'GITHUB',
      RepositoryName: 'acme/proton',
      Branch: 'main',
      Subdirectory: 'templates',
    });
    expect(env.DependsOn).toEqual(expect.arrayContaining([logicalId('Repo'), logicalId('EnvTemplate')]));
    expect(svc.Properties).toMatchObject({ TemplateName: 'backend', TemplateType: 'SERVICE', Branch: 'release' });
    expect(svc.Properties.Subdirectory).toBeUndefined();
  });

  describe('rejects', () => {
    const config = (props: Partial<TemplateSyncConfigProps>) => {
      const s = setup();
      return new TemplateSyncConfig(s.stack, 'Sync', { repository: s.repository, branch: 'main', environmentTemplate: s.envTemplate, ...props });
    };

    test('neither environmentTemplate nor serviceTemplate', () => {
      expect(() => config({ environmentTemplate: undefined })).toThrow(
        'Git/Sync: neither environmentTemplate nor serviceTemplate is given; give exactly one: the template whose versions Proton syncs');
    });

    test('both environmentTemplate and serviceTemplate', () => {
      const s = setup();
      expect(() => new TemplateSyncConfig(s.stack, 'Sync', {
        repository: s.repository, branch: 'main', environmentTemplate: s.envTemplate, serviceTemplate: s.svcTemplate,
      })).toThrow('Git/Sync: both environmentTemplate and serviceTemplate are given; give exactly one');
    });

    test('a branch that is empty or over 200 characters', () => {
      expect(() => config({ branch: '' })).toThrow('Git/Sync: branch "" is 0 characters long; Proton accepts 1 to 200');
      expect(() => config({ branch: 'b'.repeat(201) })).toThrow(/^Git\/Sync: branch "b+" is 201 characters long; Proton accepts 1 to 200$/);
    });

    test('a subdirectory that is empty or over 4096 characters', () => {
      expect(() => config({ subdirectory: '' })).toThrow('Git/Sync: subdirectory "" is 0 characters long; Proton accepts 1 to 4096');
      expect(() => config({ subdirectory: 'd'.repeat(4097) })).toThrow(/^Git\/Sync: subdirectory "d{60}\.\.\." is 4097 characters long; Proton accepts 1 to 4096$/);
    });

    test('a second sync config for the same template', () => {
      const s = setup();
      new TemplateSyncConfig(s.stack, 'One', { repository: s.repository, branch: 'main', environmentTemplate: s.envTemplate });
      expect(() => new TemplateSyncConfig(s.stack, 'Two', { repository: s.repository, branch: 'dev', environmentTemplate: s.envTemplate })).toThrow(
        /^Git\/Two: environmentTemplate "ENVIRONMENT:fargate-env" is already used by Git\/One .*\(a template has one sync config\)/);
    });
  });
});

describe('ServiceSyncConfig', () => {
  test('syncs a service from its Ops file; created after the service and the repository link', () => {
    const { stack, repository, service } = withService();
    new ServiceSyncConfig(stack, 'Sync', { service, repository, branch: 'main', filePath: 'proton-ops.yaml' });
    const [[, sync]] = resources(stack, 'Custom::ProtonServiceSyncConfig');
    const [[repoId]] = resources(stack, 'Custom::ProtonRepository');
    expect(sync.Properties).toEqual({
      ServiceToken: expect.anything(),
      ServiceName: { Ref: expect.stringMatching(/^Api/) },
      RepositoryProvider: 'GITHUB',
      RepositoryName: 'acme/proton',
      Branch: 'main',
      FilePath: 'proton-ops.yaml',
    });
    expect(sync.DependsOn).toEqual([repoId]);
  });

  describe('rejects', () => {
    const config = (props: Partial<ServiceSyncConfigProps>) => {
      const s = withService();
      return new ServiceSyncConfig(s.stack, 'Sync', { service: s.service, repository: s.repository, branch: 'main', filePath: 'ops.yaml', ...props });
    };

    test('a branch that is empty', () => {
      expect(() => config({ branch: '' })).toThrow('Git/Sync: branch "" is 0 characters long; Proton accepts 1 to 200');
    });

    test('a filePath that is empty or over 4096 characters', () => {
      expect(() => config({ filePath: '' })).toThrow('Git/Sync: filePath "" is 0 characters long; Proton accepts 1 to 4096');
      expect(() => config({ filePath: 'f'.repeat(4097) })).toThrow(/^Git\/Sync: filePath "f{60}\.\.\." is 4097 characters long/);
    });

    test('a second sync config for the same service', () => {
      const s = withService();
      new ServiceSyncConfig(s.stack, 'One', { service: s.service, repository: s.repository, branch: 'main', filePath: 'ops.yaml' });
      expect(() => new ServiceSyncConfig(s.stack, 'Two', { service: s.service, repository: s.repository, branch: 'main', filePath: 'ops.yaml' }))
        .toThrow(/^Git\/Two: service "Git\/Api" is already used by Git\/One .*\(a service has one sync config\)/);
    });
  });
});
