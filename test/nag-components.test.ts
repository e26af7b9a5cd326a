/**
 * cdk-nag's AwsSolutions pack over a stack with components, a repository link and sync configs: with
 * ProtonNagSuppressions' rules, no finding is left (the wildcards they add are explained there).
 */
import { join } from 'path';
import { App, Aspects, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import {
  Component, ComponentBundle, Environment, EnvironmentTemplate, EnvironmentTemplateVersion, ProtonNagSuppressions, Repository, RepositoryProvider,
  TemplateBundle, TemplateSyncConfig,
} from '../src';

const SAMPLES = join(__dirname, 'fixtures/proton-samples');

test('with the suppressions, a stack with components, a repository link and a sync config has no AwsSolutions finding', () => {
  const app = new App();
  const stack = new Stack(app, 'Components', { env: { account: '111122223333', region: 'us-east-1' } });
  const template = new EnvironmentTemplate(stack, 'EnvTemplate', { environmentTemplateName: 'fargate-env' });
  const version = new EnvironmentTemplateVersion(stack, 'EnvV1', {
    template, bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates/fargate-env/v1')),
  });
  const environment = new Environment(stack, 'Prod', {
    environmentName: 'prod',
    templateVersion: version,
    protonServiceRole: iam.Role.fromRoleName(stack, 'ProtonRole', 'proton-service'),
    componentRole: iam.Role.fromRoleName(stack, 'ComponentRole', 'proton-components'),
  });
  new Component(stack, 'Bucket', { bundle: ComponentBundle.fromDirectory(join(SAMPLES, 'component-templates/s3-bucket-component')), environment });
  const repository = new Repository(stack, 'Repo', {
    provider: RepositoryProvider.GITHUB,
    repositoryName: 'acme/proton',
    connectionArn: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/0f8e2d4c-1b3a-4c5d-9e7f-a1b2c3d4e5f6',
  });
  new TemplateSyncConfig(stack, 'Sync', { environmentTemplate: template, repository, branch: 'main' });
  NagSuppressions.addResourceSuppressions(ProtonNagSuppressions.providerOf(stack)!, ProtonNagSuppressions.rules(), true);
  Aspects.of(app).add(new AwsSolutionsChecks());
  app.synth();
  const findings = [
    ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
  ].map(m => String(m.entry.data));
  expect(findings).toEqual([]);
});
