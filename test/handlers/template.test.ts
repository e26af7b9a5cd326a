/**
 * The template handler (Custom::ProtonEnvironmentTemplate, Custom::ProtonServiceTemplate) against proton-local,
 * driven through the Provider framework's contract: get before create, ownership, in-place updates, replacement of
 * what Proton can't change, and deletion once the versions are gone.
 */
import {
  CreateEnvironmentTemplateCommand, CreateEnvironmentTemplateVersionCommand, GetEnvironmentTemplateCommand, GetServiceTemplateCommand,
  ListTagsForResourceCommand, TagResourceCommand,
} from '@aws-sdk/client-proton';
import { handler } from '../../lambda/proton.lambda';
import { POLL_BUDGET_VARIABLE } from '../../lambda/shared/lifecycle';
import { CustomResourceEvent, ProviderFailure, runProvider } from '../../src/local/deploy/provider-runner';
import { ResourceTypes, SystemTags, TemplateProperties as P } from '../../src/private/properties';
import { sampleBundle, TEST_CREDENTIALS, TEST_REGION, useProtonLocal } from '../local/helpers';

const env = useProtonLocal({ registrationDelayMs: 30 });
const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/platform/2f7e5c10-0000-4000-8000-000000000003';
const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent';
const TEMPLATE_ARN = 'arn:aws:proton:us-east-1:123456789012:environment-template/vpc';

beforeAll(() => {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_PROTON: env.local.endpoint,
    AWS_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    [POLL_BUDGET_VARIABLE]: '0',
  });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

let requests = 0;
function templateEvent(
  requestType: 'Create' | 'Update' | 'Delete', properties: { [name: string]: string }, extra: Partial<CustomResourceEvent> = {},
): CustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: 'https://cloudformation-custom-resource-response.invalid/secret-presigned',
    StackId: STACK_ID,
    RequestId: `template-request-${++requests}`,
    LogicalResourceId: 'VpcTemplate',
    ResourceType: ResourceTypes.ENVIRONMENT_TEMPLATE,
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...properties },
    ...extra,
  };
}

function deploy(event: CustomResourceEvent) {
  const phase = (name: string) => async (payload: any) => {
    process.env.PROTON_HANDLER_PHASE = name;
    return handler(payload);
  };
  return runProvider(event, { onEvent: phase('onEvent'), isComplete: phase('isComplete'), queryIntervalMs: 10, totalTimeoutMs: 10_000 });
}

async function failure(promise: Promise<unknown>): Promise<ProviderFailure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderFailure);
    return error as ProviderFailure;
  }
  throw new Error('expected the deployment to fail');
}

const properties = (overrides: { [name: string]: string } = {}) => ({ [P.TEMPLATE_NAME]: 'vpc', ...overrides });

async function getTemplate(name = 'vpc') {
  return (await env.proton.send(new GetEnvironmentTemplateCommand({ name }))).environmentTemplate!;
}

async function tagsOf(arn = TEMPLATE_ARN): Promise<{ [key: string]: string }> {
  const tags = (await env.proton.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags ?? [];
  return Object.fromEntries(tags.filter(t => !t.key!.startsWith('aws:')).map(t => [t.key!, t.value!]));
}

describe('create', () => {
  test('creates the template with its settings and tags, owned by the resource, and returns its ARN', async () => {
    const result = await deploy(templateEvent('Create', properties({
      [P.DISPLAY_NAME]: 'VPC',
      [P.DESCRIPTION]: 'A VPC',
      [P.PROVISIONING]: 'CUSTOMER_MANAGED',
      [P.TAGS]: JSON.stringify([{ key: 'team', value: 'platform' }]),
    })));
    expect(result).toEqual({ PhysicalResourceId: 'vpc', Data: { Arn: TEMPLATE_ARN } });
    expect(await getTemplate()).toMatchObject({ name: 'vpc', displayName: 'VPC', description: 'A VPC', provisioning: 'CUSTOMER_MANAGED' });
    expect(await tagsOf()).toEqual({ [SystemTags.OWNER]: 'platform/VpcTemplate', team: 'platform' });
  });

  test('the same Create delivered twice creates one template', async () => {
    const event = templateEvent('Create', properties());
    await deploy(event);
    await deploy(event);
    expect(env.local.requestLog.count('CreateEnvironmentTemplate')).toBe(1);
  });

  test('a template another resource owns fails, naming the owner, and is left as it was', async () => {
    await deploy(templateEvent('Create', properties({ [P.DESCRIPTION]: 'mine' })));
    const error = await failure(deploy(templateEvent('Create', properties({ [P.DESCRIPTION]: 'theirs' }), { LogicalResourceId: 'Other' })));
    expect(error.message).toMatch(/environment template 'vpc' already exists and belongs to platform\/VpcTemplate/);
    expect((await getTemplate()).description).toBe('mine');
  });

  test('a template made outside any stack needs adoptExisting; adopted, it gets the owner tag', async () => {
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'vpc', description: 'made by hand' }));
    const error = await failure(deploy(templateEvent('Create', properties())));
    expect(error.message).toMatch(/environment template 'vpc' already exists in Proton and was not created by this stack: .*adoptExisting: true/);
    await deploy(templateEvent('Create', properties({ [P.ADOPT_EXISTING]: 'true', [P.DESCRIPTION]: 'managed now' })));
    expect(await tagsOf()).toMatchObject({ [SystemTags.OWNER]: 'platform/VpcTemplate' });
    expect((await getTemplate()).description).toBe('managed now');
  });

  test('an adopted template whose provisioning differs fails: Proton can\'t change it', async () => {
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'vpc', provisioning: 'CUSTOMER_MANAGED' }));
    const error = await failure(deploy(templateEvent('Create', properties({ [P.ADOPT_EXISTING]: 'true' }))));
    expect(error.message).toMatch(/environment template 'vpc' has provisioning "CUSTOMER_MANAGED" and Proton can't change it to none: give the template a new name/);
  });

  test('a service template, with its pipeline provisioning', async () => {
    const result = await deploy(templateEvent('Create', { [P.TEMPLATE_NAME]: 'web', [P.PROVISIONING]: 'CUSTOMER_MANAGED' }, {
      ResourceType: ResourceTypes.SERVICE_TEMPLATE, LogicalResourceId: 'WebTemplate',
    }));
    expect(result.Data).toEqual({ Arn: 'arn:aws:proton:us-east-1:123456789012:service-template/web' });
    expect((await env.proton.send(new GetServiceTemplateCommand({ name: 'web' }))).serviceTemplate).toMatchObject({
      pipelineProvisioning: 'CUSTOMER_MANAGED',
    });
  });
});

describe('update', () => {
  test('display name, description and tags change in place; tags set outside the stack stay', async () => {
    const before = properties({ [P.DESCRIPTION]: 'old', [P.TAGS]: JSON.stringify([{ key: 'team', value: 'a' }, { key: 'gone', value: 'x' }]) });
    await deploy(templateEvent('Create', before));
    await env.proton.send(new TagResourceCommand({ resourceArn: TEMPLATE_ARN, tags: [{ key: 'outside', value: 'kept' }] }));
    const after = properties({ [P.DISPLAY_NAME]: 'VPC', [P.DESCRIPTION]: 'new', [P.TAGS]: JSON.stringify([{ key: 'team', value: 'b' }]) });
    const result = await deploy(templateEvent('Update', after, { PhysicalResourceId: 'vpc', OldResourceProperties: before }));
    expect(result.PhysicalResourceId).toBe('vpc');
    expect(await getTemplate()).toMatchObject({ displayName: 'VPC', description: 'new' });
    expect(await tagsOf()).toEqual({ [SystemTags.OWNER]: 'platform/VpcTemplate', team: 'b', outside: 'kept' });
    expect(env.local.requestLog.count('CreateEnvironmentTemplate')).toBe(1);
  });

  test('a new provisioning is a new template (a new name): the update creates it and CloudFormation deletes the old one', async () => {
    const before = properties();
    await deploy(templateEvent('Create', before));
    const after = { [P.TEMPLATE_NAME]: 'vpc-managed', [P.PROVISIONING]: 'CUSTOMER_MANAGED' };
    const result = await deploy(templateEvent('Update', after, { PhysicalResourceId: 'vpc', OldResourceProperties: before }));
    expect(result.PhysicalResourceId).toBe('vpc-managed');
    await deploy(templateEvent('Delete', before, { PhysicalResourceId: 'vpc' }));
    await expect(getTemplate()).rejects.toThrow(/does not exist/);
    expect((await getTemplate('vpc-managed')).provisioning).toBe('CUSTOMER_MANAGED');
  });
});

describe('delete', () => {
  test('deletes the template; deleting again succeeds', async () => {
    await deploy(templateEvent('Create', properties()));
    await deploy(templateEvent('Delete', properties(), { PhysicalResourceId: 'vpc' }));
    await deploy(templateEvent('Delete', properties(), { PhysicalResourceId: 'vpc' }));
    await expect(getTemplate()).rejects.toThrow(/does not exist/);
  });

  test('a template that still has versions fails, naming them', async () => {
    await deploy(templateEvent('Create', properties()));
    await env.uploadBundle('bundles', 'vpc.tar.gz', sampleBundle('environment-templates/vpc-env/v1'));
    await env.proton.send(new CreateEnvironmentTemplateVersionCommand({ templateName: 'vpc', source: { s3: { bucket: 'bundles', key: 'vpc.tar.gz' } } }));
    const error = await failure(deploy(templateEvent('Delete', properties(), { PhysicalResourceId: 'vpc' })));
    expect(error.message).toMatch(/environment template 'vpc' can't be deleted while it has versions \(vpc:1\.0\)/);
  });

  test('superseded versions nothing runs on are deleted first, and then the template', async () => {
    await deploy(templateEvent('Create', properties()));
    await env.uploadBundle('bundles', 'vpc.tar.gz', sampleBundle('environment-templates/vpc-env/v1'));
    const created = await env.proton.send(new CreateEnvironmentTemplateVersionCommand({
      templateName: 'vpc', source: { s3: { bucket: 'bundles', key: 'vpc.tar.gz' } }, tags: [{ key: SystemTags.SUPERSEDED, value: 'true' }],
    }));
    expect(created.environmentTemplateVersion!.minorVersion).toBe('0');
    await new Promise(resolve => setTimeout(resolve, 100)); // registration (30 ms of emulator time on the real clock)
    await deploy(templateEvent('Delete', properties(), { PhysicalResourceId: 'vpc' }));
    await expect(getTemplate()).rejects.toThrow(/does not exist/);
  });
});
