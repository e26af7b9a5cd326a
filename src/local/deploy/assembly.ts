/**
 * Reads a CDK cloud assembly (what `cdk synth` writes): its stacks in deployment order, their templates, and the
 * file assets their asset manifests publish. Also runs a CDK app into a temporary assembly, as `cdk synth` does.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Used when a stack is environment-agnostic (`aws://unknown-account/unknown-region`). */
const DEFAULT_ACCOUNT = '123456789012';
const DEFAULT_REGION = 'us-east-1';

export interface AssemblyAsset {
  readonly id: string;
  /** Absolute path of the file or folder in the assembly. */
  readonly sourcePath: string;
  readonly packaging: 'file' | 'zip';
  readonly bucketName: string;
  readonly objectKey: string;
}

export interface AssemblyStack {
  /** The artifact id in the manifest (what `cdk deploy` selects by). */
  readonly artifactId: string;
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  readonly template: any;
  /** Names of the stacks this one depends on (deployed before it, destroyed after it). */
  readonly dependencies: string[];
  readonly assets: AssemblyAsset[];
}

export interface CloudAssembly {
  readonly directory: string;
  /** In deployment order: every stack after the stacks it depends on. */
  readonly stacks: AssemblyStack[];
}

/** Replaces `${AWS::AccountId}`, `${AWS::Region}` and `${AWS::Partition}` in asset destinations. */
function resolveAssetPlaceholders(text: string, account: string, region: string): string {
  return text
    .replace(/\$\{AWS::AccountId\}/g, account)
    .replace(/\$\{AWS::Region\}/g, region)
    .replace(/\$\{AWS::Partition\}/g, 'aws');
}

export function readCloudAssembly(directory: string): CloudAssembly {
  const stacks: AssemblyStack[] = [];
  collectStacks(path.resolve(directory), stacks);
  return { directory: path.resolve(directory), stacks: deploymentOrder(stacks) };
}

function readJson(file: string, what: string): any {
  if (!fs.existsSync(file)) {
    throw new Error(`${what} not found: ${file}`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf-8'));
}

/** Reads one assembly's stacks, then those of its nested assemblies (CDK Stages). */
function collectStacks(directory: string, into: AssemblyStack[]): void {
  const manifest = readJson(path.join(directory, 'manifest.json'), 'Cloud assembly manifest (manifest.json)');
  const artifacts: { [id: string]: any } = manifest.artifacts ?? {};
  const stackNameOf = (artifactId: string) => artifacts[artifactId]?.properties?.stackName ?? artifacts[artifactId]?.displayName ?? artifactId;
  for (const [artifactId, artifact] of Object.entries(artifacts)) {
    if (artifact.type === 'cdk:cloud-assembly') {
      collectStacks(path.join(directory, artifact.properties.directoryName), into);
      continue;
    }
    if (artifact.type !== 'aws:cloudformation:stack') {
      continue;
    }
    const [account, region] = parseEnvironment(artifact.environment);
    const dependencyIds: string[] = artifact.dependencies ?? [];
    const assets = dependencyIds
      .filter((id) => artifacts[id]?.type === 'cdk:asset-manifest')
      .flatMap((id) => readAssetManifest(directory, artifacts[id].properties.file, account, region));
    into.push({
      artifactId,
      stackName: artifact.properties?.stackName ?? artifactId,
      account,
      region,
      template: readJson(path.join(directory, artifact.properties.templateFile), `Template of stack ${artifactId}`),
      dependencies: dependencyIds.filter((id) => artifacts[id]?.type === 'aws:cloudformation:stack').map(stackNameOf),
      assets,
    });
  }
}

function parseEnvironment(environment: string | undefined): [string, string] {
  const match = /^aws:\/\/([^/]+)\/([^/]+)$/.exec(environment ?? '');
  const account = match && match[1] !== 'unknown-account' ? match[1] : DEFAULT_ACCOUNT;
  const region = match && match[2] !== 'unknown-region' ? match[2] : DEFAULT_REGION;
  return [account, region];
}

function readAssetManifest(directory: string, file: string, account: string, region: string): AssemblyAsset[] {
  const manifest = readJson(path.join(directory, file), 'Asset manifest');
  return Object.entries<any>(manifest.files ?? {}).flatMap(([id, asset]) =>
    Object.values<any>(asset.destinations ?? {}).map((destination) => ({
      id,
      sourcePath: path.join(directory, asset.source.path),
      packaging: asset.source.packaging === 'zip' ? 'zip' as const : 'file' as const,
      bucketName: resolveAssetPlaceholders(destination.bucketName, account, region),
      objectKey: resolveAssetPlaceholders(destination.objectKey, account, region),
    })),
  );
}

/** Orders stacks so that each comes after its dependencies (CDK never emits cycles; a cycle is reported anyway). */
function deploymentOrder(stacks: AssemblyStack[]): AssemblyStack[] {
  const byName = new Map(stacks.map((s) => [s.stackName, s]));
  const ordered: AssemblyStack[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (stack: AssemblyStack, chain: string[]) => {
    if (state.get(stack.stackName) === 'done') return;
    if (state.get(stack.stackName) === 'visiting') {
      throw new Error(`Stack dependency cycle: ${[...chain, stack.stackName].join(' -> ')}`);
    }
    state.set(stack.stackName, 'visiting');
    for (const dependency of stack.dependencies) {
      const target = byName.get(dependency);
      if (target) visit(target, [...chain, stack.stackName]);
    }
    state.set(stack.stackName, 'done');
    ordered.push(stack);
  };
  stacks.forEach((stack) => visit(stack, []));
  return ordered;
}

/**
 * Runs a CDK app command as `cdk synth` does: `CDK_OUTDIR` names a fresh temporary directory, and `context` reaches
 * the app through `CDK_CONTEXT_JSON`. Resolves to the assembly directory; rejects with the app's output on failure.
 */
export async function synthesizeApp(command: string, context: { [key: string]: unknown } = {}): Promise<string> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'proton-local-assembly-'));
  const output: Buffer[] = [];
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(command, {
      shell: true,
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (exitCode !== 0) {
    fs.rmSync(outdir, { recursive: true, force: true });
    const tail = Buffer.concat(output).toString('utf-8').trim().split('\n').slice(-20).join('\n');
    throw new Error(`The app command "${command}" exited with code ${exitCode}:\n${tail}`);
  }
  if (!fs.existsSync(path.join(outdir, 'manifest.json'))) {
    fs.rmSync(outdir, { recursive: true, force: true });
    throw new Error(`The app command "${command}" wrote no cloud assembly: does it call app.synth() on an App that reads CDK_OUTDIR?`);
  }
  return outdir;
}
