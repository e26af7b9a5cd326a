import { posix } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parseAllDocuments } from 'yaml';
import { SchemaError, TemplateSchema, parseTemplateSchema } from './schema';
import { TarEntry, TarEntryMetadata, TarFormatError, fitsUstarHeader, readTar, writeTar } from './tar';

/** The two kinds of Proton template. */
export type TemplateKind = 'ENVIRONMENT' | 'SERVICE';

/** One file of a template bundle. */
export interface BundleFile {
  /** Relative to the bundle root, '/'-separated: `schema/schema.yaml`. */
  readonly path: string;
  readonly content: Buffer;
}

/** A bundle Proton would refuse; the message names the file and the rule. */
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/** A bundle that passed every check, with its parsed schema. */
export interface BundleCheck {
  readonly schema: TemplateSchema;
  readonly files: BundleFile[];
}

export const SCHEMA_FILE = 'schema/schema.yaml';
const KB = 1024;
/** Proton's quotas on template bundles (user guide, "AWS Proton quotas"); none is adjustable. */
export const BUNDLE_LIMITS = {
  maxFiles: 10,
  maxBundleBytes: 5 * KB * KB,
  maxManifestOrSchemaBytes: 50 * KB,
  maxOtherFileBytes: 200 * KB,
} as const;

const RENDERING_ENGINES = ['jinja', 'hcl', 'codebuild'];
const TEMPLATE_LANGUAGE: { [engine: string]: string } = { jinja: 'cloudformation', hcl: 'terraform' };

/**
 * Checks a bundle the way Proton does at registration: limits, layout for the template kind, schema, manifests,
 * and that every file is valid YAML (Terraform files excepted; Jinja templates are checked with their Jinja tags blanked).
 *
 * @param customerManaged an environment template with provisioning CUSTOMER_MANAGED, or a service template with
 * pipelineProvisioning CUSTOMER_MANAGED
 * @throws BundleError naming the file and the rule
 */
export function checkBundle(files: BundleFile[], kind: TemplateKind, customerManaged: boolean): BundleCheck {
  // Checked in path order, so the file an error names does not depend on the order files were listed in.
  const ordered = [...files].sort(byPath);
  checkLimits(ordered);
  const filesByPath = new Map(ordered.map(f => [f.path, f]));
  const schemaFile = filesByPath.get(SCHEMA_FILE);
  if (!schemaFile) {
    throw new BundleError(`${SCHEMA_FILE}: missing (every template bundle needs ${SCHEMA_FILE})`);
  }
  let schema: TemplateSchema;
  try {
    schema = parseTemplateSchema(schemaFile.content.toString('utf8'), SCHEMA_FILE);
  } catch (e) {
    throw e instanceof SchemaError ? new BundleError(e.message) : e;
  }

  const infrastructureDirs = kind === 'ENVIRONMENT'
    ? checkEnvironmentLayout(ordered, schema, customerManaged)
    : checkServiceLayout(ordered, schema, customerManaged);

  const jinjaTemplates = new Set<string>();
  for (const dir of infrastructureDirs) {
    const manifest = `${dir}/manifest.yaml`;
    if (!filesByPath.has(manifest)) {
      throw new BundleError(`${manifest}: missing (${describeKind(kind, customerManaged)} need ${manifest})`);
    }
    for (const template of checkManifest(filesByPath.get(manifest)!, filesByPath)) {
      if (template.engine === 'jinja' && template.path) jinjaTemplates.add(template.path);
    }
  }

  for (const file of ordered) {
    if (!isTerraformFile(file.path)) {
      parseYamlFile(file, jinjaTemplates.has(file.path));
    }
  }
  return { schema, files };
}

function checkLimits(files: BundleFile[]): void {
  if (files.length > BUNDLE_LIMITS.maxFiles) {
    throw new BundleError(`the bundle has ${files.length} files (${files.map(f => f.path).join(', ')}); a template bundle holds at most ${BUNDLE_LIMITS.maxFiles}`);
  }
  const seen = new Set<string>();
  for (const file of files) {
    checkPath(file.path);
    if (seen.has(file.path)) {
      throw new BundleError(`${file.path}: appears twice in the bundle`);
    }
    seen.add(file.path);
    const limit = isManifestOrSchema(file.path) ? BUNDLE_LIMITS.maxManifestOrSchemaBytes : BUNDLE_LIMITS.maxOtherFileBytes;
    if (file.content.length > limit) {
      const what = isManifestOrSchema(file.path) ? 'a manifest or schema file' : 'a template file';
      throw new BundleError(`${file.path}: ${file.content.length} bytes is more than the ${limit / KB} KB allowed for ${what}`);
    }
  }
  // The 5 MB bundle limit cannot be reached by 10 files of at most 200 KB: unpackBundle applies it to archives.
}

function checkPath(path: string): void {
  const normal = posix.normalize(path);
  if (path === '' || path.includes('\\') || posix.isAbsolute(path) || normal !== path || normal.startsWith('../') || path.endsWith('/')) {
    throw new BundleError(`${JSON.stringify(path)}: not a valid bundle path (relative, '/'-separated, without '.' or '..' segments)`);
  }
}

function isManifestOrSchema(path: string): boolean {
  return path === SCHEMA_FILE || posix.basename(path) === 'manifest.yaml';
}

function isTerraformFile(path: string): boolean {
  return path.endsWith('.tf') || path.endsWith('.tfvars');
}

function describeKind(kind: TemplateKind, customerManaged: boolean): string {
  if (kind === 'ENVIRONMENT') return customerManaged ? 'CUSTOMER_MANAGED environment templates' : 'environment templates';
  return customerManaged ? 'service templates with a CUSTOMER_MANAGED pipeline' : 'service templates';
}

/** @returns the infrastructure directories the bundle must have */
function checkEnvironmentLayout(files: BundleFile[], schema: TemplateSchema, customerManaged: boolean): string[] {
  if (!schema.environmentInputType) {
    throw new BundleError(`${SCHEMA_FILE}: schema.environment_input_type is required in an environment template`);
  }
  for (const [field, key] of [['serviceInputType', 'service_input_type'], ['pipelineInputType', 'pipeline_input_type']] as const) {
    if (schema[field] !== undefined) {
      throw new BundleError(`${SCHEMA_FILE}: schema.${key} is not allowed in an environment template`);
    }
  }
  if (customerManaged) {
    const outside = files.find(f => !f.path.startsWith('schema/'));
    if (outside) {
      throw new BundleError(`${outside.path}: not allowed (a CUSTOMER_MANAGED environment template holds only schema/; its infrastructure is provisioned outside Proton)`);
    }
    return [];
  }
  return ['infrastructure'];
}

function checkServiceLayout(files: BundleFile[], schema: TemplateSchema, customerManaged: boolean): string[] {
  if (!schema.serviceInputType) {
    throw new BundleError(`${SCHEMA_FILE}: schema.service_input_type is required in a service template`);
  }
  if (schema.environmentInputType !== undefined) {
    throw new BundleError(`${SCHEMA_FILE}: schema.environment_input_type is not allowed in a service template`);
  }
  if (customerManaged) {
    if (schema.pipelineInputType !== undefined) {
      throw new BundleError(`${SCHEMA_FILE}: schema.pipeline_input_type is not allowed when the pipeline is CUSTOMER_MANAGED (the template has no Proton pipeline)`);
    }
    const pipelineFile = files.find(f => f.path.startsWith('pipeline_infrastructure/'));
    if (pipelineFile) {
      throw new BundleError(`${pipelineFile.path}: not allowed when the pipeline is CUSTOMER_MANAGED (the template has no Proton pipeline)`);
    }
    return ['instance_infrastructure'];
  }
  if (!schema.pipelineInputType) {
    throw new BundleError(`${SCHEMA_FILE}: schema.pipeline_input_type is required in a service template with a Proton pipeline (Missing property [pipelineInputType]); set pipelineProvisioning CUSTOMER_MANAGED for a template without one`);
  }
  return ['instance_infrastructure', 'pipeline_infrastructure'];
}

interface ManifestTemplate {
  readonly engine: string;
  /** The bundle path of the template file; undefined for CodeBuild and Terraform's "*". */
  readonly path?: string;
}

function checkManifest(manifest: BundleFile, filesByPath: Map<string, BundleFile>): ManifestTemplate[] {
  const fail = (rule: string): never => {
    throw new BundleError(`${manifest.path}: ${rule}`);
  };
  const document = parseYamlFile(manifest, false);
  const templates = document?.infrastructure?.templates;
  if (!Array.isArray(templates) || templates.length === 0) {
    return fail('infrastructure.templates must be a non-empty list of templates');
  }
  const dir = posix.dirname(manifest.path);
  const checked = templates.map((template: any, index: number): ManifestTemplate => {
    const where = `infrastructure.templates[${index}]`;
    if (typeof template !== 'object' || template === null || Array.isArray(template)) {
      return fail(`${where} must be a mapping with file, rendering_engine and template_language`);
    }
    const engine = template.rendering_engine;
    if (!RENDERING_ENGINES.includes(engine)) {
      return fail(`${where}.rendering_engine ${JSON.stringify(engine)} is not one of ${RENDERING_ENGINES.join(', ')}`);
    }
    if (engine === 'codebuild') {
      const provision = template.settings?.provision;
      if (!Array.isArray(provision) || provision.length === 0 || provision.some((c: unknown) => typeof c !== 'string')) {
        return fail(`${where}.settings.provision must be a non-empty list of commands for the codebuild rendering engine`);
      }
      return { engine };
    }
    const language = TEMPLATE_LANGUAGE[engine];
    if (template.template_language !== language) {
      return fail(`${where}.template_language ${JSON.stringify(template.template_language)} must be ${language} for the ${engine} rendering engine`);
    }
    const file = template.file;
    if (typeof file !== 'string' || file === '') {
      return fail(`${where}.file is required (the template file's name${engine === 'hcl' ? ', or "*" for every .tf file' : ''})`);
    }
    if (file === '*') {
      if (engine !== 'hcl') {
        return fail(`${where}.file "*" is only allowed with the hcl rendering engine; name the CloudFormation template file`);
      }
      if (![...filesByPath.keys()].some(p => posix.dirname(p) === dir && p.endsWith('.tf'))) {
        return fail(`${where}.file "*" matches no .tf file in ${dir}/`);
      }
      return { engine };
    }
    const path = posix.join(dir, file);
    if (!filesByPath.has(path)) {
      return fail(`${where}.file "${file}" is not in the bundle (expected ${path})`);
    }
    return { engine, path };
  });
  if (checked.some(t => t.engine === 'jinja') && checked.length > 1) {
    fail('a CloudFormation manifest lists exactly one template file');
  }
  return checked;
}

// Proton renders Jinja before CloudFormation parses the result, so Jinja may sit where YAML allows no text:
// lines holding only Jinja and every tag or comment are blanked, inline expressions become a plain word.
const JINJA_ONLY_LINES = /^[ \t]*(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\})[ \t]*$/gm;
const JINJA_TAGS = /\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g;
const JINJA_EXPRESSIONS = /\{\{[\s\S]*?\}\}/g;

export function parseYamlFile(file: BundleFile, jinja: boolean): any {
  let text = file.content.toString('utf8');
  if (jinja) {
    text = text.replace(JINJA_ONLY_LINES, '').replace(JINJA_TAGS, '').replace(JINJA_EXPRESSIONS, 'jinja');
  }
  // Jinja loops legitimately repeat keys until rendered; CloudFormation tags (!Ref) are unknown to the yaml library.
  const documents = parseAllDocuments(text, { uniqueKeys: !jinja, logLevel: 'silent' });
  const list = Array.isArray(documents) ? documents : [];
  for (const document of list) {
    const error = document.errors[0];
    if (error) {
      throw new BundleError(`${file.path}: not valid YAML (every file but Terraform's must be): ${error.message}`);
    }
  }
  return list[0]?.toJS();
}

// Every packed entry gets the same metadata, so the archive depends only on paths and contents.
// mtime is 2000-01-01T00:00:00Z rather than 0 because GNU tar warns about "implausibly old" timestamps.
const ENTRY_METADATA: TarEntryMetadata = { mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(Date.UTC(2000, 0, 1)) };
const GZIP_LEVEL = 9;
const GZIP_OS_OFFSET = 9;
const GZIP_OS_UNIX = 3;

/**
 * Packs files into a deterministic .tar.gz: files at the archive root sorted by path, no directory entries, fixed
 * metadata, gzip level 9 with header mtime 0 and OS byte 3 (Unix). The same files give the same bytes on any OS
 * with the same Node.js (its bundled zlib); asset hashes use the content hash, never these bytes. Synchronous, because
 * constructs pack at synth time.
 */
export function packBundleSync(files: BundleFile[]): Buffer {
  const sorted = [...files].sort(byPath);
  for (const file of sorted) {
    checkPath(file.path);
    if (!fitsUstarHeader(file.path)) {
      throw new BundleError(`${file.path}: a bundle path must be ASCII, at most 100 characters per file name and 255 in all`);
    }
  }
  const archive = gzipSync(writeTar(sorted, ENTRY_METADATA), { level: GZIP_LEVEL });
  // Node leaves the gzip mtime at 0 but writes its platform's OS byte.
  archive[GZIP_OS_OFFSET] = GZIP_OS_UNIX;
  return archive;
}

/** Packs files into a deterministic .tar.gz; see packBundleSync. */
export async function packBundle(files: BundleFile[]): Promise<Buffer> {
  return packBundleSync(files);
}

/**
 * Reads a .tar.gz bundle. Directory entries are skipped and a leading `./` stripped. When every file sits under one
 * folder holding `schema/schema.yaml` (AWS's samples tar `lambda-env/` with files under `lambda-env/v1/`), that folder is
 * stripped so files come back in the root layout.
 *
 * @throws BundleError when the archive is too large, not a gzipped tar, or holds links or paths outside the bundle
 */
export async function unpackBundle(archive: Buffer): Promise<BundleFile[]> {
  return unpackBundleSync(archive);
}

/**
 * Reads a .tar.gz bundle synchronously (see unpackBundle), for callers that cannot wait: proton-local renders a
 * template version's stored bundle inside a synchronous operation.
 */
export function unpackBundleSync(archive: Buffer): BundleFile[] {
  if (archive.length > BUNDLE_LIMITS.maxBundleBytes) {
    throw new BundleError(`the bundle archive is ${archive.length} bytes, more than the 5 MB allowed for a template bundle`);
  }
  let tarball: Buffer;
  try {
    // A valid bundle (at most 10 files of at most 200 KB) expands to far less than the archive limit.
    tarball = gunzipSync(archive, { maxOutputLength: BUNDLE_LIMITS.maxBundleBytes });
  } catch (e) {
    throw new BundleError(`the bundle archive is not a gzip-compressed tar file within 5 MB: ${(e as Error).message}`);
  }
  let entries: TarEntry[];
  try {
    entries = readTar(tarball);
  } catch (e) {
    throw e instanceof TarFormatError ? new BundleError(`the bundle archive is not a valid tar file: ${e.message}`) : e;
  }
  const files = new Map<string, Buffer>();
  for (const { path: archived, type, content } of entries) {
    if (type === 'directory') continue;
    const path = archived.replace(/^(\.\/)+/, '');
    if (type !== 'file' && type !== 'contiguous-file') {
      throw new BundleError(`${path}: a template bundle holds regular files only, not a ${type}`);
    }
    checkPath(path);
    files.set(path, content);
  }
  return stripWrappingFolder([...files].map(([path, content]) => ({ path, content }))).sort(byPath);
}

/** Orders by UTF-16 code units, which is byte order for the ASCII paths a tar header holds: the same on every machine. */
export function byPath(a: BundleFile, b: BundleFile): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function stripWrappingFolder(files: BundleFile[]): BundleFile[] {
  const schemas = files.filter(f => f.path.endsWith(`/${SCHEMA_FILE}`));
  if (files.some(f => f.path === SCHEMA_FILE) || schemas.length !== 1) return files;
  const folder = schemas[0].path.slice(0, -SCHEMA_FILE.length);
  if (!files.every(f => f.path.startsWith(folder))) return files;
  return files.map(f => ({ path: f.path.slice(folder.length), content: f.content }));
}
