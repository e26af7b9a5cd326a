/**
 * Content-addressed storage of object bytes (S3 objects, template bundles), kept out of the state so that the state
 * stays small and a mutation never rewrites megabytes. A blob's key is the SHA-256 of its content (hex).
 *
 * On disk (beside the state file) each blob is one file, written once: to a temporary name, fsync'd, then renamed,
 * so a blob file is either absent or complete. Without a state file, blobs live in memory.
 */
import { createHash, randomUUID } from 'crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'fs';
import { join } from 'path';

const BLOB_NAME = /^[0-9a-f]{64}$/;

export function blobKeyOf(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export interface BlobStore {
  /** Stores the content (once: equal contents share a blob) and returns its key. */
  put(content: Buffer): string;
  /** The content, or undefined when no blob has that key. */
  get(key: string): Buffer | undefined;
  /** Deletes every blob whose key is not in `keep` (called when no request runs). */
  retainOnly(keep: ReadonlySet<string>): void;
}

export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Buffer>();

  put(content: Buffer): string {
    const key = blobKeyOf(content);
    if (!this.blobs.has(key)) {
      this.blobs.set(key, Buffer.from(content));
    }
    return key;
  }

  get(key: string): Buffer | undefined {
    return this.blobs.get(key);
  }

  retainOnly(keep: ReadonlySet<string>): void {
    for (const key of this.blobs.keys()) {
      if (!keep.has(key)) {
        this.blobs.delete(key);
      }
    }
  }
}

/** The temporary files of writeFileDurably carry this after the name of the file they become. */
export const TEMPORARY_SUFFIX = '.tmp-';

/** Removes the temporary files of writes a crash interrupted, for the files of `directory` that `owns`. */
export function removeTemporaryFiles(directory: string, owns: (name: string) => boolean): void {
  for (const name of readdirSync(directory)) {
    const at = name.lastIndexOf(TEMPORARY_SUFFIX);
    if (at > 0 && owns(name.slice(0, at))) {
      rmSync(join(directory, name), { force: true });
    }
  }
}

/** Writes a file durably: temporary name beside it, fsync, rename, fsync of the directory. */
export function writeFileDurably(file: string, directory: string, content: Buffer | string): void {
  const temporary = `${file}${TEMPORARY_SUFFIX}${process.pid}-${randomUUID()}`;
  const fd = openSync(temporary, 'w');
  try {
    try {
      const bytes = typeof content === 'string' ? Buffer.from(content) : content;
      let written = 0;
      while (written < bytes.length) {
        written += writeSync(fd, bytes, written, bytes.length - written);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncDirectory(directory);
}

export function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class FileBlobStore implements BlobStore {
  constructor(readonly directory: string) {
    mkdirSync(directory, { recursive: true });
    removeTemporaryFiles(directory, name => BLOB_NAME.test(name));
  }

  put(content: Buffer): string {
    const key = blobKeyOf(content);
    const file = join(this.directory, key);
    if (!existsSync(file)) {
      writeFileDurably(file, this.directory, content);
    }
    return key;
  }

  get(key: string): Buffer | undefined {
    if (!BLOB_NAME.test(key)) {
      return undefined;
    }
    try {
      return readFileSync(join(this.directory, key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return undefined;
      }
      throw error;
    }
  }

  retainOnly(keep: ReadonlySet<string>): void {
    for (const name of readdirSync(this.directory)) {
      if (BLOB_NAME.test(name) && !keep.has(name)) {
        rmSync(join(this.directory, name), { force: true });
      }
    }
  }
}
