/**
 * Shared setup of the proton-local conformance tests: an emulator per test file, and real SDK clients pointed at it.
 *
 *   const env = useProtonLocal({ registrationDelayMs: 20 });   // starts before all, resets before each, stops after all
 *   await env.proton.send(new GetEnvironmentTemplateCommand({ name: 'x' }));
 */
import { readdirSync, readFileSync } from 'fs';
import { join, relative } from 'path';
import { ProtonClient, ProtonClientConfig } from '@aws-sdk/client-proton';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ProtonLocal, ProtonLocalOptions } from '../../src/local';
import { packBundle } from '../../src/private/bundle';

export const TEST_CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'x' };
export const TEST_REGION = 'us-east-1';

export function protonClient(endpoint: string, config: Partial<ProtonClientConfig> = {}): ProtonClient {
  return new ProtonClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1, ...config });
}

export function s3Client(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true });
}

export interface ProtonLocalFixture {
  readonly local: ProtonLocal;
  /** maxAttempts 1: every error surfaces at once. Build others with protonClient(env.local.endpoint, {...}). */
  readonly proton: ProtonClient;
  readonly s3: S3Client;
  /** Packs the files with packBundle and uploads them to bucket/key (creating the bucket). */
  uploadBundle(bucket: string, key: string, files: { [path: string]: string }): Promise<{ s3: { bucket: string; key: string } }>;
}

/** Starts one emulator for the test file (beforeAll), resets it before each test, stops it after all. */
export function useProtonLocal(options: ProtonLocalOptions = {}): ProtonLocalFixture {
  const fixture: { local?: ProtonLocal; proton?: ProtonClient; s3?: S3Client } = {};
  beforeAll(async () => {
    fixture.local = await ProtonLocal.start(options);
    fixture.proton = protonClient(fixture.local.endpoint);
    fixture.s3 = s3Client(fixture.local.endpoint);
  });
  beforeEach(() => fixture.local!.reset());
  afterAll(async () => {
    fixture.proton?.destroy();
    fixture.s3?.destroy();
    await fixture.local?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) {
      throw new Error('proton-local is not started: use the fixture inside tests, not at module level');
    }
    return value;
  };
  return {
    get local() { return started(fixture.local); },
    get proton() { return started(fixture.proton); },
    get s3() { return started(fixture.s3); },
    uploadBundle: (bucket, key, files) => uploadBundle(started(fixture.s3), bucket, key, files),
  };
}

export async function uploadBundle(s3: S3Client, bucket: string, key: string, files: { [path: string]: string }) {
  const archive = await packBundle(Object.entries(files).map(([path, content]) => ({ path, content: Buffer.from(content) })));
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: archive }));
  return { s3: { bucket, key } };
}

export const SAMPLES_DIR = join(__dirname, '..', 'fixtures', 'proton-samples');

/** The files under a directory of test/fixtures/proton-samples (e.g. 'environment-templates/vpc-env/v1'), by bundle path. */
export function sampleBundle(directory: string): { [path: string]: string } {
  const root = join(SAMPLES_DIR, directory);
  const files: { [path: string]: string } = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
      } else {
        files[relative(root, path).split('\\').join('/')] = readFileSync(path, 'utf8');
      }
    }
  };
  walk(root);
  return files;
}
