/**
 * Rendered bundles are valid CloudFormation: every AWS sample environment, service instance and pipeline, rendered
 * with its sample spec (instances with their environment's rendered outputs, pipelines with their instances'), passes
 * cfn-lint with no error (the samples' own warnings, such as W3005, are AWS's). cfn-lint is part of this machine kind's
 * tool set (see the env library's installed packages).
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { ProtonRenderer, TemplateBundle } from '../src';

const SAMPLES = join(__dirname, 'fixtures', 'proton-samples');
const bundleOf = (dir: string) => TemplateBundle.fromDirectory(join(SAMPLES, dir));
const specOf = (file: string) => parse(readFileSync(join(SAMPLES, file), 'utf8'));
const REPOSITORY = { repositoryId: 'owner/repo', branchName: 'main', repositoryConnectionArn: 'arn:aws:codestar-connections:us-east-1:123456789012:connection/abc' };

const ENVIRONMENTS: { [name: string]: { bundle: string; spec: string } } = {
  'vpc-env': { bundle: 'environment-templates/vpc-env/v1', spec: 'environment-templates/vpc-env/spec/spec.yaml' },
  'fargate-env': { bundle: 'environment-templates/fargate-env/v1', spec: 'environment-templates/fargate-env/spec/spec.yaml' },
  'lambda-env': { bundle: 'lambda-multi-svc/lambda-env/v1', spec: 'lambda-multi-svc/specs/env-spec.yaml' },
};
const SERVICES = [
  { name: 'apigw-lambda-svc', bundle: 'service-templates/apigw-lambda-svc/v1', spec: 'service-templates/apigw-lambda-svc/spec/spec.yaml', env: 'vpc-env' },
  { name: 'load-balanced-fargate-svc', bundle: 'service-templates/load-balanced-fargate-svc/v1', spec: 'service-templates/load-balanced-fargate-svc/spec/spec.yaml', env: 'fargate-env' },
  { name: 'backend-fargate-svc', bundle: 'service-templates/backend-fargate-svc/v1', spec: 'service-templates/backend-fargate-svc/spec/spec.yaml', env: 'fargate-env' },
  { name: 'service-crud', bundle: 'lambda-multi-svc/service-crud/v1', spec: 'lambda-multi-svc/specs/svc-spec.yaml', env: 'lambda-env' },
  { name: 'service-data-processing', bundle: 'lambda-multi-svc/service-data-processing/v1', spec: 'lambda-multi-svc/specs/svc-spec.yaml', env: 'lambda-env' },
];

test('every rendered sample environment, instance and pipeline passes cfn-lint without errors', () => {
  const directory = mkdtempSync(join(tmpdir(), 'rendered-'));
  const files: string[] = [];
  const write = (name: string, body: string) => {
    const file = join(directory, `${name}.yaml`);
    writeFileSync(file, body);
    files.push(file);
  };
  const environments = Object.fromEntries(Object.entries(ENVIRONMENTS).map(([name, sample]) => {
    const rendered = ProtonRenderer.renderEnvironment({ bundle: bundleOf(sample.bundle), environmentName: name, inputs: specOf(sample.spec).spec });
    write(`environment-${name}`, rendered.body);
    return [name, rendered];
  }));
  for (const sample of SERVICES) {
    const spec = specOf(sample.spec);
    const bundle = bundleOf(sample.bundle);
    const instances = spec.instances.map((i: any) => {
      const environment = { name: i.environment, accountId: '111122223333', outputs: environments[sample.env].outputValues };
      const rendered = ProtonRenderer.renderServiceInstance({
        bundle, serviceName: sample.name, instanceName: i.name, environment, inputs: i.spec ?? {}, repository: REPOSITORY, allowUnknownInputs: true,
      });
      write(`instance-${sample.name}-${i.name}`, rendered.body);
      return { name: i.name, inputs: i.spec ?? {}, environment, outputs: rendered.outputValues };
    });
    const pipeline = ProtonRenderer.renderPipeline({
      bundle, serviceName: sample.name, inputs: spec.pipeline, instances, repository: REPOSITORY, allowUnknownInputs: true,
    });
    write(`pipeline-${sample.name}`, pipeline.body);
  }

  // E2533: apigw-lambda-svc's sample itself asks for nodejs12.x, a runtime Lambda retired in 2023 (AWS's template, not
  // the rendering).
  const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--ignore-checks', 'E2533', '--', ...files], { encoding: 'utf8' });
  if (lint.error) throw new Error(`cfn-lint could not run (${lint.error.message}): it is part of this machine kind's tools`);
  const errors = lint.stdout.split('\n').filter(line => /:E\d{4}:/.test(line));
  expect(errors).toEqual([]);
  // cfn-lint's exit code is a bit mask: 2 means errors (4 warnings, 8 informational).
  expect(Math.floor((lint.status ?? 0) / 2) % 2).toBe(0);
  expect(files).toHaveLength(3 + SERVICES.length + SERVICES.reduce((n, s) => n + specOf(s.spec).instances.length, 0));
}, 120_000);
