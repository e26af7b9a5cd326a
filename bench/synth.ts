/**
 * Rows 5 and 6: synth of 500 environment template + version pairs against 500 aws-cdk-lib CfnEnvironmentTemplate
 * (CPU time and template size), and the stack's fixed resources (those not per Proton resource): constant whatever
 * the number of Proton resources, so that enough pairs fit in CloudFormation's 500 resources per stack.
 */
import * as fs from 'fs';
import { App, Stack, aws_proton as proton } from 'aws-cdk-lib';
import { EnvironmentTemplate, EnvironmentTemplateVersion, TemplateBundle } from '../src';
import { SAMPLE_BUNDLE, temporaryDirectory } from './harness';
import { atMost, metric, Metric } from './metric';

const PAIRS = 500;
const CLOUDFORMATION_MAX_RESOURCES = 500;
/** CDK refuses a stack over 500 resources by default; the synth comparison puts all 500 pairs in one stack. */
const NO_RESOURCE_LIMIT = { '@aws-cdk/core:stackResourceLimit': 0 };

type Build = (stack: Stack, count: number) => void;

const cfnTemplates: Build = (stack, count) => {
  for (let i = 0; i < count; i++) new proton.CfnEnvironmentTemplate(stack, `Template${i}`, { name: `template-${i}` });
};

/** Each version reads the bundle afresh, as an app with a version per template does. */
const protonPairs: Build = (stack, count) => {
  for (let i = 0; i < count; i++) {
    const template = new EnvironmentTemplate(stack, `Template${i}`, { environmentTemplateName: `template-${i}` });
    new EnvironmentTemplateVersion(stack, `Version${i}`, { template, bundle: TemplateBundle.fromDirectory(SAMPLE_BUNDLE) });
  }
};

/** CPU time (ms) of building and synthesizing one stack, and its template. */
interface SynthResult { readonly cpuMs: number; readonly bytes: number; readonly template: any }

function synthOnce(build: Build, count: number, context: { [key: string]: unknown } = NO_RESOURCE_LIMIT): SynthResult {
  const before = process.cpuUsage();
  const app = new App({ outdir: temporaryDirectory('synth'), context });
  const stack = new Stack(app, 'SynthBench');
  build(stack, count);
  const file = app.synth().getStackByName(stack.stackName).templateFullPath;
  const used = process.cpuUsage(before);
  const text = fs.readFileSync(file, 'utf8');
  return { cpuMs: (used.user + used.system) / 1000, bytes: Buffer.byteLength(text), template: JSON.parse(text) };
}

export function measureSynth(): Metric[] {
  // Warm-up: modules loaded and compiled for both, so the rounds compare synth work only.
  synthOnce(cfnTemplates, 20);
  synthOnce(protonPairs, 20);
  // Interleaved rounds, each kind's best: a load spike on a shared machine then spoils one round, not one kind.
  const rounds = 5;
  const cfn: SynthResult[] = [];
  const ours: SynthResult[] = [];
  for (let round = 0; round < rounds; round++) {
    cfn.push(synthOnce(cfnTemplates, PAIRS));
    ours.push(synthOnce(protonPairs, PAIRS));
  }
  const best = (runs: SynthResult[]) => Math.min(...runs.map(r => r.cpuMs));
  logFootprint(ours[0].template);
  return [
    atMost(`Synth CPU time, ${PAIRS} template + version pairs (best of ${rounds})`, best(ours), 'ms', best(cfn), 2,
      `${PAIRS} CfnEnvironmentTemplate`),
    atMost(`Synth template size, ${PAIRS} template + version pairs`, ours[0].bytes, 'bytes', cfn[0].bytes, 3, `${PAIRS} CfnEnvironmentTemplate`),
  ];
}

/** Where the template's bytes go (as CDK writes it, one-space indented): the fixed part, and one pair's resources. */
function logFootprint(template: any): void {
  const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value, undefined, 1));
  const pairTypes = ['Custom::ProtonEnvironmentTemplate', 'Custom::ProtonEnvironmentTemplateVersion'];
  const without = (types: string[]) => ({
    ...template, Resources: Object.fromEntries(Object.entries<any>(template.Resources).filter(([, r]) => !types.includes(r.Type))),
  });
  const fixed = size(without(pairTypes));
  const versions = size(template) - size(without([pairTypes[1]]));
  const perPair = (size(template) - fixed) / PAIRS;
  console.log(`  per pair: ${Math.round(perPair)} bytes (version ${Math.round(versions / PAIRS)}); fixed part: ${fixed} bytes`);
}

const countResources = (template: any, type?: string) =>
  Object.values<any>(template.Resources ?? {}).filter(r => type === undefined || r.Type === type).length;

export function measureFixedResources(): Metric[] {
  const counts = [1, 10, 100, 200];
  const fixed = counts.map((n) => {
    const { template } = synthOnce(protonPairs, n);
    const policies = countResources(template, 'AWS::IAM::Policy') + countResources(template, 'AWS::IAM::ManagedPolicy');
    return { n, fixed: countResources(template) - 2 * n, policies };
  });
  const empty = countResources(synthOnce(() => undefined, 0).template);
  for (const f of fixed) console.log(`  ${f.n} pairs: ${f.fixed} fixed resources (${f.policies} IAM policies); no Proton resource: ${empty}`);
  const constant = fixed.every(f => f.fixed === fixed[0].fixed && f.policies === fixed[0].policies);
  const fits = Math.floor((CLOUDFORMATION_MAX_RESOURCES - fixed[0].fixed) / 2);
  // The figure is checked against CDK's own limit: that many pairs synthesize, one more is refused.
  synthOnce(protonPairs, fits, {});
  let oneMoreRefused = false;
  try {
    synthOnce(protonPairs, fits + 1, {});
  } catch {
    oneMoreRefused = true;
  }
  return [
    metric({
      name: `Fixed resources per stack at ${counts.join('/')} pairs (IAM policies: ${fixed.map(f => f.policies).join('/')})`,
      value: fixed[fixed.length - 1].fixed,
      unit: 'resources',
      baseline: fixed[0].fixed,
      goal: 'constant (= 1 x fixed set at 1 pair)',
      passes: () => constant,
    }),
    metric({
      name: `Template + version pairs that fit in ${CLOUDFORMATION_MAX_RESOURCES} resources${oneMoreRefused ? ' (one more: refused by CDK)' : ''}`,
      value: fits,
      unit: 'pairs',
      baseline: 220,
      goal: '≥ 220 pairs',
      passes: v => v >= 220 && oneMoreRefused,
    }),
  ];
}
