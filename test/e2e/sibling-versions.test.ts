/**
 * Two versions of one template in one major (from different bundles: versions are content-addressed), through the real
 * bundled handler. Proton refuses to delete a template's recommended version while older versions of its major exist;
 * the handler does not wait for them: the delete succeeds at once with a notice, the version is tagged
 * `cdk-proton:superseded`, and the deletion that frees it (the sibling's, or the template's) deletes it. Needs the
 * handler bundle (`npx projen bundle`).
 */
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Harness, eventLines, startHarness, synthesize } from './helpers';
import { EnvironmentTemplate, EnvironmentTemplateVersion, TemplateBundle } from '../../src';

const TEMPLATES = path.join(__dirname, '..', '..', 'examples', 'templates');

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.stop());

test('destroy deletes sibling versions and their template: the refused recommended version is deleted by its sibling, without waiting', async () => {
  const assembly = synthesize((app) => {
    const stack = new Stack(app, 'Siblings', { env: { account: '123456789012', region: 'us-east-1' } });
    const template = new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'siblings' });
    const older = new EnvironmentTemplateVersion(stack, 'Older', {
      template, bundle: TemplateBundle.fromDirectory(path.join(TEMPLATES, 'fargate-env')), description: 'the first minor',
    });
    const newer = new EnvironmentTemplateVersion(stack, 'Newer', {
      template, bundle: TemplateBundle.fromDirectory(path.join(TEMPLATES, 'fargate-env-v1.1')), description: 'the second minor',
    });
    // Registered after the older one (so it is 1.1, the recommended version), hence deleted before it: the order
    // in which Proton refuses the delete.
    newer.node.addDependency(older);
  });
  await h.engine().deploy(assembly);
  const { environmentTemplate } = await h.client.call('GetEnvironmentTemplate', { name: 'siblings' });
  expect(environmentTemplate.recommendedVersion).toBe('1.1');
  const versions = await h.client.listAll('ListEnvironmentTemplateVersions', 'templateVersions', { templateName: 'siblings' });
  expect(versions.map((v: any) => `${v.majorVersion}.${v.minorVersion}`).sort()).toEqual(['1.0', '1.1']);
  h.local.requestLog.clear();
  h.events.length = 0;

  const [outcome] = await h.engine().destroy();

  const deletions = eventLines(h.events, (e) => e.phase === 'destroy' && e.status === 'COMPLETE')
    .map((line) => line.replace(/[0-9A-F]{8}\b/, ''));
  expect(deletions).toEqual(['Newer DELETE COMPLETE', 'Older DELETE COMPLETE', 'Template DELETE COMPLETE']);
  // The refused delete completed at once, saying why the version is still there and who deletes it.
  const newerDeleted = h.events.find((e) => e.logicalId.startsWith('Newer') && e.status === 'COMPLETE')!;
  expect(newerDeleted.reason).toMatch(/Proton keeps the .*siblings.*1\.1.* It is marked cdk-proton:superseded: the deployment that frees it deletes it/);
  expect(outcome.warnings).toEqual([expect.stringContaining(newerDeleted.reason!)]);

  expect(await h.client.listAll('ListEnvironmentTemplates', 'templates')).toEqual([]);
  expect(h.local.state.environmentTemplates).toEqual({});
  // Refused once (ConflictException), then deleted once the older version was gone: no retry loop in between.
  const versionDeletes = h.local.requestLog.all.filter((entry) => entry.operation === 'DeleteEnvironmentTemplateVersion').map((entry) => entry.outcome);
  expect(versionDeletes[0]).toBe('ConflictException');
  expect(versionDeletes.filter((result) => result === 'success')).toHaveLength(2);
  expect(versionDeletes.filter((result) => result !== 'success' && result !== 'ConflictException')).toEqual([]);
  expect(versionDeletes.length).toBeLessThanOrEqual(4);
});
