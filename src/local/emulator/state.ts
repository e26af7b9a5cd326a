/**
 * The whole emulator state: one plain, JSON-serialisable object with one map per resource family (persisted by
 * --state FILE as a snapshot plus a journal, see src/local/persistence.ts). Times are epoch milliseconds on the
 * emulator clock. Every map keyed by a name or key the client chooses has a null prototype, so names such as
 * `constructor` or `__proto__` (valid Proton names) are plain keys; create them with `nameMap()`.
 *
 * Object contents (S3 objects, template bundles) are not in the state: records name a blob (its SHA-256) of the
 * BlobStore, which keeps the bytes beside the state file.
 *
 * Async transitions are stored, not scheduled: a record keeps when its pending transition completes and the
 * settlers (see types.ts) apply it when the state is next touched, so a ManualClock drives them and a reload
 * resumes them.
 *
 * Owners: templates, versions, tags, client tokens, account settings and S3 belong to H1 (templates.ts, tags.ts,
 * account.ts, s3.ts). The workload collections belong to H2 (workloads*.ts), who may refine their record types here.
 */
import type { TemplateKind } from '../../private/bundle';

export type TemplateVersionStatus = 'REGISTRATION_IN_PROGRESS' | 'REGISTRATION_FAILED' | 'DRAFT' | 'PUBLISHED';

export interface CompatibleEnvironmentTemplate {
  readonly templateName: string;
  readonly majorVersion: string;
}

/** Outcome of a registration, decided at create time and applied when `completesAt` is reached. */
export interface PendingRegistration {
  readonly completesAt: number;
  readonly status: 'DRAFT' | 'REGISTRATION_FAILED';
  readonly statusMessage?: string;
  readonly schema?: string;
}

export interface TemplateVersionRecord {
  readonly templateName: string;
  readonly majorVersion: string;
  readonly minorVersion: string;
  readonly arn: string;
  description?: string;
  status: TemplateVersionStatus;
  statusMessage?: string;
  /** The bundle's schema/schema.yaml text, once registered. */
  schema?: string;
  readonly source: { readonly s3: { readonly bucket: string; readonly key: string } };
  /** SHA-256 (BlobStore key) of the bundle archive as read at create time: Proton keeps its own copy of the bundle. */
  readonly bundleBlob?: string;
  readonly createdAt: number;
  lastModifiedAt: number;
  pendingRegistration?: PendingRegistration;
  /** Service template versions only. */
  compatibleEnvironmentTemplates?: CompatibleEnvironmentTemplate[];
  supportedComponentSources?: string[];
}

export interface TemplateRecord {
  readonly kind: TemplateKind;
  readonly name: string;
  readonly arn: string;
  displayName?: string;
  description?: string;
  readonly encryptionKey?: string;
  /** Environment templates: 'CUSTOMER_MANAGED' or absent. */
  readonly provisioning?: string;
  /** Service templates: 'CUSTOMER_MANAGED' (no Proton pipeline) or absent. */
  readonly pipelineProvisioning?: string;
  readonly createdAt: number;
  lastModifiedAt: number;
  /** Canonical JSON of the create input, for idempotent creates by name. */
  readonly createRequest: string;
  /** Set by UpdateXTemplate: repeating the create is then a ConflictException. */
  updatedSinceCreate?: boolean;
  /** Keyed by "major.minor". The recommended version is derived: the highest PUBLISHED one (templates.ts). */
  versions: { [majorDotMinor: string]: TemplateVersionRecord };
  /** Highest major and, per major, highest minor ever assigned: numbers are never reused after a delete. */
  lastMajor: number;
  lastMinorByMajor: { [major: string]: number };
}

export interface ClientTokenRecord {
  /** Canonical JSON of the request without its clientToken. */
  readonly fingerprint: string;
  readonly issuedAt: number;
  /** What the original request created (e.g. a version ARN), for returning it again. */
  readonly resourceArn: string;
}

export interface S3ObjectRecord {
  /** SHA-256 (hex) of the content: its BlobStore key. */
  readonly blob: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: number;
  readonly contentType?: string;
}

export interface S3BucketRecord {
  readonly createdAt: number;
  objects: { [key: string]: S3ObjectRecord };
}

export interface AccountSettingsRecord {
  pipelineServiceRoleArn?: string;
  pipelineCodebuildRoleArn?: string;
  pipelineProvisioningRepository?: { provider: string; name: string; branch: string };
}

export interface EmulatorState {
  environmentTemplates: { [name: string]: TemplateRecord };
  serviceTemplates: { [name: string]: TemplateRecord };
  /** Tags of every resource the emulator knows, customer and `aws:` managed, keyed by resource ARN. */
  tags: { [arn: string]: { [key: string]: string } };
  /** Keyed by "<Operation>:<clientToken>"; expire after CLIENT_TOKEN_TTL_MS. */
  clientTokens: { [operationAndToken: string]: ClientTokenRecord };
  accountSettings: AccountSettingsRecord;
  s3: { [bucket: string]: S3BucketRecord };

  // Workload collections (H2). Keys are resource names unless H2 documents otherwise.
  environments: { [name: string]: any };
  services: { [name: string]: any };
  components: { [name: string]: any };
  environmentAccountConnections: { [id: string]: any };
  deployments: { [id: string]: any };
  repositories: { [providerAndName: string]: any };
  templateSyncConfigs: { [typeAndName: string]: any };
  serviceSyncConfigs: { [serviceName: string]: any };
  /** Service sync blockers (sync.ts), keyed by id. */
  syncBlockers: { [id: string]: any };
}

export const CLIENT_TOKEN_TTL_MS = 8 * 60 * 60 * 1000;

/** A map keyed by client-chosen names: no prototype, so `constructor` or `toString` are not already "there". */
export function nameMap<T>(entries: Iterable<readonly [string, T]> = []): { [key: string]: T } {
  const map: { [key: string]: T } = Object.create(null);
  for (const [key, value] of entries) {
    map[key] = value;
  }
  return map;
}

/** The top-level maps of the state, keyed by resource name, ARN, id or token. */
export const STATE_COLLECTIONS = [
  'environmentTemplates', 'serviceTemplates', 'tags', 'clientTokens', 's3', 'environments', 'services', 'components',
  'environmentAccountConnections', 'deployments', 'repositories', 'templateSyncConfigs', 'serviceSyncConfigs',
  'syncBlockers',
] as const;
export type StateCollection = typeof STATE_COLLECTIONS[number];

export function emptyState(): EmulatorState {
  const state = { accountSettings: {} } as EmulatorState;
  for (const collection of STATE_COLLECTIONS) {
    (state as any)[collection] = nameMap();
  }
  return state;
}

const asNameMap = <T>(map: { [key: string]: T } | undefined): { [key: string]: T } => nameMap(Object.entries(map ?? {}));

/**
 * Gives the maps inside one record of a collection a null prototype (records read from JSON have Object's):
 * template versions and numbers, an ARN's tags, a bucket's objects.
 */
export function restoreRecord(collection: StateCollection, record: any): any {
  switch (collection) {
    case 'environmentTemplates':
    case 'serviceTemplates':
      record.versions = asNameMap(record.versions);
      record.lastMinorByMajor = asNameMap(record.lastMinorByMajor);
      return record;
    case 'tags':
      return asNameMap(record);
    case 's3':
      record.objects = asNameMap(record.objects);
      return record;
    default:
      return record;
  }
}

/** A state read from a file (already schema-checked): collections added since it was written start empty. */
export function restoreState(saved: Partial<EmulatorState>): EmulatorState {
  const state = emptyState();
  state.accountSettings = saved.accountSettings ?? {};
  for (const collection of STATE_COLLECTIONS) {
    for (const [key, record] of Object.entries(saved[collection] ?? {})) {
      state[collection][key] = restoreRecord(collection, record);
    }
  }
  return state;
}

/**
 * Tells whether something runs on a template version: returns a description of the first user found (e.g.
 * "environment 'prod'"), or undefined. H2 registers its checks with registerTemplateVersionUsageCheck; the
 * template-version delete puts the description in its ConflictException.
 */
export type TemplateVersionUsageCheck =
  (state: EmulatorState, kind: TemplateKind, templateName: string, majorVersion: string, minorVersion: string) => string | undefined;

const templateVersionUsageChecks: TemplateVersionUsageCheck[] = [];

export function registerTemplateVersionUsageCheck(check: TemplateVersionUsageCheck): void {
  if (!templateVersionUsageChecks.includes(check)) {
    templateVersionUsageChecks.push(check);
  }
}

export function templateVersionUsage(
  state: EmulatorState, kind: TemplateKind, templateName: string, majorVersion: string, minorVersion: string,
): string | undefined {
  for (const check of templateVersionUsageChecks) {
    const user = check(state, kind, templateName, majorVersion, minorVersion);
    if (user !== undefined) {
      return user;
    }
  }
  return undefined;
}
