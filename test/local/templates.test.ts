import {
  CreateEnvironmentCommand, CreateEnvironmentTemplateCommand, CreateEnvironmentTemplateVersionCommand, CreateServiceTemplateCommand,
  CreateRepositoryCommand, CreateServiceTemplateVersionCommand, DeleteEnvironmentTemplateCommand, DeleteEnvironmentTemplateVersionCommand,
  DeleteServiceTemplateCommand, DeleteServiceTemplateVersionCommand, GetAccountSettingsCommand, GetEnvironmentTemplateCommand,
  GetEnvironmentTemplateVersionCommand, GetResourcesSummaryCommand, GetServiceTemplateCommand, GetServiceTemplateVersionCommand,
  ListEnvironmentTemplatesCommand, ListEnvironmentTemplateVersionsCommand, ListTagsForResourceCommand, paginateListEnvironmentTemplates,
  TagResourceCommand, UntagResourceCommand, UpdateAccountSettingsCommand, UpdateEnvironmentTemplateCommand,
  UpdateEnvironmentTemplateVersionCommand, UpdateServiceTemplateVersionCommand,
} from '@aws-sdk/client-proton';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { sampleBundle, useProtonLocal } from './helpers';
import { ManualClock } from '../../src/local';
import { registerTemplateVersionUsageCheck } from '../../src/local/emulator/state';

const REGISTRATION_DELAY_MS = 1000;
const clock = new ManualClock();
const env = useProtonLocal({ clock, registrationDelayMs: REGISTRATION_DELAY_MS });

const VPC_ENV = sampleBundle('environment-templates/vpc-env/v1');
const FARGATE_SVC = sampleBundle('service-templates/load-balanced-fargate-svc/v1');
const ENV_SCHEMA = (properties: string) => `schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "EnvInput"
  types:
    EnvInput:
      type: object
      properties:
${properties}
`;
const withSchema = (schema: string) => ({ ...VPC_ENV, 'schema/schema.yaml': schema });

async function envTemplate(name = 'vpc', extra: object = {}) {
  return (await env.proton.send(new CreateEnvironmentTemplateCommand({ name, ...extra }))).environmentTemplate!;
}

async function envVersion(templateName: string, files: { [path: string]: string } = VPC_ENV, extra: object = {}) {
  const source = await env.uploadBundle('bundles', `${templateName}/${Math.random()}.tar.gz`, files);
  return (await env.proton.send(new CreateEnvironmentTemplateVersionCommand({ templateName, source, ...extra }))).environmentTemplateVersion!;
}

async function getEnvVersion(templateName: string, majorVersion: string, minorVersion: string) {
  return (await env.proton.send(new GetEnvironmentTemplateVersionCommand({ templateName, majorVersion, minorVersion }))).environmentTemplateVersion!;
}

async function registered(templateName: string, files?: { [path: string]: string }, extra: object = {}) {
  const version = await envVersion(templateName, files, extra);
  clock.advance(REGISTRATION_DELAY_MS);
  return getEnvVersion(templateName, version.majorVersion!, version.minorVersion!);
}

async function published(templateName: string, files?: { [path: string]: string }, extra: object = {}) {
  const version = await registered(templateName, files, extra);
  expect(version.status).toBe('DRAFT');
  return (await env.proton.send(new UpdateEnvironmentTemplateVersionCommand({
    templateName, majorVersion: version.majorVersion!, minorVersion: version.minorVersion!, status: 'PUBLISHED',
  }))).environmentTemplateVersion!;
}

describe('environment templates', () => {
  test('create returns the ARN, timestamps and the given fields; get returns the same', async () => {
    const created = await envTemplate('vpc', { displayName: 'VPC', description: 'a vpc', provisioning: 'CUSTOMER_MANAGED' });
    expect(created).toEqual({
      arn: 'arn:aws:proton:us-east-1:123456789012:environment-template/vpc',
      name: 'vpc',
      displayName: 'VPC',
      description: 'a vpc',
      provisioning: 'CUSTOMER_MANAGED',
      createdAt: new Date(clock.now()),
      lastModifiedAt: new Date(clock.now()),
    });
    const got = await env.proton.send(new GetEnvironmentTemplateCommand({ name: 'vpc' }));
    expect(got.environmentTemplate).toEqual(created);
  });

  test('create with the same input returns the existing template; different input is an idempotent parameter mismatch', async () => {
    const first = await envTemplate('vpc', { description: 'd' });
    clock.advance(5000);
    expect(await envTemplate('vpc', { description: 'd' })).toEqual(first);
    await expect(envTemplate('vpc', { description: 'other' })).rejects.toMatchObject({
      name: 'ValidationException', message: expect.stringContaining('Idempotent parameter mismatch'),
    });
  });

  test('create again after the template was modified is a ConflictException', async () => {
    await envTemplate('vpc', { description: 'd' });
    const updated = await env.proton.send(new UpdateEnvironmentTemplateCommand({ name: 'vpc', displayName: 'New' }));
    expect(updated.environmentTemplate!.lastModifiedAt).toEqual(new Date(clock.now()));
    await expect(envTemplate('vpc', { description: 'd' })).rejects.toMatchObject({ name: 'ConflictException' });
  });

  test('get, update and version operations on a missing template are ResourceNotFoundException', async () => {
    await expect(env.proton.send(new GetEnvironmentTemplateCommand({ name: 'nope' })))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('environment-template/nope') });
    await expect(env.proton.send(new UpdateEnvironmentTemplateCommand({ name: 'nope', description: 'x' })))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(envVersion('nope')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('an account registers at most 100 templates, environment and service templates together', async () => {
    for (let i = 0; i < 60; i++) {
      await envTemplate(`env${i}`);
    }
    for (let i = 0; i < 40; i++) {
      await env.proton.send(new CreateServiceTemplateCommand({ name: `svc${i}` }));
    }
    await expect(envTemplate('one-more')).rejects.toMatchObject({
      name: 'ServiceQuotaExceededException', message: expect.stringContaining('at most 100 templates'),
    });
    expect(await envTemplate('env0')).toMatchObject({ name: 'env0' }); // an idempotent repeat is not a new template
  });

  test('list pages through templates with maxResults and nextToken, sorted by name', async () => {
    for (const name of ['e', 'a', 'd', 'b', 'c']) {
      await envTemplate(name);
    }
    const first = await env.proton.send(new ListEnvironmentTemplatesCommand({ maxResults: 2 }));
    expect(first.templates!.map(t => t.name)).toEqual(['a', 'b']);
    expect(first.nextToken).toBeDefined();
    const names: string[] = [];
    for await (const page of paginateListEnvironmentTemplates({ client: env.proton, pageSize: 2 }, {})) {
      names.push(...page.templates!.map(t => t.name!));
    }
    expect(names).toEqual(['a', 'b', 'c', 'd', 'e']);
    await expect(env.proton.send(new ListEnvironmentTemplatesCommand({ nextToken: 'Ym9ndXM=' })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('nextToken') });
  });
});

describe('template version registration', () => {
  test('REGISTRATION_IN_PROGRESS, then DRAFT with the schema after the registration delay', async () => {
    await envTemplate();
    const created = await envVersion('vpc', VPC_ENV, { description: 'first' });
    expect(created).toMatchObject({
      templateName: 'vpc',
      majorVersion: '1',
      minorVersion: '0',
      status: 'REGISTRATION_IN_PROGRESS',
      description: 'first',
      arn: 'arn:aws:proton:us-east-1:123456789012:environment-template/vpc:1.0',
    });
    clock.advance(REGISTRATION_DELAY_MS - 1);
    expect((await getEnvVersion('vpc', '1', '0')).status).toBe('REGISTRATION_IN_PROGRESS');
    clock.advance(1);
    const registeredVersion = await getEnvVersion('vpc', '1', '0');
    expect(registeredVersion.status).toBe('DRAFT');
    expect(registeredVersion.schema).toBe(VPC_ENV['schema/schema.yaml']);
    expect(registeredVersion.recommendedMinorVersion).toBeUndefined();
  });

  test('omitting majorVersion creates a new major; giving one adds a minor; a missing major is an error', async () => {
    await envTemplate();
    expect((await registered('vpc')).majorVersion).toBe('1');
    const second = await registered('vpc');
    expect([second.majorVersion, second.minorVersion]).toEqual(['2', '0']);
    const minor = await registered('vpc', VPC_ENV, { majorVersion: '1' });
    expect([minor.majorVersion, minor.minorVersion, minor.status]).toEqual(['1', '1', 'DRAFT']);
    await expect(envVersion('vpc', VPC_ENV, { majorVersion: '7' })).rejects.toMatchObject({
      name: 'ValidationException', message: expect.stringContaining('has no major version 7'),
    });
  });

  test('a missing source object is a ValidationException naming the S3 location', async () => {
    await envTemplate();
    await expect(env.proton.send(new CreateEnvironmentTemplateVersionCommand({
      templateName: 'vpc', source: { s3: { bucket: 'bundles', key: 'missing.tar.gz' } },
    }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('s3://bundles/missing.tar.gz') });
  });

  test.each([
    ['a missing schema file', () => { const { 'schema/schema.yaml': _, ...rest } = VPC_ENV; return rest; }, /schema\/schema\.yaml: missing/],
    ['invalid YAML', () => ({ ...VPC_ENV, 'infrastructure/manifest.yaml': 'infrastructure: [unclosed' }), /manifest\.yaml: not valid YAML/],
    ['a schema without its input type', () => withSchema(ENV_SCHEMA('        size:\n          type: string').replace(/ *environment_input_type.*\n/, '')), /environment_input_type/],
    ['an archive that is not a tarball', undefined, /not a gzip-compressed tar/],
  ])('%s fails registration with a statusMessage', async (_case, files, message) => {
    await envTemplate();
    let version;
    if (files) {
      version = await registered('vpc', files());
    } else {
      await env.s3.send(new CreateBucketCommand({ Bucket: 'bundles' }));
      await env.s3.send(new PutObjectCommand({ Bucket: 'bundles', Key: 'bad', Body: 'not a tarball' }));
      const created = await env.proton.send(new CreateEnvironmentTemplateVersionCommand({ templateName: 'vpc', source: { s3: { bucket: 'bundles', key: 'bad' } } }));
      expect(created.environmentTemplateVersion!.status).toBe('REGISTRATION_IN_PROGRESS');
      clock.advance(REGISTRATION_DELAY_MS);
      version = await getEnvVersion('vpc', '1', '0');
    }
    expect(version.status).toBe('REGISTRATION_FAILED');
    expect(version.statusMessage).toMatch(message);
  });

  test('a new minor whose schema is not backward compatible with the previous minor fails registration', async () => {
    await envTemplate();
    const v1 = ENV_SCHEMA('        size:\n          type: string\n          default: small');
    const removed = ENV_SCHEMA('        other:\n          type: string\n          default: x');
    expect((await registered('vpc', withSchema(v1))).status).toBe('DRAFT');
    const incompatible = await registered('vpc', withSchema(removed), { majorVersion: '1' });
    expect(incompatible.status).toBe('REGISTRATION_FAILED');
    expect(incompatible.statusMessage).toMatch(/not backward compatible with version 1\.0.*size/);
    // The same schema as a new major is fine.
    expect((await registered('vpc', withSchema(removed))).status).toBe('DRAFT');
  });

  test('a service template with a pipeline needs pipeline_input_type; CUSTOMER_MANAGED pipelines need no pipeline', async () => {
    await envTemplate('fargate');
    await published('fargate');
    const compatibleEnvironmentTemplates = [{ templateName: 'fargate', majorVersion: '1' }];
    await env.proton.send(new CreateServiceTemplateCommand({ name: 'svc' }));
    const schema = FARGATE_SVC['schema/schema.yaml'].replace(/pipeline_input_type:.*\n/, '');
    const source = await env.uploadBundle('bundles', 'svc-no-pipeline-type', { ...FARGATE_SVC, 'schema/schema.yaml': schema });
    await env.proton.send(new CreateServiceTemplateVersionCommand({ templateName: 'svc', source, compatibleEnvironmentTemplates }));
    clock.advance(REGISTRATION_DELAY_MS);
    const failed = (await env.proton.send(new GetServiceTemplateVersionCommand({ templateName: 'svc', majorVersion: '1', minorVersion: '0' }))).serviceTemplateVersion!;
    expect(failed.status).toBe('REGISTRATION_FAILED');
    expect(failed.statusMessage).toContain('pipeline_input_type');

    await env.proton.send(new CreateServiceTemplateCommand({ name: 'svc-cm', pipelineProvisioning: 'CUSTOMER_MANAGED' }));
    const instanceOnly = Object.fromEntries(Object.entries(FARGATE_SVC).filter(([path]) => !path.startsWith('pipeline_infrastructure/')));
    const cmSource = await env.uploadBundle('bundles', 'svc-cm', { ...instanceOnly, 'schema/schema.yaml': schema });
    const created = await env.proton.send(new CreateServiceTemplateVersionCommand({
      templateName: 'svc-cm', source: cmSource, compatibleEnvironmentTemplates, supportedComponentSources: ['DIRECTLY_DEFINED'],
    }));
    expect(created.serviceTemplateVersion).toMatchObject({ compatibleEnvironmentTemplates, supportedComponentSources: ['DIRECTLY_DEFINED'] });
    clock.advance(REGISTRATION_DELAY_MS);
    const ok = (await env.proton.send(new GetServiceTemplateVersionCommand({ templateName: 'svc-cm', majorVersion: '1', minorVersion: '0' }))).serviceTemplateVersion!;
    expect(ok).toMatchObject({ status: 'DRAFT', arn: 'arn:aws:proton:us-east-1:123456789012:service-template/svc-cm:1.0' });
    const template = (await env.proton.send(new GetServiceTemplateCommand({ name: 'svc-cm' }))).serviceTemplate!;
    expect(template.pipelineProvisioning).toBe('CUSTOMER_MANAGED');
  });

  test('compatible environment templates must name existing environment template majors', async () => {
    await envTemplate('fargate');
    await registered('fargate');
    await env.proton.send(new CreateServiceTemplateCommand({ name: 'svc' }));
    const source = await env.uploadBundle('bundles', 'svc', FARGATE_SVC);
    const create = (templateName: string, majorVersion: string) => env.proton.send(new CreateServiceTemplateVersionCommand({
      templateName: 'svc', source, compatibleEnvironmentTemplates: [{ templateName, majorVersion }],
    }));
    await expect(create('nope', '1')).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("'nope' does not exist") });
    await expect(create('fargate', '2')).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('no major version 2') });
    const created = await create('fargate', '1');
    clock.advance(REGISTRATION_DELAY_MS);
    expect(created.serviceTemplateVersion!.status).toBe('REGISTRATION_IN_PROGRESS');
    await expect(env.proton.send(new UpdateServiceTemplateVersionCommand({
      templateName: 'svc', majorVersion: '1', minorVersion: '0', compatibleEnvironmentTemplates: [{ templateName: 'fargate', majorVersion: '3' }],
    }))).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('client tokens', () => {
  test('the same token and parameters return the original version; different parameters are a mismatch', async () => {
    await envTemplate();
    const source = await env.uploadBundle('bundles', 'vpc.tar.gz', VPC_ENV);
    const create = (description: string) => env.proton.send(new CreateEnvironmentTemplateVersionCommand({
      templateName: 'vpc', source, clientToken: 'token-1', description,
    }));
    const first = (await create('d')).environmentTemplateVersion!;
    clock.advance(REGISTRATION_DELAY_MS);
    const again = (await create('d')).environmentTemplateVersion!;
    expect([again.arn, again.status]).toEqual([first.arn, 'DRAFT']);
    await expect(create('different')).rejects.toMatchObject({
      name: 'ValidationException', message: expect.stringContaining('IdempotentParameterMismatch'),
    });
    const versions = await env.proton.send(new ListEnvironmentTemplateVersionsCommand({ templateName: 'vpc', majorVersion: '1' }));
    expect(versions.templateVersions).toHaveLength(1);
  });

  test('tokens expire after 8 hours on the emulator clock; a token whose version was deleted creates a new one', async () => {
    await envTemplate();
    const source = await env.uploadBundle('bundles', 'vpc.tar.gz', VPC_ENV);
    const create = () => env.proton.send(new CreateEnvironmentTemplateVersionCommand({ templateName: 'vpc', source, clientToken: 'tok' }));
    expect((await create()).environmentTemplateVersion!.majorVersion).toBe('1');
    clock.advance(8 * 60 * 60 * 1000 - 1);
    expect((await create()).environmentTemplateVersion!.majorVersion).toBe('1');
    clock.advance(1);
    expect((await create()).environmentTemplateVersion!.majorVersion).toBe('2');
    await env.proton.send(new DeleteEnvironmentTemplateVersionCommand({ templateName: 'vpc', majorVersion: '2', minorVersion: '0' }));
    expect((await create()).environmentTemplateVersion!.majorVersion).toBe('3');
  });
});

describe('publishing and recommended versions', () => {
  test('only a DRAFT version can be published', async () => {
    await envTemplate();
    const update = (minorVersion: string, status: string) => env.proton.send(new UpdateEnvironmentTemplateVersionCommand({
      templateName: 'vpc', majorVersion: '1', minorVersion, status: status as any,
    }));
    await envVersion('vpc');
    await expect(update('0', 'PUBLISHED')).rejects.toMatchObject({
      name: 'ValidationException', message: expect.stringContaining('REGISTRATION_IN_PROGRESS'),
    });
    clock.advance(REGISTRATION_DELAY_MS);
    await expect(update('0', 'REGISTRATION_FAILED')).rejects.toMatchObject({ name: 'ValidationException' });
    expect((await update('0', 'PUBLISHED')).environmentTemplateVersion!.status).toBe('PUBLISHED');
    await expect(update('0', 'PUBLISHED')).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('from DRAFT to PUBLISHED') });
    await expect(update('0', 'DRAFT')).rejects.toMatchObject({ name: 'ValidationException' });
    await registered('vpc', withSchema('schema: [not a mapping]'), { majorVersion: '1' });
    await expect(update('1', 'PUBLISHED')).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('REGISTRATION_FAILED') });
  });

  test('a newly published version becomes recommended when it is the highest major and minor', async () => {
    await envTemplate();
    const recommended = async () => (await env.proton.send(new GetEnvironmentTemplateCommand({ name: 'vpc' }))).environmentTemplate!.recommendedVersion;
    await registered('vpc');
    expect(await recommended()).toBeUndefined();
    await published('vpc', VPC_ENV, { majorVersion: '1' }); // 1.1
    expect(await recommended()).toBe('1.1');
    await published('vpc'); // 2.0
    expect(await recommended()).toBe('2.0');
    await published('vpc', VPC_ENV, { majorVersion: '1' }); // 1.2: published but not the highest
    expect(await recommended()).toBe('2.0');
    expect((await getEnvVersion('vpc', '1', '0')).recommendedMinorVersion).toBe('2');
    expect((await getEnvVersion('vpc', '2', '0')).recommendedMinorVersion).toBe('0');
    const all = await env.proton.send(new ListEnvironmentTemplateVersionsCommand({ templateName: 'vpc' }));
    expect(all.templateVersions!.map(v => `${v.majorVersion}.${v.minorVersion}`)).toEqual(['1.0', '1.1', '1.2', '2.0']);
    const minors = await env.proton.send(new ListEnvironmentTemplateVersionsCommand({ templateName: 'vpc', majorVersion: '1', maxResults: 2 }));
    expect(minors.templateVersions!.map(v => v.minorVersion)).toEqual(['0', '1']);
    const rest = await env.proton.send(new ListEnvironmentTemplateVersionsCommand({ templateName: 'vpc', majorVersion: '1', nextToken: minors.nextToken }));
    expect(rest.templateVersions!.map(v => v.minorVersion)).toEqual(['2']);
    expect(rest.nextToken).toBeUndefined();
  });
});

describe('deletion rules', () => {
  test('a template with versions cannot be deleted; deletes are idempotent', async () => {
    await envTemplate();
    await registered('vpc');
    await expect(env.proton.send(new DeleteEnvironmentTemplateCommand({ name: 'vpc' }))).rejects.toMatchObject({
      name: 'ConflictException', message: expect.stringContaining('has major versions that must first be deleted'),
    });
    const deletedVersion = await env.proton.send(new DeleteEnvironmentTemplateVersionCommand({ templateName: 'vpc', majorVersion: '1', minorVersion: '0' }));
    expect(deletedVersion.environmentTemplateVersion).toMatchObject({ majorVersion: '1', minorVersion: '0', status: 'DRAFT' });
    const again = await env.proton.send(new DeleteEnvironmentTemplateVersionCommand({ templateName: 'vpc', majorVersion: '1', minorVersion: '0' }));
    expect(again.environmentTemplateVersion).toBeUndefined();
    const deleted = await env.proton.send(new DeleteEnvironmentTemplateCommand({ name: 'vpc' }));
    expect(deleted.environmentTemplate!.name).toBe('vpc');
    expect((await env.proton.send(new DeleteEnvironmentTemplateCommand({ name: 'vpc' }))).environmentTemplate).toBeUndefined();
    await expect(env.proton.send(new GetEnvironmentTemplateCommand({ name: 'vpc' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('the recommended version goes last, and a major\'s recommended minor goes after its other minors', async () => {
    await envTemplate();
    await published('vpc'); // 1.0
    await registered('vpc', VPC_ENV, { majorVersion: '1' }); // 1.1 draft
    await published('vpc'); // 2.0, recommended
    const remove = (majorVersion: string, minorVersion: string) =>
      env.proton.send(new DeleteEnvironmentTemplateVersionCommand({ templateName: 'vpc', majorVersion, minorVersion }));
    await expect(remove('2', '0')).rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('recommended version') });
    await expect(remove('1', '0')).rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('recommended minor version of major version 1') });
    await remove('1', '1');
    await remove('1', '0');
    await remove('2', '0');
    expect((await env.proton.send(new ListEnvironmentTemplateVersionsCommand({ templateName: 'vpc' }))).templateVersions).toEqual([]);
  });

  test('a version in use cannot be deleted, and the error says what uses it', async () => {
    registerTemplateVersionUsageCheck((state, kind, templateName, major, minor) =>
      kind === 'ENVIRONMENT' && templateName === 'in-use' && `${major}.${minor}` === '1.0' && state.environmentTemplates[templateName]
        ? "environment 'prod'" : undefined);
    await envTemplate('in-use');
    await registered('in-use');
    await expect(env.proton.send(new DeleteEnvironmentTemplateVersionCommand({ templateName: 'in-use', majorVersion: '1', minorVersion: '0' })))
      .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining("in use by environment 'prod'") });
  });

  test('service templates follow the same rules', async () => {
    await envTemplate('fargate');
    await registered('fargate');
    await env.proton.send(new CreateServiceTemplateCommand({ name: 'svc' }));
    const source = await env.uploadBundle('bundles', 'svc', FARGATE_SVC);
    await env.proton.send(new CreateServiceTemplateVersionCommand({
      templateName: 'svc', source, compatibleEnvironmentTemplates: [{ templateName: 'fargate', majorVersion: '1' }],
    }));
    await expect(env.proton.send(new DeleteServiceTemplateCommand({ name: 'svc' }))).rejects.toMatchObject({ name: 'ConflictException' });
    await env.proton.send(new DeleteServiceTemplateVersionCommand({ templateName: 'svc', majorVersion: '1', minorVersion: '0' }));
    expect((await env.proton.send(new DeleteServiceTemplateCommand({ name: 'svc' }))).serviceTemplate!.name).toBe('svc');
  });
});

describe('input validation names the member', () => {
  test('pattern, length and required violations use AWS wording', async () => {
    await expect(envTemplate('x y')).rejects.toMatchObject({
      name: 'ValidationException',
      message: "1 validation error detected: Value 'x y' at 'name' failed to satisfy constraint: " +
        'Member must satisfy regular expression pattern: ^[0-9A-Za-z]+[0-9A-Za-z_\\-]*$',
    });
    await expect(envTemplate('a'.repeat(101))).rejects.toThrow(/at 'name' failed to satisfy constraint: Member must have length less than or equal to 100/);
    await expect(env.proton.send(new GetEnvironmentTemplateVersionCommand({ templateName: 'vpc', majorVersion: '01', minorVersion: '' } as any)))
      .rejects.toThrow(/^3 validation errors detected: Value '01' at 'majorVersion'.*pattern.*; Value '' at 'minorVersion'.*length greater than or equal to 1; .*'minorVersion'.*pattern/);
    await expect(env.proton.send(new CreateEnvironmentTemplateVersionCommand({ templateName: 'vpc', source: { s3: { bucket: 'Bad_Bucket', key: 'k' } } })))
      .rejects.toThrow(/at 'source\.s3\.bucket'/);
    await expect(env.proton.send(new CreateEnvironmentTemplateVersionCommand({ templateName: 'vpc', source: {} as any })))
      .rejects.toThrow(/at 'source' failed to satisfy constraint: Member must have exactly one member set/);
    await expect(env.proton.send(new ListEnvironmentTemplatesCommand({ maxResults: 101 })))
      .rejects.toThrow(/Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100/);
    await expect(env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'ok', provisioning: 'SELF' as any })))
      .rejects.toThrow(/at 'provisioning' failed to satisfy constraint: Member must satisfy enum value set: \[CUSTOMER_MANAGED\]/);
    await expect(env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'ok', tags: [{ key: 'k', value: 'v'.repeat(257) }] })))
      .rejects.toThrow(/at 'tags\.1\.member\.value' failed to satisfy constraint/);
  });
});

describe('tags', () => {
  test('tags given at create, added, listed and removed by ARN; aws: keys are reserved; at most 50', async () => {
    const template = await envTemplate('vpc', { tags: [{ key: 'team', value: 'a' }] });
    const managed = { key: 'aws:proton:template', value: template.arn };
    const list = async () => (await env.proton.send(new ListTagsForResourceCommand({ resourceArn: template.arn! }))).tags;
    expect(await list()).toEqual([{ key: 'team', value: 'a' }, managed]);
    await env.proton.send(new TagResourceCommand({ resourceArn: template.arn!, tags: [{ key: 'team', value: 'b' }, { key: 'cost', value: '1' }] }));
    expect(await list()).toEqual([{ key: 'team', value: 'b' }, managed, { key: 'cost', value: '1' }]);
    await env.proton.send(new UntagResourceCommand({ resourceArn: template.arn!, tagKeys: ['team', 'absent'] }));
    expect(await list()).toEqual([managed, { key: 'cost', value: '1' }]);
    await expect(env.proton.send(new TagResourceCommand({ resourceArn: template.arn!, tags: [{ key: 'aws:proton:x', value: 'v' }] })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("'aws:'") });
    await expect(env.proton.send(new UntagResourceCommand({ resourceArn: template.arn!, tagKeys: ['aws:proton:template'] })))
      .rejects.toMatchObject({ name: 'ValidationException' });
    const fifty = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: '' }));
    await expect(env.proton.send(new TagResourceCommand({ resourceArn: template.arn!, tags: fifty })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('51 customer tags') });
    await expect(envTemplate('many', { tags: [...fifty, { key: 'one-more', value: '' }] }))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/at 'tags' .*length less than or equal to 50$/) });
    const page = await env.proton.send(new ListTagsForResourceCommand({ resourceArn: template.arn!, maxResults: 1 }));
    expect(page.tags).toHaveLength(1);
  });

  test('template versions are taggable; unknown and deleted ARNs are ResourceNotFoundException', async () => {
    await envTemplate();
    const version = await registered('vpc', VPC_ENV, { tags: [{ key: 'v', value: '1' }] });
    expect((await env.proton.send(new ListTagsForResourceCommand({ resourceArn: version.arn! }))).tags)
      .toEqual([{ key: 'v', value: '1' }, { key: 'aws:proton:template', value: 'arn:aws:proton:us-east-1:123456789012:environment-template/vpc' }]);
    await env.proton.send(new DeleteEnvironmentTemplateVersionCommand({ templateName: 'vpc', majorVersion: '1', minorVersion: '0' }));
    await expect(env.proton.send(new ListTagsForResourceCommand({ resourceArn: version.arn! }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(env.proton.send(new TagResourceCommand({ resourceArn: 'arn:aws:proton:us-east-1:123456789012:environment/none', tags: [] })))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('account settings', () => {
  test('update sets and clears the pipeline roles and repository; get returns them', async () => {
    const role = 'arn:aws:iam::123456789012:role/pipeline';
    const repository = { provider: 'GITHUB' as const, name: 'org/repo', branch: 'main' };
    await expect(env.proton.send(new UpdateAccountSettingsCommand({ pipelineProvisioningRepository: repository })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("repository 'org/repo' is not linked") });
    await env.proton.send(new CreateRepositoryCommand({
      provider: 'GITHUB', name: 'org/repo', connectionArn: 'arn:aws:codestar-connections:us-east-1:123456789012:connection/abc',
    }));
    await env.proton.send(new UpdateAccountSettingsCommand({ pipelineServiceRoleArn: role, pipelineProvisioningRepository: repository }));
    expect((await env.proton.send(new GetAccountSettingsCommand({}))).accountSettings).toEqual({
      pipelineServiceRoleArn: role,
      pipelineProvisioningRepository: { ...repository, arn: 'arn:aws:proton:us-east-1:123456789012:repository/github:org/repo' },
    });
    const both = { pipelineProvisioningRepository: repository, deletePipelineProvisioningRepository: true };
    await expect(env.proton.send(new UpdateAccountSettingsCommand(both)))
      .rejects.toMatchObject({ name: 'ValidationException' });
    await env.proton.send(new UpdateAccountSettingsCommand({ pipelineServiceRoleArn: '', deletePipelineProvisioningRepository: true }));
    expect((await env.proton.send(new GetAccountSettingsCommand({}))).accountSettings).toEqual({});
  });

  test('the resources summary counts templates and environments (environments: total only)', async () => {
    await envTemplate('a');
    await envTemplate('vpc');
    await published('vpc');
    await env.proton.send(new CreateEnvironmentCommand({
      name: 'prod',
      templateName: 'vpc',
      templateMajorVersion: '1',
      spec: 'proton: EnvironmentSpec\nspec: {}\n',
      protonServiceRoleArn: 'arn:aws:iam::123456789012:role/proton',
    }));
    await published('vpc'); // 2.0: the environment is behind a major, which the summary does not report for environments
    const summary = await env.proton.send(new GetResourcesSummaryCommand({}));
    expect(summary.counts).toMatchObject({ environmentTemplates: { total: 2 }, serviceTemplates: { total: 0 }, services: { total: 0 } });
    expect(summary.counts!.environments).toEqual({ total: 1 });
  });
});
