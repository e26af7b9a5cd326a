/**
 * Directly defined components end to end on an in-process proton-local, through the real bundled handler: created,
 * redeployed with a new template file (and service spec), left alone by a deployment that changes nothing, and
 * destroyed leaving nothing, both for a component deployed to an environment and one attached to a service instance,
 * which is detached before it is deleted. Needs the handler bundle (`npx projen bundle`).
 */
import * as path from 'path';
import { CfnOutput, Stack, Tags, aws_iam as iam } from 'aws-cdk-lib';
import { Harness, mutatingCalls, startHarness, synthesize } from './helpers';
import { TEMPLATES } from '../../examples/platform-app';
import {
  Component, ComponentBundle, ComponentSource, Environment, EnvironmentTemplate, EnvironmentTemplateVersion, Provisioning, Service,
  ServiceTemplate, ServiceTemplateVersion, TemplateBundle,
} from '../../src';
import { readProtonResources } from '../../src/local/deploy/output';

const S3_COMPONENT = path.join(__dirname, '..', 'fixtures', 'proton-samples', 'component-templates', 's3-bucket-component');
const COMPONENT_SERVICE = path.join(__dirname, 'fixtures', 'component-service');
const ENV = { account: '123456789012', region: 'us-east-1' };

/** The sample component; revision 2 suspends the bucket's versioning. */
function bucketBundle(revision: 1 | 2): ComponentBundle {
  const sample = ComponentBundle.fromDirectory(S3_COMPONENT);
  return revision === 1 ? sample : ComponentBundle.fromContents(sample.manifest, sample.templateFile.replace('Status: Enabled', 'Status: Suspended'));
}

/** An environment with a component role, a service whose template version takes components, and one component. */
function app(attachment: 'environment' | 'service', revision: 1 | 2) {
  return synthesize((cdkApp) => {
    const stack = new Stack(cdkApp, 'Components', { env: ENV });
    const envTemplate = new EnvironmentTemplate(stack, 'EnvTemplate', { environmentTemplateName: 'fargate-env' });
    const envVersion = new EnvironmentTemplateVersion(stack, 'EnvVersion', {
      template: envTemplate, bundle: TemplateBundle.fromDirectory(path.join(TEMPLATES, 'fargate-env')),
    });
    const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });
    const environment = new Environment(stack, 'Prod', {
      environmentName: 'prod', templateVersion: envVersion, protonServiceRole: role('ProtonRole'), componentRole: role('ComponentRole'),
    });
    const svcTemplate = new ServiceTemplate(stack, 'SvcTemplate', { serviceTemplateName: 'api-svc', pipelineProvisioning: Provisioning.CUSTOMER_MANAGED });
    const svcVersion = new ServiceTemplateVersion(stack, 'SvcVersion', {
      template: svcTemplate,
      bundle: TemplateBundle.fromDirectory(COMPONENT_SERVICE),
      compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: '1' }],
      supportedComponentSources: [ComponentSource.DIRECTLY_DEFINED],
    });
    // Proton registers a service version only once its compatible environment major exists; the construct orders the
    // version after the environment template only (reported to the lead), so the test orders it after the version.
    svcVersion.node.addDependency(envVersion);
    const service = new Service(stack, 'Api', { serviceName: 'api', templateVersion: svcVersion, instances: [{ instanceName: 'prod', environment }] });
    const component = new Component(stack, 'Bucket', {
      componentName: 'bucket',
      bundle: bucketBundle(revision),
      ...(attachment === 'environment'
        ? { environment }
        : { service, serviceInstanceName: 'prod', serviceSpec: revision === 1 ? undefined : 'proton: ServiceSpec\ninstances: []\n' }),
    });
    if (revision === 2) Tags.of(component).add('revision', '2');
    new CfnOutput(stack, 'BucketName', { value: component.getOutput('BucketName') });
  });
}

/** What the component's last deployment put in place, as Proton reports it. */
async function lastDeployment(h: Harness): Promise<any> {
  const { component } = await h.client.call('GetComponent', { name: 'bucket' });
  const { deployment } = await h.client.call('GetDeployment', { id: component.lastAttemptedDeploymentId, componentName: 'bucket' });
  return { status: component.deploymentStatus, serviceName: component.serviceName, ...deployment.targetState.component };
}

/** The component calls that changed something, in order. */
const componentCalls = (h: Harness) => mutatingCalls(h.local).filter((operation) => operation.includes('Component'));

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.stop());

test.each([
  ['an environment', 'environment', 'prod'],
  ['a service instance', 'service', 'api/prod'],
] as const)('lifecycle of a component attached to %s: create, redeploy, no-op deploy, destroy', async (_label, attachment, attachedTo) => {
  const [v1, v2] = [bucketBundle(1), bucketBundle(2)];
  await h.engine().deploy(app(attachment, 1));
  expect((await readProtonResources(h.client)).filter((row) => row.kind === 'Component')).toEqual([
    { kind: 'Component', name: 'bucket', template: attachedTo, version: '-', status: 'SUCCEEDED' },
  ]);
  expect(await lastDeployment(h)).toMatchObject({ status: 'SUCCEEDED', templateFile: v1.templateFile });
  // The template's output (its rendered `!GetAtt S3Bucket.Arn`), through ListComponentOutputs and Fn::GetAtt.
  expect(h.state.stack('Components')!.outputs).toEqual({ BucketName: expect.stringMatching(/^arn:aws:s3:.*S3Bucket/) });
  const { component } = await h.client.call('GetComponent', { name: 'bucket' });
  const { tags } = await h.client.call('ListTagsForResource', { resourceArn: component.arn });
  expect(tags).toEqual([{ key: 'cdk-proton:owner', value: expect.stringMatching(/^Components\/Bucket/) }]);

  // A new template file (and, attached, a service spec) is one UpdateComponent deployment, then the new tag.
  h.local.requestLog.clear();
  await h.engine().deploy(app(attachment, 2));
  expect(componentCalls(h)).toEqual(['UpdateComponent']);
  // (S3: the engine uploads the changed stack template.)
  expect(mutatingCalls(h.local).filter((operation) => !operation.startsWith('S3.'))).toEqual(['UpdateComponent', 'TagResource']);
  expect(await lastDeployment(h)).toEqual(expect.objectContaining({
    status: 'SUCCEEDED',
    templateFile: v2.templateFile,
    ...(attachment === 'service' ? { serviceName: 'api', serviceInstanceName: 'prod', serviceSpec: 'proton: ServiceSpec\ninstances: []\n' } : {}),
  }));

  h.local.requestLog.clear();
  h.events.length = 0;
  await h.engine().deploy(app(attachment, 2));
  expect(mutatingCalls(h.local)).toEqual([]);
  expect(h.events).toEqual([]);

  h.local.requestLog.clear();
  await h.engine().destroy();
  // Proton deletes only a detached component: the attached one is detached first.
  expect(componentCalls(h)).toEqual(attachment === 'service' ? ['UpdateComponent', 'DeleteComponent'] : ['DeleteComponent']);
  expect(await readProtonResources(h.client)).toEqual([]);
  expect(Object.keys(h.local.state.components)).toEqual([]);
  expect(Object.keys(h.local.state.tags)).toEqual([]);
});
