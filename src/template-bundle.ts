import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { AssetHashType, Stack, aws_s3_assets as s3_assets } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BundleFile, byPath, checkBundle, packBundleSync, SCHEMA_FILE } from './private/bundle';
import { parseTemplateSchema, TemplateSchema, validateInputs as validateSchemaInputs } from './private/schema';

/**
 * The kind of template a bundle is registered as.
 */
export enum TemplateBundleKind {
  /** An environment template: `schema/` and `infrastructure/` (only `schema/` when CUSTOMER_MANAGED). */
  ENVIRONMENT = 'ENVIRONMENT',
  /** A service template: `schema/`, `instance_infrastructure/` and `pipeline_infrastructure/` (none when the pipeline is CUSTOMER_MANAGED). */
  SERVICE = 'SERVICE',
}

/**
 * Options for binding a template bundle to a template version.
 */
export interface TemplateBundleBindOptions {
  /**
   * The kind of template the bundle is registered as; it decides the required layout.
   */
  readonly kind: TemplateBundleKind;

  /**
   * Whether infrastructure is provisioned outside Proton: an environment template with provisioning CUSTOMER_MANAGED
   * (the bundle holds only `schema/`), or a service template with pipelineProvisioning CUSTOMER_MANAGED (no pipeline).
   *
   * @default false
   */
  readonly customerManaged?: boolean;
}

/**
 * Where a bound template bundle is uploaded.
 */
export interface TemplateBundleConfig {
  /** The bucket of the uploaded .tar.gz. */
  readonly bucketName: string;
  /** The key of the uploaded .tar.gz. */
  readonly objectKey: string;
  /** The asset that uploads the .tar.gz; grant Proton read access through it. */
  readonly asset: s3_assets.Asset;
}

/**
 * Bundle contents (by content hash) whose layout passed the check for a kind: a bundle bound by many template versions,
 * or read again for each of them, is parsed and checked once per process (the check was most of a large app's synth).
 */
const checkedLayouts = new Set<string>();
/** Parsed schemas by bundle content hash: a bundle read once per template version is parsed once. */
const parsedSchemas = new Map<string, TemplateSchema>();

/**
 * A Proton template bundle read from a local folder: `schema/schema.yaml` plus the infrastructure folders for its kind.
 *
 * The schema is parsed when the bundle is read, the layout is checked when the bundle is bound, and the bundle is
 * uploaded as a deterministic .tar.gz whose asset hash is the bundle's content hash.
 */
export class TemplateBundle {
  /**
   * Reads a template bundle from a folder, recursively.
   *
   * Files and folders whose names start with a dot (such as the `.compatible-envs` or `.template-registration.yaml`
   * files of template sync repositories) are not part of a Proton bundle and are skipped.
   *
   * @param directory the bundle's root folder, holding `schema/schema.yaml`
   * @throws when the folder is missing or its schema is invalid; the message names the file and the rule
   */
  public static fromDirectory(directory: string): TemplateBundle {
    const root = resolve(directory);
    if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
      throw new Error(`TemplateBundle.fromDirectory: "${directory}" is not a folder`);
    }
    return new TemplateBundle(root, readBundleFiles(root));
  }

  /** The bundle's root folder, as an absolute path. */
  public readonly directory: string;

  /**
   * The schema's `environment_input_type`: the type an environment's spec is validated against.
   *
   * @default - none: not an environment template
   */
  public readonly environmentInputType?: string;

  /**
   * The schema's `service_input_type`: the type each service instance's spec is validated against.
   *
   * @default - none: not a service template
   */
  public readonly serviceInputType?: string;

  /**
   * The schema's `pipeline_input_type`: the type a service pipeline's spec is validated against.
   *
   * @default - none: the template has no Proton pipeline
   */
  public readonly pipelineInputType?: string;

  /**
   * SHA-256 (hex) of the bundle's relative paths and contents, in path order: the same on any machine,
   * independent of file times, permissions and compression.
   */
  public readonly contentHash: string;

  /** @internal */
  public readonly _schema: TemplateSchema;

  private readonly files: BundleFile[];

  private constructor(directory: string, files: BundleFile[]) {
    this.directory = directory;
    this.files = files;
    this.contentHash = hashFiles(files);
    const schemaFile = files.find(f => f.path === SCHEMA_FILE);
    if (!schemaFile) {
      throw new Error(`Template bundle ${directory}: ${SCHEMA_FILE}: missing (every template bundle needs ${SCHEMA_FILE})`);
    }
    const parsed = parsedSchemas.get(this.contentHash)
      ?? withBundleName(directory, () => parseTemplateSchema(schemaFile.content.toString('utf8'), SCHEMA_FILE));
    parsedSchemas.set(this.contentHash, parsed);
    this._schema = parsed;
    this.environmentInputType = this._schema.environmentInputType;
    this.serviceInputType = this._schema.serviceInputType;
    this.pipelineInputType = this._schema.pipelineInputType;
  }

  /**
   * Validates inputs against one of the schema's types, as Proton validates a spec.
   *
   * @param inputType the type's name, usually `environmentInputType`, `serviceInputType` or `pipelineInputType`
   * @param inputs the spec's inputs
   * @returns the inputs with the schema's defaults applied
   * @throws listing every problem: unknown inputs, missing required inputs, values of the wrong type or out of range
   */
  public validateInputs(inputType: string, inputs: { [key: string]: any }): { [key: string]: any } {
    const result = withBundleName(this.directory, () => validateSchemaInputs(this._schema, inputType, inputs));
    if (result.errors.length > 0) {
      const problems = result.errors.map(e => `  - ${e.message}`).join('\n');
      throw new Error(`Invalid inputs for ${inputType} of template bundle ${this.directory}:\n${problems}`);
    }
    return result.inputs;
  }

  /** @internal The bundle's files, in path order: the renderer reads them. */
  public _files(): BundleFile[] {
    return this.files;
  }

  /**
   * Checks the bundle's layout for the template kind and uploads it as a .tar.gz asset, once per stack: every
   * version of the stack registered from this content shares the asset (one object, one grant in the handler's policy).
   *
   * @throws when the bundle breaks one of Proton's rules; the message names the file and the rule
   */
  public bind(scope: Construct, options: TemplateBundleBindOptions): TemplateBundleConfig {
    const customerManaged = options.customerManaged ?? false;
    const layout = `${this.contentHash}:${options.kind}:${customerManaged}`;
    if (!checkedLayouts.has(layout)) {
      withBundleName(this.directory, () => checkBundle(this.files, options.kind, customerManaged));
      checkedLayouts.add(layout);
    }
    const stack = Stack.of(scope);
    const id = `TemplateBundle${this.contentHash.slice(0, 16)}`;
    const asset = (stack.node.tryFindChild(id) as s3_assets.Asset | undefined) ?? new s3_assets.Asset(stack, id, {
      path: this.writeArchive(),
      assetHash: this.contentHash,
      assetHashType: AssetHashType.CUSTOM,
    });
    return { bucketName: asset.s3BucketName, objectKey: asset.s3ObjectKey, asset };
  }

  /** Packs the bundle into a cache shared by every synth on this machine, keyed by content hash. */
  private writeArchive(): string {
    const cacheDir = join(tmpdir(), 'cdk-proton-bundles');
    const archive = join(cacheDir, `${this.contentHash}.tar.gz`);
    if (!existsSync(archive)) {
      mkdirSync(cacheDir, { recursive: true });
      // Written beside the target and renamed, so a concurrent synth never reads half a file.
      const partial = `${archive}.${process.pid}.${Date.now()}.partial`;
      writeFileSync(partial, packBundleSync(this.files));
      renameSync(partial, archive);
    }
    return archive;
  }
}

function readBundleFiles(root: string): BundleFile[] {
  const files: BundleFile[] = [];
  // Symbolic links are followed (a bundle may link shared files), but a link back into its own folder chain would
  // never end: the real paths of the folders being walked tell it. Only links need resolving: a plain folder's real
  // path is its parent's followed by its name, and a plain entry's type is in its directory entry (no stat per file).
  const walk = (dir: string, real: string, chain: string[]): void => {
    if (chain.includes(real)) {
      throw new Error(`Template bundle ${root}: ${relative(root, dir).split(sep).join('/')} is a symbolic link loop (it leads back to `
        + `${relative(root, real).split(sep).join('/') || '.'}); a bundle must be a finite tree of files`);
    }
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      const isLink = entry.isSymbolicLink();
      if (isLink ? statOf(root, path).isDirectory() : entry.isDirectory()) {
        walk(path, isLink ? realpathSync.native(path) : join(real, entry.name), [...chain, real]);
      } else {
        files.push({ path: relative(root, path).split(sep).join('/'), content: readFileSync(path) });
      }
    }
  };
  walk(root, realpathSync.native(root), []);
  return files.sort(byPath);
}

function statOf(root: string, path: string) {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new Error(`Template bundle ${root}: ${relative(root, path).split(sep).join('/')} is a symbolic link loop; a bundle must be a finite tree of files`);
    }
    throw error;
  }
}

function hashFiles(files: BundleFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    // Lengths keep the encoding unambiguous: no two bundles feed the hash the same bytes.
    hash.update(`${file.path}\0${file.content.length}\0`).update(file.content);
  }
  return hash.digest('hex');
}

/** Runs a check, prefixing its error with the bundle's folder so the message names the file on disk. */
function withBundleName<T>(directory: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    throw new Error(`Template bundle ${directory}: ${(e as Error).message}`);
  }
}
