/**
 * The part of the tar format template bundles need: writing ustar archives of regular files, and reading what other tools
 * write (POSIX ustar and pax, GNU tar's long names).
 *
 * Why not a library: constructs pack bundles at synth time, which is synchronous, and the package must stay small.
 * tar-stream packs asynchronously only (its synchronous header encoder is private) and, since 3.1.8, pulls in bare-fs and
 * its native prebuilds (2.4 MB of the package, packed); tar (node-tar) would add 713 KB packed in 6 packages for the two
 * functions below; modern-tar is ESM-only and asynchronous; nanotar writes no ustar prefix (paths over 100 bytes) and
 * silently rewrites `..` paths when reading. test/tar.test.ts checks these archives against tar-stream and GNU tar.
 */

const BLOCK = 512;
const NAME_BYTES = 100;
const PREFIX_BYTES = 155;
/** "ustar\0" then version "00": POSIX ustar (pax archives carry it too). GNU tar writes "ustar  \0". */
const USTAR_MAGIC = Buffer.from('ustar\x0000', 'latin1');
const GNU_MAGIC = Buffer.from('ustar  \x00', 'latin1');
const MAGIC_OFFSET = 257;
const CHECKSUM_OFFSET = 148;
const CHECKSUM_BYTES = 8;
const TYPEFLAG_OFFSET = 156;
const PREFIX_OFFSET = 345;

/** Entry types by typeflag, named as tar-stream names them. */
const ENTRY_TYPES: { [flag: string]: TarEntryType } = Object.fromEntries([
  ['0', 'file'], ['\0', 'file'], ['1', 'link'], ['2', 'symlink'], ['3', 'character-device'], ['4', 'block-device'],
  ['5', 'directory'], ['6', 'fifo'], ['7', 'contiguous-file'],
]);
const PAX_HEADER = 'x';
const PAX_GLOBAL_HEADER = 'g';
const GNU_LONG_NAME = 'L';
const GNU_LONG_LINK_NAME = 'K';

export type TarEntryType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo'
| 'contiguous-file' | `typeflag ${string}`;

/** The metadata every entry of a written archive gets. */
export interface TarEntryMetadata {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  readonly mtime: Date;
}

export interface TarFile {
  readonly path: string;
  readonly content: Buffer;
}

export interface TarEntry {
  /** The path as archived (pax and GNU long names applied, ustar prefix joined); not normalized. */
  readonly path: string;
  readonly type: TarEntryType;
  readonly content: Buffer;
}

/** An archive or entry the functions here cannot write or read; the message says which entry and why. */
export class TarFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarFormatError';
  }
}

/**
 * A ustar archive of regular files, in the order given, each with the same metadata: the bytes depend on nothing else.
 * The layout is tar-stream's (test/tar.test.ts compares the two), so archives are the bytes earlier releases wrote.
 *
 * @throws TarFormatError for a path ustar cannot hold (see fitsUstarHeader)
 */
export function writeTar(files: TarFile[], metadata: TarEntryMetadata): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    blocks.push(encodeHeader(file.path, file.content.length, metadata), file.content, Buffer.alloc(padding(file.content.length)));
  }
  // The end of an archive: two zero blocks.
  blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}

/** Whether a ustar header holds the path: ASCII, at most 100 bytes per file name and 255 in all. */
export function fitsUstarHeader(path: string): boolean {
  return splitUstarPath(path) !== undefined;
}

/** ustar splits a long path at a '/': up to 155 bytes of folders in the prefix field, the rest in the name field. */
function splitUstarPath(path: string): { name: string; prefix: string } | undefined {
  // eslint-disable-next-line no-control-regex
  if (!/^[\x01-\x7f]+$/.test(path)) return undefined;
  let name = path;
  const folders: string[] = [];
  while (name.length > NAME_BYTES && name.includes('/')) {
    const slash = name.indexOf('/');
    folders.push(name.slice(0, slash));
    name = name.slice(slash + 1);
  }
  const prefix = folders.join('/');
  return name.length > NAME_BYTES || prefix.length > PREFIX_BYTES ? undefined : { name, prefix };
}

function encodeHeader(path: string, size: number, metadata: TarEntryMetadata): Buffer {
  const split = splitUstarPath(path);
  if (!split) {
    throw new TarFormatError(`${path}: a ustar header holds ASCII paths of at most ${NAME_BYTES} bytes per file name and ${NAME_BYTES + PREFIX_BYTES + 1} in all`);
  }
  const { name, prefix } = split;
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 'latin1');
  header.write(octal(metadata.mode % 0o10000, 6), 100, 'latin1');
  header.write(octal(metadata.uid, 6), 108, 'latin1');
  header.write(octal(metadata.gid, 6), 116, 'latin1');
  if (size.toString(8).length > 11) {
    throw new TarFormatError(`${path}: ${size} bytes is more than a ustar entry holds`);
  }
  header.write(octal(size, 11), 124, 'latin1');
  header.write(octal(Math.floor(metadata.mtime.getTime() / 1000), 11), 136, 'latin1');
  header.write('0', TYPEFLAG_OFFSET, 'latin1');
  USTAR_MAGIC.copy(header, MAGIC_OFFSET);
  header.write(metadata.uname, 265, 32, 'latin1');
  header.write(metadata.gname, 297, 32, 'latin1');
  header.write(octal(0, 6), 329, 'latin1');
  header.write(octal(0, 6), 337, 'latin1');
  header.write(prefix, PREFIX_OFFSET, 'latin1');
  header.write(octal(checksum(header), 6), CHECKSUM_OFFSET, 'latin1');
  return header;
}

/**
 * The entries of a tar archive, in archive order. Pax path records, GNU long names and the ustar prefix are applied;
 * pax global headers and the entries' other metadata are ignored.
 *
 * @throws TarFormatError when a header's checksum or format is wrong, or the archive ends inside an entry
 */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longPath: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const at = `the tar header at byte ${offset}`;
    if (readOctal(header, CHECKSUM_OFFSET, CHECKSUM_BYTES) !== checksum(header)) {
      throw new TarFormatError(`${at} has a wrong checksum (a corrupt archive, or not a tar file)`);
    }
    const magic = header.subarray(MAGIC_OFFSET, MAGIC_OFFSET + 8);
    const ustar = magic.equals(USTAR_MAGIC);
    if (!ustar && !magic.equals(GNU_MAGIC)) {
      throw new TarFormatError(`${at} is neither ustar, pax nor GNU tar`);
    }
    const size = readSize(header, at);
    const start = offset + BLOCK;
    if (start + size > archive.length) {
      throw new TarFormatError(`${at} announces ${size} bytes, past the end of the archive`);
    }
    const content = archive.subarray(start, start + size);
    offset = start + size + padding(size);

    const flag = String.fromCharCode(header[TYPEFLAG_OFFSET]);
    if (flag === PAX_HEADER) {
      longPath = paxRecords(content, at).path ?? longPath;
      continue;
    }
    if (flag === GNU_LONG_NAME) {
      longPath = readString(content, 0, content.length);
      continue;
    }
    if (flag === PAX_GLOBAL_HEADER || flag === GNU_LONG_LINK_NAME) continue;

    const name = readString(header, 0, NAME_BYTES);
    const prefix = ustar ? readString(header, PREFIX_OFFSET, PREFIX_BYTES) : '';
    const path = longPath ?? (prefix ? `${prefix}/${name}` : name);
    longPath = undefined;
    // Old tars mark folders by a trailing '/' on a regular entry.
    const type = ENTRY_TYPES[flag] === 'file' && path.endsWith('/') ? 'directory' : ENTRY_TYPES[flag] ?? `typeflag ${flag}`;
    entries.push({ path, type, content: Buffer.from(content) });
  }
  return entries;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Zero-padded octal digits and a space; the field's last byte stays NUL. */
function octal(value: number, digits: number): string {
  return `${value.toString(8).padStart(digits, '0')} `;
}

/** The header's byte sum with the checksum field counted as spaces. */
function checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) {
    sum += i >= CHECKSUM_OFFSET && i < CHECKSUM_OFFSET + CHECKSUM_BYTES ? 0x20 : header[i];
  }
  return sum;
}

function readString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

/** An octal field: leading spaces or NULs, digits, then a space or NUL. */
function readOctal(block: Buffer, start: number, length: number): number {
  const digits = block.subarray(start, start + length).toString('latin1').replace(/^[ \0]+/, '').replace(/[ \0].*$/s, '');
  return /^[0-7]+$/.test(digits) ? parseInt(digits, 8) : NaN;
}

/** Sizes past 8 GiB are base-256 (GNU tar, star): the first byte's high bit set, big-endian digits after it. */
function readSize(header: Buffer, at: string): number {
  if (header[124] >= 0x80) {
    let size = 0;
    for (let i = 125; i < 136; i++) size = size * 256 + header[i];
    return size;
  }
  const size = readOctal(header, 124, 12);
  if (Number.isNaN(size)) {
    throw new TarFormatError(`${at} has no valid size`);
  }
  return size;
}

/** Pax extended header records: `<length> <key>=<value>\n`, the length counting the whole record in bytes. */
function paxRecords(content: Buffer, at: string): { [key: string]: string } {
  const records: { [key: string]: string } = {};
  let offset = 0;
  while (offset < content.length && content[offset] !== 0) {
    const space = content.indexOf(0x20, offset);
    const length = Number(content.subarray(offset, space).toString('latin1'));
    if (space === -1 || !Number.isInteger(length) || length <= 0 || offset + length > content.length) {
      throw new TarFormatError(`${at} holds a malformed pax record`);
    }
    const record = content.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}
