/**
 * The CDK Pipelines composition (examples/pipelines-app.ts) deployed stage by stage, in pipeline order, then upgraded:
 * a changed service bundle is registered by the platform stage, the team stage's service follows it on its next
 * deploy (instances and pipeline), the old minor goes, and destroy leaves nothing. Team stages import the versions by
 * bundle, never by a minor. Needs the handler bundle (`npx projen bundle`).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Harness, startHarness, synthesize } from './helpers';
import { buildPipelinesApp, TEMPLATES_CONTEXT } from '../../examples/pipelines-app';
import { TEMPLATES } from '../../examples/platform-app';
import { readProtonResources } from '../../src/local/deploy/output';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.stop());

/** The example templates with backend-fargate-svc's IaC changed (a comment): a new minor of the same schema. */
function upgradedTemplates(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pipelines-templates-'));
  fs.cpSync(TEMPLATES, directory, { recursive: true });
  const iac = path.join(directory, 'backend-fargate-svc', 'instance_infrastructure', 'cloudformation.yaml');
  fs.writeFileSync(iac, `# revision 2\n${fs.readFileSync(iac, 'utf-8')}`);
  return directory;
}

test('stages deploy in pipeline order; a service template upgrade rolls through the team stage; destroy leaves nothing', async () => {
  const pipelineApp = (context = {}) => synthesize(app => buildPipelinesApp(app), context);
  const first = pipelineApp();
  expect(first.stacks.map(s => s.stackName)).toEqual(['Platform-Templates', 'Orders-Services', 'Web-Services', 'PlatformPipeline']);
  await h.engine().deploy(first);

  const upgraded = pipelineApp({ [TEMPLATES_CONTEXT]: upgradedTemplates() });
  // The pipeline deploys the platform stage first, then the team wave.
  const outcomes = await h.engine().deploy(upgraded);
  expect(outcomes.map(o => `${o.stackName} ${o.status}`)).toEqual([
    'Platform-Templates UPDATE_COMPLETE', 'Orders-Services UPDATE_COMPLETE', 'Web-Services UPDATE_COMPLETE', 'PlatformPipeline UPDATE_COMPLETE',
  ]);
  const rows = (await readProtonResources(h.client)).map(r => `${r.kind} ${r.name} ${r.version} ${r.status}`);
  expect(rows).toEqual(expect.arrayContaining([
    'ServicePipeline orders-api 1.1 SUCCEEDED',
    'ServiceInstance orders-api/production 1.1 SUCCEEDED',
    'ServiceInstance orders-api/staging 1.1 SUCCEEDED',
    // The web team's template did not change: it stays.
    'ServiceInstance web-shop/staging 1.0 SUCCEEDED',
  ]));
  expect(rows.filter(r => r.startsWith('ServiceTemplateVersion backend-fargate-svc'))).toEqual(['ServiceTemplateVersion backend-fargate-svc 1.1 PUBLISHED']);

  await h.engine().destroy();
  expect(await readProtonResources(h.client)).toEqual([]);
});
