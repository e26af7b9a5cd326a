/**
 * Names that are also members of JavaScript's Object.prototype are valid Proton names (and S3 keys): every resource
 * family keyed by name must treat them as plain names (no 500s, false idempotency mismatches or `{"name":"Object"}`).
 */
import {
  CreateComponentCommand, CreateEnvironmentTemplateCommand, CreateServiceTemplateCommand, DeleteEnvironmentTemplateCommand,
  GetComponentCommand, GetEnvironmentCommand, GetEnvironmentTemplateCommand, GetServiceCommand, GetServiceInstanceCommand,
  GetServiceSyncConfigCommand, GetServiceTemplateCommand, ListTagsForResourceCommand, TagResourceCommand, UntagResourceCommand,
} from '@aws-sdk/client-proton';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { sampleBundle } from './helpers';
import { COMPONENT_ROLE, serviceSpec, useWorkloads } from './workload-helpers';

const BUILT_INS = ['constructor', 'toString', 'hasOwnProperty', 'valueOf'];

describe('proton-local names that are Object.prototype members', () => {
  const w = useWorkloads();
  const proton = () => w.env.proton;

  test.each(BUILT_INS)('templates named %s: absent until created, then found, created again idempotently, deleted', async name => {
    await expect(proton().send(new GetEnvironmentTemplateCommand({ name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(proton().send(new GetServiceTemplateCommand({ name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const created = (await proton().send(new CreateEnvironmentTemplateCommand({ name, description: 'd' }))).environmentTemplate!;
    expect(created.name).toBe(name);
    expect((await proton().send(new CreateEnvironmentTemplateCommand({ name, description: 'd' }))).environmentTemplate).toEqual(created);
    expect((await proton().send(new GetEnvironmentTemplateCommand({ name }))).environmentTemplate!.name).toBe(name);
    await proton().send(new CreateServiceTemplateCommand({ name }));
    expect((await proton().send(new GetServiceTemplateCommand({ name }))).serviceTemplate!.name).toBe(name);
    await proton().send(new DeleteEnvironmentTemplateCommand({ name }));
    await expect(proton().send(new GetEnvironmentTemplateCommand({ name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('environments, services, instances and components named like Object.prototype members', async () => {
    for (const name of BUILT_INS) {
      await expect(proton().send(new GetEnvironmentCommand({ name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      await expect(proton().send(new GetServiceCommand({ name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      await expect(proton().send(new GetComponentCommand({ name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      await expect(proton().send(new GetServiceSyncConfigCommand({ serviceName: name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    }
    await w.environmentTemplate('toString');
    await w.environment('constructor', 'toString', { componentRoleArn: COMPONENT_ROLE });
    expect((await proton().send(new GetEnvironmentCommand({ name: 'constructor' }))).environment)
      .toMatchObject({ name: 'constructor', templateName: 'toString', deploymentStatus: 'SUCCEEDED' });

    await w.serviceTemplate('valueOf', { compatible: [{ templateName: 'toString', majorVersion: '1' }], pipelineProvisioning: 'CUSTOMER_MANAGED' });
    await w.service('hasOwnProperty', 'valueOf', serviceSpec([{ name: 'constructor', environment: 'constructor' }], null), { withPipeline: false });
    expect((await proton().send(new GetServiceCommand({ name: 'hasOwnProperty' }))).service).toMatchObject({ name: 'hasOwnProperty', status: 'ACTIVE' });
    expect((await proton().send(new GetServiceInstanceCommand({ serviceName: 'hasOwnProperty', name: 'constructor' }))).serviceInstance)
      .toMatchObject({ name: 'constructor', environmentName: 'constructor', deploymentStatus: 'SUCCEEDED' });

    const component = sampleBundle('component-templates/s3-bucket-component');
    await proton().send(new CreateComponentCommand({
      name: 'toString', environmentName: 'constructor', manifest: component['manifest.yaml'], templateFile: component['cloudformation.yaml'],
    }));
    w.advance();
    expect((await proton().send(new GetComponentCommand({ name: 'toString' }))).component).toMatchObject({ name: 'toString', deploymentStatus: 'SUCCEEDED' });
  });

  test('tag keys named like Object.prototype members', async () => {
    const { arn } = (await proton().send(new CreateEnvironmentTemplateCommand({ name: 'tagged', tags: [{ key: 'constructor', value: 'a' }] }))).environmentTemplate!;
    await proton().send(new TagResourceCommand({ resourceArn: arn!, tags: [{ key: 'toString', value: 'b' }, { key: '__proto__', value: 'c' }] }));
    const listed = async () => (await proton().send(new ListTagsForResourceCommand({ resourceArn: arn! }))).tags!
      .filter(tag => !tag.key!.startsWith('aws:')).sort((a, b) => a.key!.localeCompare(b.key!));
    expect(await listed()).toEqual([{ key: '__proto__', value: 'c' }, { key: 'constructor', value: 'a' }, { key: 'toString', value: 'b' }]);
    await proton().send(new UntagResourceCommand({ resourceArn: arn!, tagKeys: ['__proto__', 'constructor'] }));
    expect(await listed()).toEqual([{ key: 'toString', value: 'b' }]);
  });

  test('S3 buckets and keys named like Object.prototype members', async () => {
    const s3 = w.env.s3;
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'constructor', Key: 'k' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    await s3.send(new CreateBucketCommand({ Bucket: 'constructor' }));
    await expect(s3.send(new GetObjectCommand({ Bucket: 'constructor', Key: 'toString' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    for (const key of ['__proto__', 'constructor', 'toString']) {
      await s3.send(new PutObjectCommand({ Bucket: 'constructor', Key: key, Body: `content of ${key}` }));
    }
    const object = await s3.send(new GetObjectCommand({ Bucket: 'constructor', Key: '__proto__' }));
    expect(await object.Body!.transformToString()).toBe('content of __proto__');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'constructor' }));
    expect(listed.Contents!.map(c => c.Key)).toEqual(['__proto__', 'constructor', 'toString']);
  });
});
