/**
 * The component handler against proton-local, driven through the Provider framework's contract: re-delivered events,
 * failed deployments, waiting out a running deployment, outputs, detaching before deletion.
 */
import {
  CreateComponentCommand, GetComponentCommand, NotifyResourceDeploymentStatusChangeCommand, UpdateComponentCommand,
} from '@aws-sdk/client-proton';
import { failure, Properties, useHandlerWorkloads } from './workload-events';
import { POLL_BUDGET_VARIABLE } from '../../lambda/shared/lifecycle';
import { ComponentProperties as P, ResourceTypes } from '../../src/private/properties';
import { COMPONENT_ROLE, serviceSpec } from '../local/workload-helpers';

const w = useHandlerWorkloads();
// One step per isComplete invocation: the emulator's clock moves between invocations only.
beforeAll(() => {
  process.env[POLL_BUDGET_VARIABLE] = '0';
});
afterAll(() => {
  delete process.env[POLL_BUDGET_VARIABLE];
});

const MANIFEST = 'infrastructure:\n  templates:\n    - file: cloudformation.yaml\n      rendering_engine: jinja\n      template_language: cloudformation\n';
const TEMPLATE = 'Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n';

function properties(overrides: Properties = {}): Properties {
  return { [P.COMPONENT_NAME]: 'bucket', [P.MANIFEST]: MANIFEST, [P.TEMPLATE_FILE]: TEMPLATE, [P.ENVIRONMENT_NAME]: 'prod', ...overrides };
}

const event = (requestType: 'Create' | 'Update' | 'Delete', props: Properties, extra = {}) => w.event(ResourceTypes.COMPONENT, requestType, props, extra);
const getComponent = async () => (await w.env.proton.send(new GetComponentCommand({ name: 'bucket' }))).component!;
const calls = (operation: string) => w.env.local.requestLog.count(operation);

/** An environment 'prod' with a component role; with `service`, a service 'api' whose instance 'prod' takes components. */
async function environment(options: { service?: boolean } = {}) {
  await w.environmentTemplate('fargate');
  await w.environment('prod', 'fargate', { componentRoleArn: COMPONENT_ROLE });
  if (options.service) {
    await w.serviceTemplate('backend', {
      compatible: [{ templateName: 'fargate', majorVersion: '1' }], pipelineProvisioning: 'CUSTOMER_MANAGED', supportedComponentSources: ['DIRECTLY_DEFINED'],
    });
    await w.service('api', 'backend', serviceSpec([{ name: 'prod', environment: 'prod' }], null), { withPipeline: false });
  }
}

test('a re-delivered Create finds the component the first delivery created', async () => {
  await environment();
  const create = event('Create', properties());
  await w.onEvent(create);
  const result = await w.deploy(create);
  expect(result.PhysicalResourceId).toBe('bucket');
  expect(calls('CreateComponent')).toBe(1);
  expect((await getComponent()).deploymentStatus).toBe('SUCCEEDED');
});

test('a failed deployment fails the resource with Proton\'s message', async () => {
  await environment();
  w.env.local.settings.failDeploymentsFor.add('bucket');
  const { message } = await failure(w.deploy(event('Create', properties())));
  expect(message).toBe("component 'bucket' failed to deploy: Deployment of component 'bucket' failed on demand (proton-local failDeploymentsFor)");
});

test('an update waits for a running deployment, then deploys the new template file once', async () => {
  await environment();
  await w.deploy(event('Create', properties()));
  await w.env.proton.send(new UpdateComponentCommand({ name: 'bucket', deploymentType: 'CURRENT_VERSION', templateFile: `${TEMPLATE}# elsewhere\n` }));
  expect((await getComponent()).deploymentStatus).toBe('IN_PROGRESS');
  w.env.local.requestLog.clear();

  const changed = properties({ [P.TEMPLATE_FILE]: `${TEMPLATE}# revision 2\n` });
  await w.deploy(event('Update', changed, { PhysicalResourceId: 'bucket', OldResourceProperties: properties() }));
  expect(calls('UpdateComponent')).toBe(1);
  const component = await getComponent();
  expect(component.deploymentStatus).toBe('SUCCEEDED');
  const deployment = w.env.local.state.deployments[component.lastAttemptedDeploymentId!] as any;
  expect(deployment.targetState.templateFile).toBe(changed[P.TEMPLATE_FILE]);
});

test('a new manifest is an error naming the way out', async () => {
  await environment();
  await w.deploy(event('Create', properties()));
  const changed = properties({ [P.MANIFEST]: `${MANIFEST}# v2\n` });
  const { message } = await failure(w.deploy(event('Update', changed, { PhysicalResourceId: 'bucket', OldResourceProperties: properties() })));
  expect(message).toBe("component 'bucket': Proton can't change a component's manifest (UpdateComponent takes none): give the component a new "
    + 'name (componentName) to replace it');
});

test('returns the outputs the app reads as Data, and names a missing one', async () => {
  await environment();
  const props = properties({ [P.OUTPUT_KEYS]: JSON.stringify(['Outputs.BucketName']) });
  const create = event('Create', props);
  await w.onEvent(create);
  const { component } = await w.env.proton.send(new GetComponentCommand({ name: 'bucket' }));
  await w.env.proton.send(new NotifyResourceDeploymentStatusChangeCommand({
    resourceArn: component!.arn!, status: 'SUCCEEDED', outputs: [{ key: 'BucketName', valueString: 'bucket-1234' }],
  }));
  expect((await w.deploy(create)).Data).toEqual({ 'Outputs.BucketName': 'bucket-1234' });

  const missing = properties({ [P.COMPONENT_NAME]: 'other', [P.OUTPUT_KEYS]: JSON.stringify(['Outputs.Nope']) });
  expect((await failure(w.deploy(event('Create', missing)))).message).toBe("component 'other' has no output 'Nope' (its outputs: none)");
});

test('a component attached to a service instance is detached, then deleted; a missing one is deleted', async () => {
  await environment({ service: true });
  const props = properties({ [P.ENVIRONMENT_NAME]: '', [P.SERVICE_NAME]: 'api', [P.SERVICE_INSTANCE_NAME]: 'prod' });
  await w.deploy(event('Create', props));
  expect(await getComponent()).toMatchObject({ environmentName: 'prod', serviceName: 'api', serviceInstanceName: 'prod' });
  w.env.local.requestLog.clear();

  await w.deploy(event('Delete', props, { PhysicalResourceId: 'bucket' }));
  expect(w.env.local.requestLog.all.map(e => e.operation).filter(op => /^(Update|Delete)Component$/.test(op))).toEqual(['UpdateComponent', 'DeleteComponent']);
  expect(w.env.local.state.components).toEqual({});

  w.env.local.requestLog.clear();
  await w.deploy(event('Delete', props, { PhysicalResourceId: 'bucket' }));
  expect(calls('DeleteComponent')).toBe(0);
});

test('an update attaches a component to an instance of its environment, and a later one detaches it', async () => {
  await environment({ service: true });
  const unattached = properties();
  const attached = properties({ [P.ENVIRONMENT_NAME]: '', [P.SERVICE_NAME]: 'api', [P.SERVICE_INSTANCE_NAME]: 'prod' });
  await w.deploy(event('Create', unattached));
  await w.deploy(event('Update', attached, { PhysicalResourceId: 'bucket', OldResourceProperties: unattached }));
  expect(await getComponent()).toMatchObject({ deploymentStatus: 'SUCCEEDED', serviceName: 'api', serviceInstanceName: 'prod' });
  await w.deploy(event('Update', unattached, { PhysicalResourceId: 'bucket', OldResourceProperties: attached }));
  const detached = await getComponent();
  expect(detached).toMatchObject({ deploymentStatus: 'SUCCEEDED', environmentName: 'prod' });
  expect(detached.serviceName ?? '').toBe('');
  expect(calls('UpdateComponent')).toBe(2);
});

test('a component can\'t move to another environment: an error naming the way out', async () => {
  await environment();
  await w.deploy(event('Create', properties()));
  const moved = properties({ [P.ENVIRONMENT_NAME]: 'staging' });
  const { message } = await failure(w.deploy(event('Update', moved, { PhysicalResourceId: 'bucket', OldResourceProperties: properties() })));
  expect(message).toBe("component 'bucket' is deployed to environment 'prod' and Proton can't move it to 'staging': give the component a new "
    + 'name (componentName) to replace it');
});

test('a component created by someone else is taken over only with AdoptExisting', async () => {
  await environment();
  await w.env.proton.send(new CreateComponentCommand({ name: 'bucket', environmentName: 'prod', manifest: MANIFEST, templateFile: TEMPLATE }));
  w.advance();
  expect((await failure(w.deploy(event('Create', properties())))).message).toMatch(
    /^component 'bucket' already exists in Proton and was not created by this stack: choose another name, or set adoptExisting: true/);
  await w.deploy(event('Create', properties({ [P.ADOPT_EXISTING]: 'true' })));
  expect(calls('CreateComponent')).toBe(1);
});
