/**
 * Ownership at deploy time: the Proton resources a stack creates carry `cdk-proton:owner` = `<stack>/<logical id>`.
 * Another stack (another app, which synth cannot see) creating the same name fails, naming the owner; a resource that
 * exists without an owner is taken over only with adoptExisting, and is then retained when it leaves the stack.
 * Needs the handler bundle (`npx projen bundle`).
 */
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Harness, startHarness, synthesize } from './helpers';
import { TEMPLATES } from '../../examples/platform-app';
import { EnvironmentTemplate, EnvironmentTemplateVersion, TemplateBundle } from '../../src';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.stop());

const ENV = { account: '123456789012', region: 'us-east-1' };
const platform = (stackName: string, options: { adoptExisting?: boolean } = {}) => synthesize((app) => {
  const stack = new Stack(app, stackName, { env: ENV });
  const template = new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'shared-env', adoptExisting: options.adoptExisting });
  new EnvironmentTemplateVersion(stack, 'Version', { template, bundle: TemplateBundle.fromDirectory(path.join(TEMPLATES, 'fargate-env')) });
});

test('a second stack creating a template the first one owns fails, naming the owner, and changes nothing', async () => {
  await h.engine().deploy(platform('TeamA'));

  await expect(h.engine().deploy(platform('TeamB'))).rejects.toThrow(
    /environment template 'shared-env' already exists and belongs to TeamA\/Template[0-9A-F]{8} .*Rolled back\./);

  const { environmentTemplate } = await h.client.call('GetEnvironmentTemplate', { name: 'shared-env' });
  const { tags } = await h.client.call('ListTagsForResource', { resourceArn: environmentTemplate.arn });
  expect(tags.find((t: any) => t.key === 'cdk-proton:owner').value).toMatch(/^TeamA\/Template/);
  // TeamB's rollback did not delete what TeamA owns.
  expect((await h.client.listAll('ListEnvironmentTemplateVersions', 'templateVersions', { templateName: 'shared-env' })).length).toBe(1);
});

test('a template that exists without an owner: an error without adoptExisting, taken over and retained with it', async () => {
  await h.client.call('CreateEnvironmentTemplate', { name: 'shared-env' });

  await expect(h.engine().deploy(platform('Adopter'))).rejects.toThrow(
    /environment template 'shared-env' already exists in Proton and was not created by this stack: .*adoptExisting: true/);
  expect((await h.client.listAll('ListEnvironmentTemplates', 'templates')).map((t: any) => t.name)).toEqual(['shared-env']);

  await h.engine().deploy(platform('Adopter', { adoptExisting: true }));
  const { environmentTemplate } = await h.client.call('GetEnvironmentTemplate', { name: 'shared-env' });
  const { tags } = await h.client.call('ListTagsForResource', { resourceArn: environmentTemplate.arn });
  expect(tags.find((t: any) => t.key === 'cdk-proton:owner').value).toMatch(/^Adopter\/Template/);

  await h.engine().destroy();
  // The adopted template stays (RemovalPolicy.RETAIN by default); the version the stack registered is gone.
  expect((await h.client.listAll('ListEnvironmentTemplates', 'templates')).map((t: any) => t.name)).toEqual(['shared-env']);
  expect(await h.client.listAll('ListEnvironmentTemplateVersions', 'templateVersions', { templateName: 'shared-env' })).toEqual([]);
});
