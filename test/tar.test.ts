/**
 * src/private/tar.ts against two independent implementations: tar-stream (in process) and GNU tar (the `tar` command,
 * on every Linux machine and CI runner; the tests that need it say so in their names when it is missing).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tarStream from 'tar-stream';
import { TarEntryMetadata, TarFile, TarFormatError, fitsUstarHeader, readTar, writeTar } from '../src/private/tar';

const METADATA: TarEntryMetadata = { mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(Date.UTC(2000, 0, 1)) };
const LONG_PATH = `${'d'.repeat(90)}/${'e'.repeat(90)}/file.yaml`;
const FILES: TarFile[] = [
  { path: 'schema/schema.yaml', content: Buffer.from('schema:\n  format: { openapi: "3.0.0" }\n') },
  { path: 'empty.txt', content: Buffer.alloc(0) },
  { path: 'infrastructure/block.bin', content: Buffer.alloc(512, 7) },
  { path: LONG_PATH, content: Buffer.from('a: 1\n') },
];

async function tarStreamPack(entries: Array<{ header: Partial<tarStream.Header> & { name: string }; content?: Buffer }>): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const { header, content } of entries) {
    if (content) pack.entry(header, content);
    else pack.entry(header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function gnuTar(): string | undefined {
  try {
    return /GNU tar/.test(execFileSync('tar', ['--version'], { encoding: 'utf8' })) ? 'tar' : undefined;
  } catch {
    return undefined;
  }
}
const GNU_TAR = gnuTar();
const withGnuTar = GNU_TAR ? test : test.skip;
const needsGnuTar = GNU_TAR ? '' : ' (skipped: no GNU tar on PATH)';

describe('writeTar', () => {
  test('writes the bytes tar-stream writes for the same entries and metadata', async () => {
    const expected = await tarStreamPack(FILES.map((f) => ({ header: { ...METADATA, name: f.path, size: f.content.length, type: 'file' }, content: f.content })));
    expect(writeTar(FILES, METADATA).equals(expected)).toBe(true);
  });

  test('the bytes depend on the paths, contents and metadata only: a fixed digest on every machine', () => {
    const digest = createHash('sha256').update(writeTar(FILES, METADATA)).digest('hex');
    expect(digest).toBe(createHash('sha256').update(writeTar(FILES.map((f) => ({ ...f, content: Buffer.from(f.content) })), METADATA)).digest('hex'));
    expect(digest).toBe('2889c9d43a2cb6455a3202cddac31d766f65b6a3e6bc8f46327d695c87578bb3');
  });

  test('refuses a path a ustar header cannot hold, naming it', () => {
    for (const path of ['infrastructure/café.yaml', 'x'.repeat(101), `${'d'.repeat(156)}/file.yaml`]) {
      expect(fitsUstarHeader(path)).toBe(false);
      expect(() => writeTar([{ path, content: Buffer.alloc(1) }], METADATA)).toThrow(new TarFormatError(
        `${path}: a ustar header holds ASCII paths of at most 100 bytes per file name and 256 in all`));
    }
    expect(fitsUstarHeader('x'.repeat(100))).toBe(true);
    expect(fitsUstarHeader(LONG_PATH)).toBe(true);
  });

  withGnuTar(`GNU tar lists and extracts the archive with its metadata${needsGnuTar}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-test-'));
    try {
      writeFileSync(join(dir, 'a.tar'), writeTar(FILES, METADATA));
      const listing = execFileSync('tar', ['-tvf', 'a.tar', '--numeric-owner', '--utc'], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
      expect(listing).toEqual(FILES.map((f) => expect.stringMatching(new RegExp(`^-rw-r--r-- 0/0 +${f.content.length} 2000-01-01 00:00 ${f.path}$`))));
      mkdirSync(join(dir, 'out'));
      execFileSync('tar', ['-xf', '../a.tar'], { cwd: join(dir, 'out') });
      for (const f of FILES) expect(readFileSync(join(dir, 'out', f.path)).equals(f.content)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('readTar', () => {
  test('reads its own archives back', () => {
    expect(readTar(writeTar(FILES, METADATA))).toEqual(FILES.map((f) => ({ path: f.path, type: 'file', content: f.content })));
  });

  test('reads tar-stream archives: folders, links, and pax headers for paths ustar cannot hold', async () => {
    const paxPath = `${'p'.repeat(120)}/ünïcode-${'q'.repeat(150)}.yaml`;
    const archive = await tarStreamPack([
      { header: { name: 'schema/', type: 'directory' } },
      { header: { name: 'schema/schema.yaml', size: 4 }, content: Buffer.from('a: 1') },
      { header: { name: 'link.yaml', type: 'symlink', linkname: 'schema/schema.yaml' } },
      { header: { name: paxPath, size: 2 }, content: Buffer.from('ok') },
    ]);
    expect(readTar(archive).map(({ path, type, content }) => [path, type, content.toString()])).toEqual([
      ['schema/', 'directory', ''],
      ['schema/schema.yaml', 'file', 'a: 1'],
      ['link.yaml', 'symlink', ''],
      [paxPath, 'file', 'ok'],
    ]);
  });

  withGnuTar(`reads GNU tar's gnu, pax and ustar formats, long names and ./ prefixes included${needsGnuTar}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-test-'));
    try {
      const longName = `${'n'.repeat(150)}.yaml`;
      mkdirSync(join(dir, 'bundle', 'schema'), { recursive: true });
      writeFileSync(join(dir, 'bundle', 'schema', 'schema.yaml'), 'a: 1\n');
      writeFileSync(join(dir, 'bundle', longName), 'long\n');
      symlinkSync('schema/schema.yaml', join(dir, 'bundle', 'link'));
      for (const format of ['gnu', 'pax']) {
        execFileSync('tar', [`--format=${format}`, '--sort=name', '-cf', `../${format}.tar`, '.'], { cwd: join(dir, 'bundle') });
        expect(readTar(readFileSync(join(dir, `${format}.tar`))).map(({ path, type }) => [path, type])).toEqual([
          ['./', 'directory'], ['./link', 'symlink'], [`./${longName}`, 'file'], ['./schema/', 'directory'], ['./schema/schema.yaml', 'file'],
        ]);
      }
      execFileSync('tar', ['--format=ustar', '-cf', '../ustar.tar', 'schema/schema.yaml'], { cwd: join(dir, 'bundle') });
      expect(readTar(readFileSync(join(dir, 'ustar.tar')))).toEqual([{ path: 'schema/schema.yaml', type: 'file', content: Buffer.from('a: 1\n') }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses a corrupt header, an unknown format, an entry cut short and a malformed pax record, naming the header', async () => {
    const good = writeTar(FILES.slice(0, 1), METADATA);
    const corrupt = Buffer.from(good);
    corrupt[0] = 'x'.charCodeAt(0);
    expect(() => readTar(corrupt)).toThrow(new TarFormatError('the tar header at byte 0 has a wrong checksum (a corrupt archive, or not a tar file)'));
    expect(() => readTar(Buffer.from('x'.repeat(1024)))).toThrow(/^the tar header at byte 0 has a wrong checksum/);

    const v7 = Buffer.from(good);
    v7.fill(0, 257, 265);
    v7.write(`${checksumOf(v7).toString(8).padStart(6, '0')} \0`, 148, 'latin1');
    expect(() => readTar(v7)).toThrow(new TarFormatError('the tar header at byte 0 is neither ustar, pax nor GNU tar'));

    expect(() => readTar(good.subarray(0, 512 + 10))).toThrow(new TarFormatError(
      `the tar header at byte 0 announces ${FILES[0].content.length} bytes, past the end of the archive`));

    const pax = await tarStreamPack([{ header: { name: 'x'.repeat(300), size: 1 }, content: Buffer.from('x') }]);
    const broken = Buffer.from(pax);
    broken.write('9999', 512, 'latin1');
    expect(() => readTar(broken)).toThrow(new TarFormatError('the tar header at byte 0 holds a malformed pax record'));
  });
});

function checksumOf(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum;
}
