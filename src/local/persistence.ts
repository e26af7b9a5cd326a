/**
 * proton-local's state on disk, for `--state FILE` / `stateFile`:
 *
 * - FILE: a snapshot, `{"protonLocalState": 2, "seq": N, "state": {...}}`, replaced atomically (temporary file,
 *   fsync, rename, fsync of the directory). A plain state object (what `GET /_proton-local/state` answers, or a file
 *   of an older proton-local) is read as a snapshot at seq 0.
 * - FILE.journal: one JSON line per persisted request, `{"seq": n, "ops": [[path, value] | [path]]}`: the units
 *   (see tracking.ts) the request changed, each set to its new value or (no value) deleted. Appended and fsync'd
 *   before the request is answered, so a mutation costs what it changed, not the size of the state.
 * - FILE.blobs/: object contents, one file per SHA-256 (blobs.ts), never inside the JSON.
 *
 * Start: read the snapshot, schema-check it, replay the journal lines whose seq is above the snapshot's (a torn last
 * line, from a crash mid-append, is dropped), schema-check the result. Without a snapshot there is nothing to
 * continue: a leftover journal is discarded (deleting FILE starts afresh). Compaction writes a new snapshot and then
 * empties the journal; it runs when the journal outgrows the snapshot (at least COMPACT_MIN_BYTES), at start after a
 * replay and at stop, so its O(state) cost is spread over as many bytes of journal. A crash between the two steps is
 * harmless: the journal's lines are at or below the new snapshot's seq and are skipped. Compaction also deletes the
 * blobs nothing refers to any more.
 */
import { closeSync, existsSync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'fs';
import { basename, dirname } from 'path';
import Ajv, { ErrorObject } from 'ajv';
import { BlobStore, FileBlobStore, removeTemporaryFiles, writeFileDurably } from './blobs';
import { EmulatorState, nameMap, restoreRecord, restoreState, StateCollection } from './emulator/state';
import { UnitChange, UnitPath, valueAt } from './tracking';

const FORMAT_VERSION = 2;
const COMPACT_MIN_BYTES = 8 * 1024 * 1024;

/** One change of a journal line: set the unit at path to value, or delete it. */
export type JournalOp = readonly [UnitPath, unknown] | readonly [UnitPath];

const recordOf = (properties: object, required: string[]) => ({ type: 'object', required, properties });
const mapOf = (values: object) => ({ type: 'object', additionalProperties: values });
const epochMs = { type: 'number' };
const anyRecord = { type: 'object' };
const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$' };

const templateVersionSchema = recordOf({
  templateName: { type: 'string' },
  majorVersion: { type: 'string' },
  minorVersion: { type: 'string' },
  arn: { type: 'string' },
  status: { enum: ['REGISTRATION_IN_PROGRESS', 'REGISTRATION_FAILED', 'DRAFT', 'PUBLISHED'] },
  createdAt: epochMs,
  lastModifiedAt: epochMs,
  bundleBlob: sha256,
  bundle: { type: 'string' },
}, ['templateName', 'majorVersion', 'minorVersion', 'arn', 'status', 'createdAt', 'lastModifiedAt']);

const templateSchema = recordOf({
  kind: { enum: ['ENVIRONMENT', 'SERVICE'] },
  name: { type: 'string' },
  arn: { type: 'string' },
  createdAt: epochMs,
  lastModifiedAt: epochMs,
  createRequest: { type: 'string' },
  versions: mapOf(templateVersionSchema),
  lastMajor: { type: 'number' },
  lastMinorByMajor: mapOf({ type: 'number' }),
}, ['kind', 'name', 'arn', 'createdAt', 'lastModifiedAt', 'createRequest', 'versions', 'lastMajor', 'lastMinorByMajor']);

/** An S3 object: its blob, or (files of an older proton-local) its content in base64, migrated at start. */
const s3ObjectSchema = {
  type: 'object',
  required: ['etag', 'lastModified'],
  properties: { blob: sha256, size: { type: 'number' }, body: { type: 'string' }, etag: { type: 'string' }, lastModified: epochMs, contentType: { type: 'string' } },
  oneOf: [{ required: ['blob', 'size'] }, { required: ['body'] }],
};

const deployableRecord = recordOf({ name: { type: 'string' }, arn: { type: 'string' } }, ['arn']);

const collectionSchemas: { [collection in StateCollection]: object } = {
  environmentTemplates: mapOf(templateSchema),
  serviceTemplates: mapOf(templateSchema),
  tags: mapOf(mapOf({ type: 'string' })),
  clientTokens: mapOf(recordOf({ fingerprint: { type: 'string' }, issuedAt: epochMs, resourceArn: { type: 'string' } },
    ['fingerprint', 'issuedAt', 'resourceArn'])),
  s3: mapOf(recordOf({ createdAt: epochMs, objects: mapOf(s3ObjectSchema) }, ['createdAt', 'objects'])),
  environments: mapOf(deployableRecord),
  services: mapOf(recordOf({ name: { type: 'string' }, arn: { type: 'string' }, instances: { type: 'array', items: deployableRecord } },
    ['name', 'arn', 'instances'])),
  components: mapOf(deployableRecord),
  environmentAccountConnections: mapOf(anyRecord),
  deployments: mapOf(recordOf({
    id: { type: 'string' },
    arn: { type: 'string' },
    targetArn: { type: 'string' },
    targetResourceType: { enum: ['ENVIRONMENT', 'SERVICE_PIPELINE', 'SERVICE_INSTANCE', 'COMPONENT'] },
    deploymentStatus: { type: 'string' },
    createdAt: epochMs,
    completesAt: epochMs,
  }, ['id', 'arn', 'targetArn', 'targetResourceType', 'deploymentStatus', 'createdAt'])),
  repositories: mapOf(anyRecord),
  templateSyncConfigs: mapOf(anyRecord),
  serviceSyncConfigs: mapOf(anyRecord),
  syncBlockers: mapOf(recordOf({ id: { type: 'string' }, serviceName: { type: 'string' }, status: { enum: ['ACTIVE', 'RESOLVED'] } },
    ['id', 'serviceName', 'status'])),
};

const stateSchema = {
  type: 'object',
  properties: { ...collectionSchemas, accountSettings: anyRecord },
  // Collections a newer proton-local added are refused rather than silently dropped.
  additionalProperties: false,
};

const ajv = new Ajv({ allErrors: true, strict: false });
const validateStateShape = ajv.compile(stateSchema);

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  const messages = (errors ?? []).slice(0, 5).map(error => {
    const where = error.instancePath || '(the state)';
    const extra = error.keyword === 'additionalProperties' ? ` '${(error.params as { additionalProperty: string }).additionalProperty}'` : '';
    return `${where} ${error.message}${extra}`;
  });
  const more = (errors?.length ?? 0) > 5 ? `; and ${errors!.length - 5} more` : '';
  return messages.join('; ') + more;
}

/** Throws a message naming every shape problem (up to five) of a state read from disk. */
export function checkStateShape(state: unknown): asserts state is Partial<EmulatorState> {
  if (!validateStateShape(state)) {
    throw new Error(`the state does not have proton-local's shape: ${describeErrors(validateStateShape.errors)}`);
  }
}

/** Moves base64 contents of older state files into the blob store. */
function migrateInlineContents(state: EmulatorState, blobs: BlobStore): void {
  for (const bucket of Object.values(state.s3)) {
    for (const [key, object] of Object.entries(bucket.objects)) {
      const legacy = object as unknown as { body?: string };
      if (legacy.body !== undefined) {
        const content = Buffer.from(legacy.body, 'base64');
        const { body: _, ...rest } = legacy;
        bucket.objects[key] = { ...(rest as any), blob: blobs.put(content), size: content.length };
      }
    }
  }
  for (const template of [...Object.values(state.environmentTemplates), ...Object.values(state.serviceTemplates)]) {
    for (const version of Object.values(template.versions)) {
      const legacy = version as unknown as { bundle?: string };
      if (legacy.bundle !== undefined) {
        (version as any).bundleBlob = blobs.put(Buffer.from(legacy.bundle, 'base64'));
        delete legacy.bundle;
      }
    }
  }
}

/** Every blob the state refers to. */
export function referencedBlobs(state: EmulatorState): Set<string> {
  const keys = new Set<string>();
  for (const bucket of Object.values(state.s3)) {
    for (const object of Object.values(bucket.objects)) {
      keys.add(object.blob);
    }
  }
  for (const template of [...Object.values(state.environmentTemplates), ...Object.values(state.serviceTemplates)]) {
    for (const version of Object.values(template.versions)) {
      if (version.bundleBlob) {
        keys.add(version.bundleBlob);
      }
    }
  }
  return keys;
}

/** Gives a unit's value read from JSON the null-prototype maps the state uses. */
function restoreUnit(path: UnitPath, value: unknown): unknown {
  const collection = path[0] as StateCollection;
  if (path.length === 1 && path[0] !== 'accountSettings') {
    return nameMap(Object.entries(value as object).map(([key, record]) => [key, restoreRecord(collection, record)] as const));
  }
  return path.length === 2 ? restoreRecord(collection, value) : value;
}

/** Sets (value given) or deletes the unit at path; values are JSON-parsed copies the state may keep. */
export function applyToState(state: EmulatorState, path: UnitPath, value: unknown): void {
  let parent: any = state;
  for (const key of path.slice(0, -1)) {
    if (!Object.prototype.hasOwnProperty.call(parent, key) || parent[key] === null || typeof parent[key] !== 'object') {
      if (value === undefined) {
        return; // Deleting below something absent: nothing to do.
      }
      parent[key] = nameMap();
    }
    parent = parent[key];
  }
  const last = path[path.length - 1];
  if (value === undefined) {
    delete parent[last];
  } else {
    parent[last] = restoreUnit(path, value);
  }
}

/** Puts back what the changes replaced (longest paths first, so an enclosing unit's old value wins). */
export function undoChanges(state: EmulatorState, changes: readonly UnitChange[]): void {
  for (const change of [...changes].sort((a, b) => b.path.length - a.path.length)) {
    applyToState(state, change.path, change.before === undefined ? undefined : JSON.parse(change.before));
  }
}

export interface LoadedState {
  readonly state: EmulatorState;
  readonly persistence: StatePersistence;
  readonly blobs: BlobStore;
}

export class StatePersistence {
  /** Reads (or creates) the state kept in `file`; throws a message naming the file when it can't be used. */
  static open(file: string): LoadedState {
    mkdirSync(dirname(file), { recursive: true });
    removeTemporaryFiles(dirname(file), name => name === basename(file));
    const blobs = new FileBlobStore(`${file}.blobs`);
    const journalFile = `${file}.journal`;
    let seq = 0;
    let state: EmulatorState;
    let snapshotBytes = 0;
    try {
      if (existsSync(file)) {
        const text = readFileSync(file, 'utf8');
        snapshotBytes = text.length;
        const parsed = JSON.parse(text);
        const isSnapshot = parsed !== null && typeof parsed === 'object' && 'protonLocalState' in parsed;
        if (isSnapshot && (parsed.protonLocalState !== FORMAT_VERSION || !Number.isSafeInteger(parsed.seq))) {
          throw new Error(`unsupported snapshot format ${JSON.stringify(parsed.protonLocalState)} (seq ${JSON.stringify(parsed.seq)}); `
            + `this proton-local reads format ${FORMAT_VERSION}`);
        }
        const saved = isSnapshot ? parsed.state : parsed;
        checkStateShape(saved);
        state = restoreState(saved);
        seq = isSnapshot ? parsed.seq : 0;
      } else {
        state = restoreState({});
      }
    } catch (error) {
      throw new Error(`Cannot load the proton-local state file ${file}: ${(error as Error).message}. `
        + 'Fix or delete it to start with an empty state.');
    }
    migrateInlineContents(state, blobs);
    let replayed = 0;
    if (!existsSync(file)) {
      // A journal continues its snapshot, which is written before the first append and only ever replaced by a
      // rename: without one, the journal (and blobs) are leftovers of a state someone deleted to start afresh.
      rmSync(journalFile, { force: true });
    }
    if (existsSync(journalFile)) {
      try {
        const lines = readFileSync(journalFile, 'utf8').split('\n');
        // The last element is '' after a complete last line, or a line torn by a crash mid-append (dropped).
        lines.pop();
        lines.forEach((line, index) => {
          let entry: { seq: number; ops: JournalOp[] };
          try {
            entry = JSON.parse(line);
          } catch (error) {
            throw new Error(`line ${index + 1} is not JSON (${(error as Error).message})`);
          }
          if (entry.seq > seq) {
            for (const [path, value] of entry.ops) {
              applyToState(state, path, value);
            }
            seq = entry.seq;
            replayed++;
          }
        });
        checkStateShape(JSON.parse(JSON.stringify(state)));
      } catch (error) {
        throw new Error(`Cannot replay the proton-local journal ${journalFile}: ${(error as Error).message}. `
          + `Delete it to start from the snapshot ${file}.`);
      }
    }
    const persistence = new StatePersistence(file, journalFile, blobs, seq, snapshotBytes);
    if (replayed > 0 || !existsSync(file)) {
      persistence.compact(state);
    }
    return { state, persistence, blobs };
  }

  private readonly journal: number;
  private journalBytes: number;

  private constructor(
    private readonly file: string, private readonly journalFile: string, private readonly blobs: BlobStore,
    private seq: number, private snapshotBytes: number,
  ) {
    this.journal = openSync(journalFile, 'a');
    this.journalBytes = fstatSync(this.journal).size;
  }

  /** Appends the changes of one request (their values read from the state now) and syncs them to disk. */
  append(state: EmulatorState, changes: readonly UnitChange[]): void {
    if (!changes.length) {
      return;
    }
    const ops = [...changes].sort((a, b) => a.path.length - b.path.length).map(({ path }): JournalOp => {
      const value = valueAt(state, path);
      return value === undefined ? [path] : [path, value];
    });
    const line = Buffer.from(`${JSON.stringify({ seq: this.seq + 1, ops })}\n`);
    try {
      let written = 0;
      while (written < line.length) {
        written += writeSync(this.journal, line, written, line.length - written);
      }
      fdatasyncSync(this.journal);
    } catch (error) {
      // Leave no torn line in the middle of the journal: later lines would make it unreadable.
      try {
        ftruncateSync(this.journal, this.journalBytes);
      } catch {
        // The journal's end is then dropped at the next start, as after a crash.
      }
      throw error;
    }
    this.seq++;
    this.journalBytes += line.length;
    if (this.journalBytes > Math.max(COMPACT_MIN_BYTES, this.snapshotBytes)) {
      this.compact(state);
    }
  }

  /** Writes the whole state as the new snapshot, empties the journal and deletes the blobs nothing refers to. */
  compact(state: EmulatorState): void {
    const snapshot = JSON.stringify({ protonLocalState: FORMAT_VERSION, seq: this.seq, state });
    writeFileDurably(this.file, dirname(this.file), snapshot);
    this.snapshotBytes = snapshot.length;
    ftruncateSync(this.journal, 0);
    fdatasyncSync(this.journal);
    this.journalBytes = 0;
    this.blobs.retainOnly(referencedBlobs(state));
  }

  /** Compacts and closes: the snapshot is then the whole state, and the journal file is removed. */
  close(state: EmulatorState): void {
    this.compact(state);
    closeSync(this.journal);
    rmSync(this.journalFile, { force: true });
  }
}
