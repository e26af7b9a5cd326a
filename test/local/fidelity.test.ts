/**
 * Conformance of proton-local's core to the Proton API Reference (the documentation strings of botocore's
 * proton/2020-07-20 model), to observed Proton answers, and to what the real SDK does with the wire answers.
 * Each test quotes the sentence it checks.
 */
import {
  CreateEnvironmentTemplateCommand, CreateEnvironmentTemplateVersionCommand, CreateServiceTemplateCommand,
  CreateServiceTemplateVersionCommand, DeleteEnvironmentTemplateCommand, DeleteEnvironmentTemplateVersionCommand,
  GetEnvironmentTemplateVersionCommand, GetResourcesSummaryCommand, ListEnvironmentOutputsCommand, ListEnvironmentTemplatesCommand,
  ListEnvironmentTemplateVersionsCommand,
  ListServiceTemplateVersionsCommand, ListTagsForResourceCommand, paginateListEnvironmentTemplateVersions,
  UntagResourceCommand, UpdateEnvironmentTemplateVersionCommand, waitUntilEnvironmentTemplateVersionRegistered,
} from '@aws-sdk/client-proton';
import { protonClient, sampleBundle, useProtonLocal } from './helpers';
import { serviceSpec, useWorkloads } from './workload-helpers';
import { ManualClock } from '../../src/local';
import { MemoryBlobStore } from '../../src/local/blobs';
import { emptyState } from '../../src/local/emulator/state';
import { Faults } from '../../src/local/faults';
import { RequestLog } from '../../src/local/request-log';
import { ProtonServer } from '../../src/local/server';

const REGISTRATION_DELAY_MS = 1000;
const clock = new ManualClock();
const env = useProtonLocal({ clock, registrationDelayMs: REGISTRATION_DELAY_MS });
const VPC_ENV = sampleBundle('environment-templates/vpc-env/v1');
const FARGATE_SVC = sampleBundle('service-templates/load-balanced-fargate-svc/v1');

async function createVersion(templateName: string, extra: { majorVersion?: string; files?: { [path: string]: string } } = {}) {
  const source = await env.uploadBundle('bundles', `${templateName}/${Math.random()}.tar.gz`, extra.files ?? VPC_ENV);
  const created = await env.proton.send(new CreateEnvironmentTemplateVersionCommand({ templateName, source, majorVersion: extra.majorVersion }));
  return created.environmentTemplateVersion!;
}

async function publish(templateName: string, majorVersion?: string) {
  const version = await createVersion(templateName, { majorVersion });
  clock.advance(REGISTRATION_DELAY_MS);
  await env.proton.send(new UpdateEnvironmentTemplateVersionCommand({
    templateName, majorVersion: version.majorVersion!, minorVersion: version.minorVersion!, status: 'PUBLISHED',
  }));
  return version;
}

const numbers = (versions: { majorVersion?: string; minorVersion?: string }[] | undefined) =>
  (versions ?? []).map(version => `${version.majorVersion}.${version.minorVersion}`);

describe('ListXTemplateVersions', () => {
  // "To view a list of minor of versions under a major version of an environment template, include major Version. To view
  // a list of major versions of an environment template, exclude major Version." Proton's answer without majorVersion
  // lists every version (observed: `aws proton list-environment-template-versions --template-name shared-vpc-env` gave
  // 1.0 DRAFT, 1.1 PUBLISHED and 1.2 DRAFT, each with recommendedMinorVersion "1"), not one summary per major.
  test('without majorVersion: every minor of every major, ordered by major then minor, each with its major\'s recommended minor', async () => {
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'vpc' }));
    await createVersion('vpc'); // 1.0, stays DRAFT
    clock.advance(REGISTRATION_DELAY_MS);
    await publish('vpc', '1'); // 1.1
    await createVersion('vpc', { majorVersion: '1' }); // 1.2
    await publish('vpc'); // 2.0
    clock.advance(REGISTRATION_DELAY_MS);
    const all = (await env.proton.send(new ListEnvironmentTemplateVersionsCommand({ templateName: 'vpc' }))).templateVersions!;
    expect(numbers(all)).toEqual(['1.0', '1.1', '1.2', '2.0']);
    expect(all.map(version => [version.status, version.recommendedMinorVersion])).toEqual([
      ['DRAFT', '1'], ['PUBLISHED', '1'], ['DRAFT', '1'], ['PUBLISHED', '0'],
    ]);
    const pages: string[] = [];
    for await (const page of paginateListEnvironmentTemplateVersions({ client: env.proton, pageSize: 3 }, { templateName: 'vpc' })) {
      pages.push(numbers(page.templateVersions).join(' '));
    }
    expect(pages).toEqual(['1.0 1.1 1.2', '2.0']);
    const minorsOfOne = await env.proton.send(new ListEnvironmentTemplateVersionsCommand({ templateName: 'vpc', majorVersion: '1' }));
    expect(numbers(minorsOfOne.templateVersions)).toEqual(['1.0', '1.1', '1.2']);
  });

  // Summaries carry the members of EnvironmentTemplateVersionSummary only: no schema (and, for service template
  // versions, no compatibleEnvironmentTemplates, which ServiceTemplateVersionSummary lacks).
  test('summaries carry no schema and no compatibleEnvironmentTemplates', async () => {
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'fargate' }));
    await publish('fargate');
    await env.proton.send(new CreateServiceTemplateCommand({ name: 'svc' }));
    const source = await env.uploadBundle('bundles', 'svc.tar.gz', FARGATE_SVC);
    await env.proton.send(new CreateServiceTemplateVersionCommand({
      templateName: 'svc', source, compatibleEnvironmentTemplates: [{ templateName: 'fargate', majorVersion: '1' }],
    }));
    clock.advance(REGISTRATION_DELAY_MS);
    const [summary] = (await env.proton.send(new ListServiceTemplateVersionsCommand({ templateName: 'svc' }))).templateVersions!;
    expect(Object.keys(summary).sort())
      .toEqual(['arn', 'createdAt', 'lastModifiedAt', 'majorVersion', 'minorVersion', 'status', 'statusMessage', 'templateName']);
    const [envSummary] = (await env.proton.send(new ListEnvironmentTemplateVersionsCommand({ templateName: 'fargate' }))).templateVersions!;
    expect(envSummary).not.toHaveProperty('schema');
  });
});

describe('managed tags', () => {
  // User guide, "AWS Proton resources and tagging": "When you create an AWS Proton resource, AWS Proton automatically
  // generates AWS managed tags for your new resource", e.g. "aws:proton:template" = "arn:...:environment-template/env-template";
  // "System created tags that begin with the aws: prefix are reserved for AWS use, and do not count against this limit.
  // You can't edit or delete a tag that begins with the aws: prefix."
  test('templates and their versions carry aws:proton:template, which counts for nothing and cannot be removed', async () => {
    const tags = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `${i}` }));
    const template = (await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'vpc', tags }))).environmentTemplate!;
    const listed = (await env.proton.send(new ListTagsForResourceCommand({ resourceArn: template.arn! }))).tags!;
    expect(listed).toHaveLength(51);
    expect(listed).toContainEqual({ key: 'aws:proton:template', value: template.arn });
    const version = await createVersion('vpc');
    expect((await env.proton.send(new ListTagsForResourceCommand({ resourceArn: version.arn! }))).tags)
      .toEqual([{ key: 'aws:proton:template', value: template.arn }]);
    await expect(env.proton.send(new UntagResourceCommand({ resourceArn: version.arn!, tagKeys: ['aws:proton:template'] })))
      .rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('unimplemented operations', () => {
  // The SDK retries errors whose model shape is retryable (InternalServerException: "retryable": {"throttling": false})
  // and HTTP 500/502/503/504; an operation proton-local lacks answers the same way every time, so it must be neither.
  test('answer 501 NotImplementedException once, which the SDK does not retry', async () => {
    const log = new RequestLog();
    const server = new ProtonServer({
      clock,
      settings: { region: 'us-east-1', accountId: '123456789012', registrationDelayMs: 0, deploymentDelayMs: 0, failDeploymentsFor: new Set() },
      faults: new Faults(clock),
      requestLog: log,
      blobs: new MemoryBlobStore(),
      maxObjectBytes: 1024,
      state: () => emptyState(),
      persist: tracker => void tracker.takeChanges(),
      reset: () => undefined,
    }, []);
    const { port } = await server.listen('127.0.0.1', 0);
    const client = protonClient(`http://127.0.0.1:${port}`, { maxAttempts: 3 });
    try {
      const error = await client.send(new ListEnvironmentTemplatesCommand({})).catch(e => e);
      expect(error).toMatchObject({
        name: 'NotImplementedException',
        message: 'proton-local does not implement ListEnvironmentTemplates yet',
        $fault: 'server',
        $metadata: { httpStatusCode: 501, attempts: 1 },
      });
      expect(log.counts()).toEqual({ ListEnvironmentTemplates: { NotImplementedException: 1 } });
    } finally {
      client.destroy();
      await server.close();
    }
  });
});

describe('checked and correct (pinned)', () => {
  // Waiter EnvironmentTemplateVersionRegistered (waiters-2.json): success when status is DRAFT or PUBLISHED, failure on
  // REGISTRATION_FAILED.
  test('the SDK registration waiter succeeds on DRAFT and fails on REGISTRATION_FAILED', async () => {
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'vpc' }));
    const ok = await createVersion('vpc');
    const broken = await createVersion('vpc', { files: { ...VPC_ENV, 'schema/schema.yaml': 'schema: [not a mapping]' } });
    clock.advance(REGISTRATION_DELAY_MS);
    const wait = (minorVersion: string, majorVersion: string) => waitUntilEnvironmentTemplateVersionRegistered(
      { client: env.proton, maxWaitTime: 5 }, { templateName: 'vpc', majorVersion, minorVersion });
    expect((await wait(ok.minorVersion!, ok.majorVersion!)).state).toBe('SUCCESS');
    await expect(wait(broken.minorVersion!, broken.majorVersion!)).rejects.toThrow(/FAILURE/);
  });

  // The List*Outputs and List*ProvisionedResources operations take an EmptyNextToken (length 0 to 0): they are not paginated.
  test('a nextToken on an EmptyNextToken operation is a ValidationException', async () => {
    await expect(env.proton.send(new ListEnvironmentOutputsCommand({ environmentName: 'prod', nextToken: 'abc' })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 0") });
  });

  // "If no other minor versions of an environment template exist, delete a major version of the environment template if
  // it's not the Recommended version." Deleting the last minor removes the major: it is no longer listed, and a new minor
  // can't be added to it.
  test('deleting the last minor of a major removes the major', async () => {
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'vpc' }));
    await publish('vpc'); // 1.0, recommended
    await createVersion('vpc'); // 2.0, draft
    await env.proton.send(new DeleteEnvironmentTemplateVersionCommand({ templateName: 'vpc', majorVersion: '2', minorVersion: '0' }));
    expect(numbers((await env.proton.send(new ListEnvironmentTemplateVersionsCommand({ templateName: 'vpc' }))).templateVersions)).toEqual(['1.0']);
    await expect(createVersion('vpc', { majorVersion: '2' })).rejects.toMatchObject({ name: 'ValidationException' });
  });

  // Idempotent delete APIs: "If you retry and the resource doesn't exist, the response is empty." DeleteEnvironmentTemplate
  // output: "The detailed data of the environment template being deleted."
  test('DeleteEnvironmentTemplate returns the template, then an empty answer; optional members are absent, not null', async () => {
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'vpc' }));
    const deleted = await env.proton.send(new DeleteEnvironmentTemplateCommand({ name: 'vpc' }));
    expect(Object.keys(deleted.environmentTemplate!).sort()).toEqual(['arn', 'createdAt', 'lastModifiedAt', 'name']);
    const again = await env.proton.send(new DeleteEnvironmentTemplateCommand({ name: 'vpc' }));
    expect(again.environmentTemplate).toBeUndefined();
  });

  // GetEnvironmentTemplateVersion: required members arn, createdAt, lastModifiedAt, majorVersion, minorVersion, status,
  // templateName; no service-only members on an environment template version. Proton's own answers (user guide
  // examples; `aws proton list-environment-template-versions` output) carry "statusMessage": "" once a version is
  // registered, and no statusMessage while REGISTRATION_IN_PROGRESS.
  test('a version has exactly the modelled members: statusMessage "" once registered, none while registering', async () => {
    await env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'vpc' }));
    const created = await createVersion('vpc');
    expect(Object.keys(created).sort()).toEqual(['arn', 'createdAt', 'lastModifiedAt', 'majorVersion', 'minorVersion', 'status', 'templateName']);
    clock.advance(REGISTRATION_DELAY_MS);
    const version = (await env.proton.send(new GetEnvironmentTemplateVersionCommand({ templateName: 'vpc', majorVersion: '1', minorVersion: '0' })))
      .environmentTemplateVersion!;
    expect(Object.keys(version).sort())
      .toEqual(['arn', 'createdAt', 'lastModifiedAt', 'majorVersion', 'minorVersion', 'schema', 'status', 'statusMessage', 'templateName']);
    expect(version.statusMessage).toBe('');
    expect(version.createdAt).toBeInstanceOf(Date);
  });
});

describe('GetResourcesSummary', () => {
  const w = useWorkloads();

  // "The environments object will only contain total members." "The components object will only contain total and
  // failed members." Service instances and pipelines get staleness counts: "A resource is stale when it's behind the
  // recommended version of the Proton template that it uses".
  test('environments count only a total; service instances and pipelines count staleness against the recommended version', async () => {
    await w.environmentTemplate('env-tpl');
    await w.environment('prod', 'env-tpl');
    const compatible = [{ templateName: 'env-tpl', majorVersion: '1' }];
    await w.serviceTemplate('svc-tpl', { compatible });
    await w.service('api', 'svc-tpl', serviceSpec([{ name: 'one', environment: 'prod' }]));
    const counts = async () => (await w.env.proton.send(new GetResourcesSummaryCommand({}))).counts!;
    expect(await counts()).toMatchObject({
      environments: { total: 1 },
      serviceInstances: { total: 1, failed: 0, upToDate: 1, behindMajor: 0, behindMinor: 0 },
      pipelines: { total: 1, upToDate: 1 },
      components: { total: 0, failed: 0 },
    });
    expect(Object.keys((await counts()).environments!)).toEqual(['total']);
    await w.serviceTemplate('svc-tpl', { compatible, majorVersion: '1' }); // 1.1
    expect((await counts()).serviceInstances).toMatchObject({ upToDate: 0, behindMinor: 1 });
    await w.serviceTemplate('svc-tpl', { compatible }); // 2.0
    expect((await counts()).serviceInstances).toMatchObject({ behindMajor: 1, behindMinor: 0 });
    expect((await counts()).pipelines).toMatchObject({ behindMajor: 1 });
  });
});
