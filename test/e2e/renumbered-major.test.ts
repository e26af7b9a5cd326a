/**
 * A template whose versions were all deleted gets a version again: Proton opens a new major for it, numbered as it
 * likes (proton-local never reuses a major number; the API reference does not say whether Proton does). The version
 * keeps its declared major for the app, and environments find it by it. Needs the handler bundle.
 */
import * as path from 'path';
import { RemovalPolicy, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Harness, startHarness, synthesize } from './helpers';
import { TEMPLATES } from '../../examples/platform-app';
import { Environment, EnvironmentTemplate, EnvironmentTemplateVersion, TemplateBundle } from '../../src';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.stop());

const app = () => synthesize((a) => {
  const stack = new Stack(a, 'Retained', { env: { account: '123456789012', region: 'us-east-1' } });
  const template = new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'kept', removalPolicy: RemovalPolicy.RETAIN });
  const version = new EnvironmentTemplateVersion(stack, 'Version', { template, bundle: TemplateBundle.fromDirectory(path.join(TEMPLATES, 'fargate-env')) });
  const protonServiceRole = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });
  new Environment(stack, 'Env', { environmentName: 'kept-env', templateVersion: version, protonServiceRole });
});

test('a retained template, destroyed and deployed again: the new major Proton opens is accepted and used', async () => {
  await h.engine().deploy(app());
  await h.engine().destroy();
  expect(await h.client.listAll('ListEnvironmentTemplateVersions', 'templateVersions', { templateName: 'kept' })).toEqual([]);

  const outcomes = await h.engine().deploy(app());

  expect(outcomes.map(o => o.status)).toEqual(['CREATE_COMPLETE']);
  const versions = await h.client.listAll('ListEnvironmentTemplateVersions', 'templateVersions', { templateName: 'kept' });
  expect(versions.map((v: any) => `${v.majorVersion}.${v.minorVersion}`)).toEqual(['2.0']);
  const { tags } = await h.client.call('ListTagsForResource', { resourceArn: versions[0].arn });
  expect(tags).toEqual(expect.arrayContaining([{ key: 'cdk-proton:declared-major', value: '1' }]));
  const { environment } = await h.client.call('GetEnvironment', { name: 'kept-env' });
  expect(`${environment.templateMajorVersion}.${environment.templateMinorVersion}`).toBe('2.0');
  // A deploy with nothing changed finds the version by its declared major and bundle: nothing moves.
  h.local.requestLog.clear();
  await h.engine().deploy(app());
  expect(h.local.requestLog.all.filter(e => !/^(S3\.)?(Get|List|Head)/.test(e.operation))).toEqual([]);

  await h.engine().destroy();
  expect(await h.client.listAll('ListEnvironments', 'environments')).toEqual([]);
});
