/**
 * Two versions of one template in one stack, through the real bundled handler: Proton deletes a template's recommended
 * version only after its siblings, and the versions do not depend on each other, so the engine must delete them
 * concurrently, as CloudFormation does. One at a time, the recommended version's delete would wait for a sibling that
 * is never deleted. Needs the handler bundle (`npx projen bundle`).
 */
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Harness, eventLines, startHarness, synthesize } from './helpers';
import { EnvironmentTemplate, EnvironmentTemplateVersion, TemplateBundle } from '../../src';

const VPC_ENV = path.join(__dirname, '..', 'fixtures', 'proton-samples', 'environment-templates', 'vpc-env', 'v1');

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.stop());

test('destroy deletes sibling versions concurrently: the recommended one goes once its sibling is gone', async () => {
  const assembly = synthesize((app) => {
    const stack = new Stack(app, 'Siblings', { env: { account: '123456789012', region: 'us-east-1' } });
    const template = new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'siblings' });
    const bundle = TemplateBundle.fromDirectory(VPC_ENV);
    new EnvironmentTemplateVersion(stack, 'Older', { template, bundle, description: 'the first minor' });
    new EnvironmentTemplateVersion(stack, 'Newer', { template, bundle, description: 'the second minor' });
  });
  await h.engine().deploy(assembly);
  const { environmentTemplate } = await h.client.call('GetEnvironmentTemplate', { name: 'siblings' });
  expect(environmentTemplate.recommendedVersion).toBe('1.1');

  await h.engine().destroy();

  const deletions = eventLines(h.events, (e) => e.phase === 'destroy' && e.status === 'COMPLETE')
    .map((line) => line.replace(/[0-9A-F]{8}\b/, ''));
  expect(deletions).toEqual(['Older DELETE COMPLETE', 'Newer DELETE COMPLETE', 'Template DELETE COMPLETE']);
  expect(await h.client.listAll('ListEnvironmentTemplates', 'templates')).toEqual([]);
  // The recommended version was refused while its sibling existed, and retried: it waited, it did not fail.
  expect(h.local.requestLog.all.filter((entry) => entry.operation === 'DeleteEnvironmentTemplateVersion').map((entry) => entry.outcome))
    .toEqual(expect.arrayContaining(['ConflictException', 'success']));
});
