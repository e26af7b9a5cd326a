/**
 * Tags on template versions, end to end through the real bundled handler: sent when the version is registered, changed
 * and removed in place (the version is not replaced), the library's `cdk-proton:*` tags and tags set outside the stack
 * kept; a re-deploy with the same tags makes no mutating call. Needs the handler bundle (`npx projen bundle`).
 */
import * as path from 'path';
import { Stack, Tags } from 'aws-cdk-lib';
import { Harness, mutatingCalls, startHarness, synthesize } from './helpers';
import { TEMPLATES } from '../../examples/platform-app';
import { EnvironmentTemplate, EnvironmentTemplateVersion, TemplateBundle } from '../../src';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.stop());

const BUNDLE = TemplateBundle.fromDirectory(path.join(TEMPLATES, 'fargate-env'));
const platform = (tags: { [key: string]: string } | undefined, stackTag?: string) => synthesize((app) => {
  const stack = new Stack(app, 'Platform', { env: { account: '123456789012', region: 'us-east-1' } });
  const template = new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'tagged-env' });
  const version = new EnvironmentTemplateVersion(stack, 'Version', { template, bundle: BUNDLE, tags });
  if (stackTag) Tags.of(version).add('cost-center', stackTag);
});

/** The only version of the template, and its tags sorted by key (Proton's own `aws:proton:*` tags left out). */
async function versionTags(): Promise<{ minor: string; tags: Array<{ key: string; value: string }> }> {
  const [version] = await h.client.listAll('ListEnvironmentTemplateVersions', 'templateVersions', { templateName: 'tagged-env' });
  const { tags } = await h.client.call('ListTagsForResource', { resourceArn: version.arn });
  const ours = tags.filter((t: any) => !t.key.startsWith('aws:'));
  return { minor: version.minorVersion, tags: ours.sort((a: any, b: any) => a.key.localeCompare(b.key)) };
}

test('a version\'s tags arrive on create, change and are removed in place; the library\'s and outside tags stay', async () => {
  await h.engine().deploy(platform({ team: 'platform', tier: 'gold' }, 'cc-1'));
  const created = await versionTags();
  expect(created.tags).toEqual([
    { key: 'cdk-proton:bundle-sha256', value: BUNDLE.contentHash },
    { key: 'cost-center', value: 'cc-1' },
    { key: 'team', value: 'platform' },
    { key: 'tier', value: 'gold' },
  ]);
  // Sent with the registration: no tagging call after CreateEnvironmentTemplateVersion.
  expect(h.local.requestLog.all.map(e => e.operation).filter(op => op === 'TagResource')).toEqual([]);

  // A tag someone sets outside the stack is not the stack's to remove.
  const [version] = await h.client.listAll('ListEnvironmentTemplateVersions', 'templateVersions', { templateName: 'tagged-env' });
  await h.client.call('TagResource', { resourceArn: version.arn, tags: [{ key: 'set-by-hand', value: 'yes' }] });

  await h.engine().deploy(platform({ team: 'storefront' }, 'cc-2'));
  const changed = await versionTags();
  expect(changed.minor).toBe(created.minor); // updated in place, not a new version
  expect(changed.tags).toEqual([
    { key: 'cdk-proton:bundle-sha256', value: BUNDLE.contentHash },
    { key: 'cost-center', value: 'cc-2' },
    { key: 'set-by-hand', value: 'yes' },
    { key: 'team', value: 'storefront' },
  ]);

  h.local.requestLog.clear();
  await h.engine().deploy(platform({ team: 'storefront' }, 'cc-2'));
  expect(mutatingCalls(h.local)).toEqual([]);

  await h.engine().deploy(platform(undefined));
  const removed = await versionTags();
  expect(removed.minor).toBe(created.minor);
  expect(removed.tags).toEqual([
    { key: 'cdk-proton:bundle-sha256', value: BUNDLE.contentHash },
    { key: 'set-by-hand', value: 'yes' },
  ]);

  await h.engine().destroy();
  expect(await h.client.listAll('ListEnvironmentTemplates', 'templates')).toEqual([]);
});
