/**
 * The example apps synthesize: the platform app (both template revisions) and the CDK Pipelines composition, whose
 * stage stacks the local deploy engine finds in the nested assemblies and deploys.
 * Needs the handler bundle (`npx projen bundle`).
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildPipelinesApp } from '../examples/pipelines-app';
import { buildPlatformApp, REVISION_CONTEXT } from '../examples/platform-app';
import { startHarness, synthesize } from './e2e/helpers';
import { readProtonResources } from '../src/local/deploy/output';

function countByType(template: Template): { [type: string]: number } {
  const counts: { [type: string]: number } = {};
  for (const resource of Object.values<any>(template.toJSON().Resources)) {
    if (resource.Type.includes('Proton')) counts[resource.Type] = (counts[resource.Type] ?? 0) + 1;
  }
  return counts;
}

describe('platform app', () => {
  const synth = (revision: string) => {
    const app = new App({ context: { [REVISION_CONTEXT]: revision } });
    const { platform, services } = buildPlatformApp(app);
    return { platform: Template.fromStack(platform), services: Template.fromStack(services) };
  };

  test('declares two environment templates, a service template with a pipeline and one without, two environments, two services', () => {
    const { platform, services } = synth('1');
    expect(countByType(platform)).toEqual({
      'Custom::ProtonEnvironmentTemplate': 2,
      'Custom::ProtonServiceTemplate': 2,
      'Custom::ProtonEnvironmentTemplateVersion': 2,
      'Custom::ProtonServiceTemplateVersion': 2,
      'Custom::ProtonAccountSettings': 1,
      'Custom::ProtonEnvironment': 2,
      // One per stack with environments or services: collects the versions they left once nothing can roll back.
      'Custom::ProtonSupersededVersions': 1,
    });
    expect(countByType(services)).toEqual({ 'Custom::ProtonService': 2, 'Custom::ProtonSupersededVersions': 1 });
    platform.hasResourceProperties('Custom::ProtonServiceTemplate', { TemplateName: 'load-balanced-fargate-svc', Provisioning: 'CUSTOMER_MANAGED' });
    platform.hasResourceProperties('Custom::ProtonEnvironmentTemplate', {
      TemplateName: 'fargate-env',
      Tags: JSON.stringify([{ key: 'cost-center', value: 'platform-engineering' }, { key: 'managed-by', value: 'cdk-proton' }]),
    });
  });

  test('revision 2 changes the fargate-env version, and the environments on it (the new input\'s default joins their spec)', () => {
    const before = synth('1').platform.toJSON().Resources;
    const after = synth('2').platform.toJSON().Resources;
    const changed = Object.keys(before).filter((id) => JSON.stringify(before[id]) !== JSON.stringify(after[id]));
    // The new bundle: its version, the environments on it (new hash and spec), the bundle object the role may read, and the
    // stack's superseded-version collector (its Generation follows the versions the stack runs on).
    expect(changed.map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort())
      .toEqual(['CdkProtonProviderPolicy', 'CdkProtonSupersededVersions', 'FargateEnvVersion', 'Production', 'Staging']);
    const staging = changed.find((id) => id.startsWith('Staging'))!;
    expect(JSON.parse(after[staging].Properties.Spec)).toMatchObject({ container_insights: 'enabled' });
  });

  test('an unknown revision is a clear error', () => {
    expect(() => buildPlatformApp(new App({ context: { [REVISION_CONTEXT]: '3' } }))).toThrow("Context cdk-proton-demo:revision must be '1' or '2', got '3'");
  });
});

describe('CDK Pipelines app', () => {
  test('synthesizes a pipeline with a platform stage and a wave of team stages', () => {
    const app = new App();
    const { pipeline } = buildPipelinesApp(app);
    const assembly = app.synth();
    Template.fromStack(pipeline.node.scope as any).resourceCountIs('AWS::CodePipeline::Pipeline', 1);
    const stages = Template.fromStack(pipeline.node.scope as any).toJSON().Resources;
    const pipelineResource: any = Object.values<any>(stages).find((r) => r.Type === 'AWS::CodePipeline::Pipeline');
    expect(pipelineResource.Properties.Stages.map((s: any) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'Platform', 'Teams']);
    expect(assembly.nestedAssemblies.map((nested) => nested.directoryName).sort()).toEqual(['assembly-Orders', 'assembly-Platform', 'assembly-Web']);
  });

  test('its stage stacks deploy locally: the platform, then the team services in the platform environments', async () => {
    const assembly = synthesize((app) => buildPipelinesApp(app));
    // The manifest lists the stages in the order the app adds them, which is the pipeline's order.
    expect(assembly.stacks.map((s) => s.stackName)).toEqual(['Platform-Templates', 'Orders-Services', 'Web-Services', 'PlatformPipeline']);
    const h = await startHarness();
    try {
      await h.engine().deploy(assembly);
      const rows = (await readProtonResources(h.client)).map((r) => `${r.kind} ${r.name} ${r.version} ${r.status}`);
      expect(rows).toEqual(expect.arrayContaining([
        'ServicePipeline orders-api 1.0 SUCCEEDED',
        'ServiceInstance orders-api/production 1.0 SUCCEEDED',
        'ServiceInstance web-shop/staging 1.0 SUCCEEDED',
      ]));
      await h.engine().destroy();
      expect(await readProtonResources(h.client)).toEqual([]);
    } finally {
      await h.stop();
    }
  });
});
