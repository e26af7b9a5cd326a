/**
 * Row 4: 200 template version creates at once against a Proton that answers 10 requests per second
 * (`setFaults({ throttleRps: 10 })`): none may fail, and they should take little more than the calls they make at
 * that rate.
 *
 * The local engine deploys one stack's resources one at a time, so the 200 EnvironmentTemplateVersion custom
 * resources (synthesized in one stack: two minor versions, of two bundles, in major 1 of each of 100 templates) are
 * run through the engine's custom-resource handler directly, all at once, with the events the engine would send.
 * The templates and their version 1.0 are created beforehand, unthrottled (proton-local allows 100 templates; with
 * major 1 in place, each new version adds a minor to it, as a second version of a template does).
 *
 * Runs in a child process (its own proton-local; the in-process handler reads the endpoint from process.env).
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { EnvironmentTemplate, EnvironmentTemplateVersion, TemplateBundle } from '../src';
import { childMain, runChild, SAMPLE_BUNDLE, synthesize, temporaryDirectory } from './harness';
import { atMost, metric, Metric } from './metric';
import { ProtonLocal } from '../src/local';
import { CustomResourceHandler, describeProvider } from '../src/local/deploy/custom-resources';
import { ResolveContext, resolveValue } from '../src/local/deploy/intrinsics';
import { ProtonApiClient } from '../src/local/deploy/proton-client';
import { DeployState } from '../src/local/deploy/state';
import { BundleFile, packBundle } from '../src/private/bundle';

const TEMPLATES = 100;
const RATE = 10;
const VERSION_TYPE = 'Custom::ProtonEnvironmentTemplateVersion';

interface ThrottleResult {
  readonly versions: number;
  readonly failures: string[];
  readonly seconds: number;
  /** Proton requests answered (not throttled) while the versions were created. */
  readonly answered: number;
  readonly throttled: number;
  readonly mutating: number;
}

/** The sample bundle with a comment appended to its infrastructure: same schema, another content hash. */
function bundleVariant(name: string): string {
  const dir = path.join(temporaryDirectory(`bundle-${name}`), name);
  fs.cpSync(SAMPLE_BUNDLE, dir, { recursive: true });
  fs.appendFileSync(path.join(dir, 'infrastructure', 'cloudformation.yaml'), `\n# variant ${name}\n`);
  return dir;
}

function readFiles(root: string): BundleFile[] {
  return (fs.readdirSync(root, { recursive: true }) as string[])
    .filter(file => fs.statSync(path.join(root, file)).isFile())
    .map(file => ({ path: file.split(path.sep).join('/'), content: fs.readFileSync(path.join(root, file)) }));
}

async function put(endpoint: string, resource: string, body?: Buffer): Promise<void> {
  const response = await fetch(`${endpoint}/${resource}`, { method: 'PUT', body });
  await response.arrayBuffer();
  if (response.status >= 300 && response.status !== 409) throw new Error(`PUT /${resource}: HTTP ${response.status}`);
}

async function measureThrottled(): Promise<ThrottleResult> {
  const local = await ProtonLocal.start();
  const proton = new ProtonApiClient(local.endpoint);
  const state = new DeployState(temporaryDirectory('state'));
  try {
    // The templates and their version 1.0, unthrottled.
    await put(local.endpoint, 'bench-bundles');
    await put(local.endpoint, 'bench-bundles/base.tar.gz', await packBundle(readFiles(SAMPLE_BUNDLE)));
    const names = Array.from({ length: TEMPLATES }, (_, i) => `throttle-${String(i).padStart(3, '0')}`);
    await Promise.all(names.map(async (name) => {
      await proton.call('CreateEnvironmentTemplate', { name });
      await proton.call('CreateEnvironmentTemplateVersion', { templateName: name, source: { s3: { bucket: 'bench-bundles', key: 'base.tar.gz' } } });
    }));

    const bundles = ['b', 'c'].map(variant => TemplateBundle.fromDirectory(bundleVariant(variant)));
    const assembly = synthesize((app) => {
      const stack = new Stack(app, 'ThrottleBench');
      names.forEach((name, i) => {
        const template = EnvironmentTemplate.fromEnvironmentTemplateName(stack, `Template${i}`, name);
        bundles.forEach((bundle, b) => new EnvironmentTemplateVersion(stack, `Version${i}x${b}`, { template, bundle, majorVersion: '1' }));
      });
    });
    const stack = assembly.stacks[0];
    for (const asset of stack.assets.filter(a => a.packaging === 'file')) {
      await put(local.endpoint, asset.bucketName);
      await put(local.endpoint, `${asset.bucketName}/${asset.objectKey}`, fs.readFileSync(asset.sourcePath));
    }
    const stackId = `arn:aws:cloudformation:${stack.region}:${stack.account}:stack/${stack.stackName}/${randomUUID()}`;
    const context: ResolveContext = {
      stackName: stack.stackName,
      stackId,
      account: stack.account,
      region: stack.region,
      ref: (logicalId) => logicalId,
      getAtt: (logicalId, attribute) => `arn:aws:lambda:${stack.region}:${stack.account}:function:${logicalId}.${attribute}`,
      importValue: (name) => { throw new Error(`no export ${name}`); },
      condition: () => false,
    };
    const resolve = (value: unknown, where: string) => resolveValue(value, context, where);
    const versionIds = Object.entries<any>(stack.template.Resources).filter(([, r]) => r.Type === VERSION_TYPE).map(([id]) => id);
    const provider = describeProvider({ template: stack.template, logicalId: versionIds[0], resolve, assets: stack.assets, state });
    const handler = new CustomResourceHandler({ endpoint: local.endpoint, stateDirectory: state.directory, logFile: state.handlerLogFile });
    // Loads the handler module before the clock starts (Lambda's cold start is not part of this figure).
    await handler.create({
      stackName: stack.stackName, stackId, region: stack.region, logicalId: 'Warmup', type: 'Custom::ProtonUnknown', properties: {}, provider,
    }).catch(() => undefined);

    local.setFaults({ throttleRps: RATE });
    const first = local.requestLog.all.length;
    const started = Date.now();
    const outcomes = await Promise.allSettled(versionIds.map(logicalId => handler.create({
      stackName: stack.stackName,
      stackId,
      region: stack.region,
      logicalId,
      type: VERSION_TYPE,
      provider,
      properties: resolve(stack.template.Resources[logicalId].Properties, `Resources.${logicalId}.Properties`) as { [name: string]: unknown },
    })));
    const seconds = (Date.now() - started) / 1000;
    const requests = local.requestLog.all.slice(first).filter(entry => !entry.operation.startsWith('S3.'));
    return {
      versions: versionIds.length,
      failures: outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`${versionIds[i]}: ${(o.reason as Error).message}`] : [])),
      seconds,
      answered: requests.filter(entry => entry.outcome !== 'ThrottlingException').length,
      throttled: requests.filter(entry => entry.outcome === 'ThrottlingException').length,
      mutating: requests.filter(entry => entry.outcome === 'success' && !/^(Get|List)/.test(entry.operation)).length,
    };
  } finally {
    await local.stop();
  }
}

export async function measureThrottledCreates(): Promise<Metric[]> {
  const result = await runChild<ThrottleResult>('throttled-creates');
  const ideal = result.answered / RATE;
  console.log(`  ${result.versions} versions in ${result.seconds.toFixed(1)} s: ${result.answered} calls answered (${result.mutating} mutating), `
    + `${result.throttled} throttled; ${result.failures.length} failed`);
  result.failures.slice(0, 5).forEach(failure => console.log(`    ${failure}`));
  return [
    metric({
      name: `${result.versions} concurrent version creates at ${RATE} req/s: failures`,
      value: result.failures.length,
      unit: 'failures',
      baseline: result.versions,
      goal: '0 failures',
      passes: v => v === 0,
    }),
    atMost(`${result.versions} concurrent version creates at ${RATE} req/s: time (${result.answered} calls, ${result.throttled} throttled)`,
      result.seconds, 's', ideal, 1.3, `ideal (answered calls / ${RATE} req/s)`),
  ];
}

if (require.main === module) childMain(() => measureThrottled());
