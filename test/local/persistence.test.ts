/**
 * proton-local's --state persistence: a snapshot plus an append-only journal, object contents in content-addressed
 * blob files beside it, replay after a crash, schema-checked loading, and requests that fail when their changes
 * can't be saved (never "succeeded in memory but not saved").
 */
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CreateEnvironmentTemplateCommand, GetEnvironmentTemplateCommand, ListEnvironmentTemplatesCommand } from '@aws-sdk/client-proton';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { protonClient, TEST_CREDENTIALS, TEST_REGION } from './helpers';
import { ProtonLocal } from '../../src/local';
import { blobKeyOf } from '../../src/local/blobs';

// The module object itself (not an import namespace copy), so that spies replace what the persistence code calls.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs: typeof import('fs') = require('fs');

let dir: string;
let stateFile: string;
const running: ProtonLocal[] = [];

async function start(): Promise<{ local: ProtonLocal; proton: ReturnType<typeof protonClient>; s3: S3Client }> {
  const local = await ProtonLocal.start({ stateFile });
  running.push(local);
  return {
    local,
    proton: protonClient(local.endpoint),
    s3: new S3Client({ endpoint: local.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true, maxAttempts: 1 }),
  };
}

const templateNames = async (proton: ReturnType<typeof protonClient>) =>
  (await proton.send(new ListEnvironmentTemplatesCommand({}))).templates!.map(t => t.name);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'proton-local-persistence-'));
  stateFile = join(dir, 'state.json');
});
afterEach(async () => {
  jest.restoreAllMocks();
  for (const local of running.splice(0)) {
    await local.stop();
  }
  rmSync(dir, { recursive: true, force: true });
});

test('object contents are blob files named by their SHA-256, never inside the state JSON', async () => {
  const { local, s3 } = await start();
  const content = Buffer.from(`bundle bytes ${'z'.repeat(1000)}`);
  await s3.send(new CreateBucketCommand({ Bucket: 'bucket' }));
  await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'a.tar.gz', Body: content }));
  await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'same-content.tar.gz', Body: content }));
  s3.destroy();
  await local.stop();

  const snapshot = readFileSync(stateFile, 'utf8');
  expect(snapshot).not.toContain(content.toString('base64').slice(0, 40));
  expect(readdirSync(`${stateFile}.blobs`)).toEqual([blobKeyOf(content)]);
  expect(readFileSync(join(`${stateFile}.blobs`, blobKeyOf(content)))).toEqual(content);
  expect(JSON.parse(snapshot).state.s3.bucket.objects['a.tar.gz']).toMatchObject({ blob: blobKeyOf(content), size: content.length });
});

test('a mutation appends one journal line and leaves the snapshot alone', async () => {
  const { proton } = await start();
  await proton.send(new CreateEnvironmentTemplateCommand({ name: 'first' }));
  const snapshot = readFileSync(stateFile, 'utf8');
  const journalBefore = readFileSync(`${stateFile}.journal`, 'utf8');
  await proton.send(new CreateEnvironmentTemplateCommand({ name: 'second', description: 'd' }));
  expect(readFileSync(stateFile, 'utf8')).toBe(snapshot);
  const added = readFileSync(`${stateFile}.journal`, 'utf8').slice(journalBefore.length).trim().split('\n');
  expect(added).toHaveLength(1);
  const entry = JSON.parse(added[0]);
  expect(entry.ops.map((op: unknown[]) => op[0])).toEqual(expect.arrayContaining([['environmentTemplates', 'second']]));
  // Reads write nothing.
  await proton.send(new GetEnvironmentTemplateCommand({ name: 'second' }));
  expect(readFileSync(`${stateFile}.journal`, 'utf8').slice(journalBefore.length).trim().split('\n')).toHaveLength(1);
  proton.destroy();
});

test('after a crash (no stop) the journal is replayed; a torn last line is dropped', async () => {
  const crashed = await start();
  await crashed.proton.send(new CreateEnvironmentTemplateCommand({ name: 'kept' }));
  await crashed.proton.send(new CreateEnvironmentTemplateCommand({ name: 'also-kept' }));
  crashed.proton.destroy();
  // The crash cut the next append short.
  appendFileSync(`${stateFile}.journal`, '{"seq":99,"ops":[[["environmentTemplates","torn"],{"na');

  const { proton } = await start();
  expect(await templateNames(proton)).toEqual(['also-kept', 'kept']);
  proton.destroy();
});

test('deleting the state file starts afresh, even when a crash left its journal and blobs', async () => {
  const crashed = await start();
  await crashed.proton.send(new CreateEnvironmentTemplateCommand({ name: 'old' }));
  crashed.proton.destroy();
  rmSync(stateFile);

  const { proton } = await start();
  expect(await templateNames(proton)).toEqual([]);
  proton.destroy();
});

test('a state file of the wrong shape is refused at start, naming what is wrong', async () => {
  writeFileSync(stateFile, JSON.stringify({ environmentTemplates: [], bogus: {} }));
  const failure = ProtonLocal.start({ stateFile });
  await expect(failure).rejects.toThrow(`Cannot load the proton-local state file ${stateFile}`);
  await expect(ProtonLocal.start({ stateFile })).rejects.toThrow(/must NOT have additional properties 'bogus'; \/environmentTemplates must be object/);

  writeFileSync(stateFile, JSON.stringify({ protonLocalState: 2, seq: 0, state: { s3: { b: { createdAt: 1, objects: { k: { etag: '"x"', lastModified: 1 } } } } } }));
  await expect(ProtonLocal.start({ stateFile })).rejects.toThrow('/s3/b/objects/k');
  writeFileSync(stateFile, JSON.stringify({ protonLocalState: 7, seq: 0, state: {} }));
  await expect(ProtonLocal.start({ stateFile })).rejects.toThrow('unsupported snapshot format 7');
});

test('a state file of an older proton-local (contents in base64) is read, its contents moved to blobs', async () => {
  const content = Buffer.from('old bundle');
  writeFileSync(stateFile, JSON.stringify({
    s3: { bucket: { createdAt: 1, objects: { key: { body: content.toString('base64'), etag: '"e"', lastModified: 1 } } } },
  }));
  const { local, s3 } = await start();
  const object = await s3.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'key' }));
  expect(Buffer.from(await object.Body!.transformToByteArray())).toEqual(content);
  s3.destroy();
  await local.stop();
  expect(readFileSync(stateFile, 'utf8')).not.toContain(content.toString('base64'));
});

test('a Proton mutation that cannot be saved fails with a 500 and is not applied', async () => {
  const { local, proton } = await start();
  jest.spyOn(fs, 'fdatasyncSync').mockImplementationOnce(() => {
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  });
  await expect(proton.send(new CreateEnvironmentTemplateCommand({ name: 'lost' })))
    .rejects.toMatchObject({ name: 'InternalServerException', message: expect.stringContaining('could not save the state') });
  await expect(proton.send(new GetEnvironmentTemplateCommand({ name: 'lost' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

  await proton.send(new CreateEnvironmentTemplateCommand({ name: 'saved' }));
  proton.destroy();
  await local.stop();
  const again = await start();
  expect(await templateNames(again.proton)).toEqual(['saved']);
  again.proton.destroy();
});

test('an S3 PutObject whose content cannot be saved fails with InternalError and stores nothing', async () => {
  const { s3 } = await start();
  await s3.send(new CreateBucketCommand({ Bucket: 'bucket' }));
  jest.spyOn(fs, 'fsyncSync').mockImplementationOnce(() => {
    throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
  });
  await expect(s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'k', Body: 'content' })))
    .rejects.toMatchObject({ name: 'InternalError', message: expect.stringContaining('EIO'), $metadata: { httpStatusCode: 500 } });
  await expect(s3.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  expect(readdirSync(`${stateFile}.blobs`)).toEqual([]);
  await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'k', Body: 'content' }));
  expect(await (await s3.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }))).Body!.transformToString()).toBe('content');
  s3.destroy();
});

test('an S3 mutation whose journal entry cannot be saved fails with InternalError and is undone', async () => {
  const { s3 } = await start();
  await s3.send(new CreateBucketCommand({ Bucket: 'bucket' }));
  jest.spyOn(fs, 'fdatasyncSync').mockImplementationOnce(() => {
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  });
  await expect(s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'k', Body: 'content' })))
    .rejects.toMatchObject({ name: 'InternalError', message: expect.stringContaining('could not save the state') });
  await expect(s3.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  s3.destroy();
});

test('stop compacts: the snapshot holds everything and the journal file is gone', async () => {
  const { local, proton } = await start();
  await proton.send(new CreateEnvironmentTemplateCommand({ name: 'one' }));
  expect(statSync(`${stateFile}.journal`).size).toBeGreaterThan(0);
  proton.destroy();
  await local.stop();
  expect(existsSync(`${stateFile}.journal`)).toBe(false);
  expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({ protonLocalState: 2, seq: 1, state: { environmentTemplates: { one: { name: 'one' } } } });
});
