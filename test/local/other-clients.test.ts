/**
 * Other clients drive proton-local unchanged, with only an endpoint override: the AWS CLI (every distinct `aws` on PATH,
 * v1 and v2) and boto3 each run a full lifecycle (S3 upload of the sample bundles, template versions registered and
 * published, an environment, a service with an instance and a pipeline, an instance update, teardown) with their own
 * S3 clients and waiters, and must observe the same thing.
 */
import { execFile, spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { promisify } from 'util';
import { parse, stringify } from 'yaml';
import { SAMPLES_DIR, useProtonLocal } from './helpers';
import { ACCOUNT, bundle, Bundle, CONNECTION_ARN, FARGATE_ENV, SERVICE_ROLE } from './workload-helpers';
import { packBundle } from '../../src/private/bundle';

const run = promisify(execFile);
/** Each test runs ~40 client processes or calls (about 0.5 s each for the CLI); the waiters rarely need to sleep. */
const TEST_TIMEOUT_MS = 90_000;
/** A hung client (say, a waiter whose success acceptor never matches) fails its step instead of the whole test. */
const CALL_TIMEOUT_MS = 30_000;

const LOAD_BALANCED_SVC = 'service-templates/load-balanced-fargate-svc/v1';
const PIPELINE_ROLE = `arn:aws:iam::${ACCOUNT}:role/proton-pipeline`;
const REPOSITORY = { connectionArn: CONNECTION_ARN, id: 'owner/static-website', branch: 'main' };
const BUCKET = 'proton-bundles';
const KEYS = { environment: 'fargate-env/v1.tar.gz', service: 'load-balanced-fargate-svc/v1.tar.gz' };
// The sample specs name their environment and instance: the scenario uses those names.
const NAMES = {
  environmentTemplate: 'fargate-env',
  serviceTemplate: 'load-balanced-fargate-svc',
  environment: 'fargate-env-prod',
  service: 'static-website',
  serviceInstance: 'load-balanced-fargate-svc-prod',
};
const ENVIRONMENT_SPEC = readFileSync(join(SAMPLES_DIR, 'environment-templates/fargate-env/spec/spec.yaml'), 'utf8');
const SERVICE_SPEC = readFileSync(join(SAMPLES_DIR, 'service-templates/load-balanced-fargate-svc/spec/spec.yaml'), 'utf8');
const UPDATED_INSTANCE_INPUTS = { port: 8080, desired_count: 2 };
const SERVICE_UPDATE_SPEC = (() => {
  const spec = parse(SERVICE_SPEC);
  spec.instances[0].spec = UPDATED_INSTANCE_INPUTS;
  return stringify(spec);
})();

/** The scenario's files on disk, as the clients read them. */
interface ScenarioFiles {
  readonly environmentBundle: string;
  readonly serviceBundle: string;
  readonly environmentSpec: string;
  readonly serviceSpec: string;
  readonly serviceUpdateSpec: string;
  /** An AWS config file with no profile but the default one: region and path-style S3 only. */
  readonly awsConfig: string;
}

interface Output {
  readonly key: string;
  readonly valueString: string;
}

interface TemplateObserved {
  readonly version: string;
  /** After create, after the registration waiter, after publishing. */
  readonly statuses: string[];
  readonly recommendedVersion: string;
}

/** What a client saw through the lifecycle (the boto3 script prints the same shape). */
interface Observed {
  readonly environmentTemplate: TemplateObserved;
  readonly serviceTemplate: TemplateObserved & { compatibleEnvironmentTemplates: Array<{ templateName: string; majorVersion: string }> };
  readonly pipelineServiceRoleArn: string;
  readonly environment: { statuses: string[]; version: string; protonServiceRoleArn: string; spec: string };
  readonly service: {
    statuses: string[];
    pipelineStatus: string;
    spec: string;
    instance: { environmentName: string; deploymentStatus: string; version: string };
    outputs: Output[];
  };
  readonly instanceUpdate: { statuses: string[]; spec: string; outputs: Output[] };
  readonly teardown: { [step: string]: string };
  readonly remaining: { [list: string]: unknown[] };
  readonly notFound: { [operation: string]: string };
}

/**
 * The load-balanced-fargate-svc instance template's one output, ServiceURL: "http://" and the load balancer's DNS name,
 * which proton-local fakes from the stack and logical id (the same for every deployment of the instance).
 */
const SERVICE_URL = new RegExp(`^http://AWSProton-${NAMES.service}-${NAMES.serviceInstance}-LoadBalancer-DNSName-[0-9a-f]{12}$`);
const expectedInstanceOutputs = () => ({ ServiceURL: expect.stringMatching(SERVICE_URL) });

/** A parsed service spec; an instance without a spec has no inputs, which proton-local writes back as `spec: {}`. */
function parseServiceSpec(text: string) {
  const spec = parse(text);
  spec.instances = spec.instances.map((instance: object) => ({ spec: {}, ...instance }));
  return spec;
}

function expectLifecycle(observed: Observed): void {
  const byKey = (outputs: Output[]) => Object.fromEntries(outputs.map(o => [o.key, o.valueString]));
  expect(observed.environmentTemplate).toEqual({
    version: '1.0', statuses: ['REGISTRATION_IN_PROGRESS', 'DRAFT', 'PUBLISHED'], recommendedVersion: '1.0',
  });
  expect(observed.serviceTemplate).toEqual({
    version: '1.0',
    statuses: ['REGISTRATION_IN_PROGRESS', 'DRAFT', 'PUBLISHED'],
    recommendedVersion: '1.0',
    compatibleEnvironmentTemplates: [{ templateName: NAMES.environmentTemplate, majorVersion: '1' }],
  });
  expect(observed.pipelineServiceRoleArn).toBe(PIPELINE_ROLE);
  expect({ ...observed.environment, spec: parse(observed.environment.spec) }).toEqual({
    statuses: ['IN_PROGRESS', 'SUCCEEDED'], version: '1.0', protonServiceRoleArn: SERVICE_ROLE, spec: parse(ENVIRONMENT_SPEC),
  });
  expect({ ...observed.service, spec: parseServiceSpec(observed.service.spec), outputs: byKey(observed.service.outputs) }).toEqual({
    statuses: ['CREATE_IN_PROGRESS', 'ACTIVE'],
    pipelineStatus: 'SUCCEEDED',
    spec: parseServiceSpec(SERVICE_SPEC),
    instance: { environmentName: NAMES.environment, deploymentStatus: 'SUCCEEDED', version: '1.0' },
    outputs: expectedInstanceOutputs(),
  });
  expect({ ...observed.instanceUpdate, spec: parse(observed.instanceUpdate.spec), outputs: byKey(observed.instanceUpdate.outputs) }).toEqual({
    statuses: ['IN_PROGRESS', 'SUCCEEDED'],
    spec: parse(SERVICE_UPDATE_SPEC),
    outputs: expectedInstanceOutputs(),
  });
  // The URL does not depend on the inputs the update changed (port, desired_count).
  expect(observed.instanceUpdate.outputs).toEqual(observed.service.outputs);
  expect(observed.teardown).toEqual({
    service: 'DELETE_IN_PROGRESS',
    environment: 'DELETE_IN_PROGRESS',
    environmentGone: 'ResourceNotFoundException',
    serviceTemplateVersion: 'PUBLISHED',
    serviceTemplate: NAMES.serviceTemplate,
    environmentTemplateVersion: 'PUBLISHED',
    environmentTemplate: NAMES.environmentTemplate,
  });
  expect(observed.remaining).toEqual({ environmentTemplates: [], serviceTemplates: [], environments: [], services: [], serviceInstances: [] });
  expect(observed.notFound).toEqual({
    GetEnvironmentTemplate: 'ResourceNotFoundException',
    GetServiceTemplateVersion: 'ResourceNotFoundException',
    GetEnvironment: 'ResourceNotFoundException',
    GetService: 'ResourceNotFoundException',
    GetServiceInstance: 'ResourceNotFoundException',
  });
}

/** The environment of a client process: dummy credentials and region, no real profile, nothing from the machine's AWS setup. */
function clientEnv(files: ScenarioFiles): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return {
    ...inherited,
    AWS_ACCESS_KEY_ID: 'AKIDPROTONLOCAL',
    AWS_SECRET_ACCESS_KEY: 'proton-local-secret',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: files.awsConfig,
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '', // CLI v2 pipes output through `less` otherwise
  };
}

/** Every distinct `aws` on PATH with its version, e.g. aws-cli/2.9.19 (v1 and v2 differ in defaults worth covering). */
function installedAwsClis(): Array<{ binary: string; version: string }> {
  const which = spawnSync('which', ['-a', 'aws'], { encoding: 'utf8' });
  const binaries = [...new Set((which.stdout ?? '').split('\n').filter(Boolean).map(path => realpathSync(path)))];
  return binaries.map(binary => {
    const versionRun = spawnSync(binary, ['--version'], { encoding: 'utf8' });
    return { binary, version: `${versionRun.stdout}${versionRun.stderr}`.trim().split(' ')[0] };
  });
}

const hasBoto3 = spawnSync('python3', ['-c', 'import boto3']).status === 0;
const AWS_CLIS = installedAwsClis();

/** Code of an AWS CLI error, from its "An error occurred (Code) when calling the Op operation" line. */
function cliErrorCode(error: { stderr?: string }): string {
  const match = /An error occurred \((\w+)\) when calling/.exec(error.stderr ?? '');
  if (!match) {
    throw error;
  }
  return match[1];
}

/** Runs the lifecycle through one AWS CLI, one process per call, as a user would type it. */
async function cliLifecycle(binary: string, endpoint: string, files: ScenarioFiles): Promise<Observed> {
  const env = clientEnv(files);
  const aws = async (...args: string[]) => {
    const { stdout } = await run(binary, [...args, '--endpoint-url', endpoint, '--output', 'json'], { env, timeout: CALL_TIMEOUT_MS });
    return stdout.trim() ? JSON.parse(stdout) : {};
  };
  const awsErrorCode = (...args: string[]) => aws(...args).then(() => 'no error', cliErrorCode);
  const versionOf = (v: { majorVersion: string; minorVersion: string }) => `${v.majorVersion}.${v.minorVersion}`;

  await aws('s3api', 'create-bucket', '--bucket', BUCKET);
  await aws('s3api', 'put-object', '--bucket', BUCKET, '--key', KEYS.environment, '--body', files.environmentBundle);
  await aws('s3api', 'put-object', '--bucket', BUCKET, '--key', KEYS.service, '--body', files.serviceBundle);

  await aws('proton', 'create-environment-template', '--name', NAMES.environmentTemplate, '--display-name', 'Fargate environment');
  const envCreated = (await aws('proton', 'create-environment-template-version', '--template-name', NAMES.environmentTemplate,
    '--source', JSON.stringify({ s3: { bucket: BUCKET, key: KEYS.environment } }))).environmentTemplateVersion;
  const envVersion = ['--template-name', NAMES.environmentTemplate, '--major-version', envCreated.majorVersion, '--minor-version', envCreated.minorVersion];
  await aws('proton', 'wait', 'environment-template-version-registered', ...envVersion);
  const envRegistered = (await aws('proton', 'get-environment-template-version', ...envVersion)).environmentTemplateVersion;
  const envPublished = (await aws('proton', 'update-environment-template-version', ...envVersion, '--status', 'PUBLISHED')).environmentTemplateVersion;
  const environmentTemplate = {
    version: versionOf(envCreated),
    statuses: [envCreated.status, envRegistered.status, envPublished.status],
    recommendedVersion: (await aws('proton', 'get-environment-template', '--name', NAMES.environmentTemplate)).environmentTemplate.recommendedVersion,
  };

  await aws('proton', 'create-service-template', '--name', NAMES.serviceTemplate, '--display-name', 'Load-balanced Fargate service');
  const svcCreated = (await aws('proton', 'create-service-template-version', '--template-name', NAMES.serviceTemplate,
    '--source', JSON.stringify({ s3: { bucket: BUCKET, key: KEYS.service } }),
    '--compatible-environment-templates', JSON.stringify([{ templateName: NAMES.environmentTemplate, majorVersion: envCreated.majorVersion }]),
  )).serviceTemplateVersion;
  const svcVersion = ['--template-name', NAMES.serviceTemplate, '--major-version', svcCreated.majorVersion, '--minor-version', svcCreated.minorVersion];
  await aws('proton', 'wait', 'service-template-version-registered', ...svcVersion);
  const svcRegistered = (await aws('proton', 'get-service-template-version', ...svcVersion)).serviceTemplateVersion;
  const svcPublished = (await aws('proton', 'update-service-template-version', ...svcVersion, '--status', 'PUBLISHED')).serviceTemplateVersion;
  const serviceTemplate = {
    version: versionOf(svcCreated),
    statuses: [svcCreated.status, svcRegistered.status, svcPublished.status],
    recommendedVersion: (await aws('proton', 'get-service-template', '--name', NAMES.serviceTemplate)).serviceTemplate.recommendedVersion,
    compatibleEnvironmentTemplates: svcPublished.compatibleEnvironmentTemplates,
  };

  const pipelineServiceRoleArn = (await aws('proton', 'update-account-settings', '--pipeline-service-role-arn', PIPELINE_ROLE))
    .accountSettings.pipelineServiceRoleArn;

  const environmentCreated = (await aws('proton', 'create-environment', '--name', NAMES.environment,
    '--template-name', NAMES.environmentTemplate, '--template-major-version', '1', '--proton-service-role-arn', SERVICE_ROLE,
    '--spec', `file://${files.environmentSpec}`)).environment;
  await aws('proton', 'wait', 'environment-deployed', '--name', NAMES.environment);
  const environmentDeployed = (await aws('proton', 'get-environment', '--name', NAMES.environment)).environment;
  const environment = {
    statuses: [environmentCreated.deploymentStatus, environmentDeployed.deploymentStatus],
    version: `${environmentDeployed.templateMajorVersion}.${environmentDeployed.templateMinorVersion}`,
    protonServiceRoleArn: environmentDeployed.protonServiceRoleArn,
    spec: environmentDeployed.spec,
  };

  const instance = ['--service-name', NAMES.service, '--name', NAMES.serviceInstance];
  const instanceOutputs = async () => (await aws('proton', 'list-service-instance-outputs',
    '--service-name', NAMES.service, '--service-instance-name', NAMES.serviceInstance)).outputs;
  const serviceCreated = (await aws('proton', 'create-service', '--name', NAMES.service, '--template-name', NAMES.serviceTemplate,
    '--template-major-version', '1', '--spec', `file://${files.serviceSpec}`, '--repository-connection-arn', REPOSITORY.connectionArn,
    '--repository-id', REPOSITORY.id, '--branch-name', REPOSITORY.branch)).service;
  await aws('proton', 'wait', 'service-created', '--name', NAMES.service);
  const serviceActive = (await aws('proton', 'get-service', '--name', NAMES.service)).service;
  const instanceDeployed = (await aws('proton', 'get-service-instance', ...instance)).serviceInstance;
  const service = {
    statuses: [serviceCreated.status, serviceActive.status],
    pipelineStatus: serviceActive.pipeline.deploymentStatus,
    spec: serviceActive.spec,
    instance: {
      environmentName: instanceDeployed.environmentName,
      deploymentStatus: instanceDeployed.deploymentStatus,
      version: `${instanceDeployed.templateMajorVersion}.${instanceDeployed.templateMinorVersion}`,
    },
    outputs: await instanceOutputs(),
  };

  const instanceUpdating = (await aws('proton', 'update-service-instance', ...instance, '--deployment-type', 'CURRENT_VERSION',
    '--spec', `file://${files.serviceUpdateSpec}`)).serviceInstance;
  await aws('proton', 'wait', 'service-instance-deployed', ...instance);
  const instanceUpdated = (await aws('proton', 'get-service-instance', ...instance)).serviceInstance;
  const instanceUpdate = {
    statuses: [instanceUpdating.deploymentStatus, instanceUpdated.deploymentStatus],
    spec: instanceUpdated.spec,
    outputs: await instanceOutputs(),
  };

  const teardown: { [step: string]: string } = {};
  teardown.service = (await aws('proton', 'delete-service', '--name', NAMES.service)).service.status;
  await aws('proton', 'wait', 'service-deleted', '--name', NAMES.service);
  teardown.environment = (await aws('proton', 'delete-environment', '--name', NAMES.environment)).environment.deploymentStatus;
  // No waiter for environment deletion: poll until the environment is gone.
  for (let attempt = 0; attempt < 20 && !teardown.environmentGone; attempt++) {
    const code = await awsErrorCode('proton', 'get-environment', '--name', NAMES.environment);
    if (code !== 'no error') {
      teardown.environmentGone = code;
    }
  }
  teardown.serviceTemplateVersion = (await aws('proton', 'delete-service-template-version', ...svcVersion)).serviceTemplateVersion.status;
  teardown.serviceTemplate = (await aws('proton', 'delete-service-template', '--name', NAMES.serviceTemplate)).serviceTemplate.name;
  teardown.environmentTemplateVersion = (await aws('proton', 'delete-environment-template-version', ...envVersion)).environmentTemplateVersion.status;
  teardown.environmentTemplate = (await aws('proton', 'delete-environment-template', '--name', NAMES.environmentTemplate)).environmentTemplate.name;

  return {
    environmentTemplate,
    serviceTemplate,
    pipelineServiceRoleArn,
    environment,
    service,
    instanceUpdate,
    teardown,
    remaining: {
      environmentTemplates: (await aws('proton', 'list-environment-templates')).templates,
      serviceTemplates: (await aws('proton', 'list-service-templates')).templates,
      environments: (await aws('proton', 'list-environments')).environments,
      services: (await aws('proton', 'list-services')).services,
      serviceInstances: (await aws('proton', 'list-service-instances')).serviceInstances,
    },
    notFound: {
      GetEnvironmentTemplate: await awsErrorCode('proton', 'get-environment-template', '--name', NAMES.environmentTemplate),
      GetServiceTemplateVersion: await awsErrorCode('proton', 'get-service-template-version', ...svcVersion),
      GetEnvironment: await awsErrorCode('proton', 'get-environment', '--name', NAMES.environment),
      GetService: await awsErrorCode('proton', 'get-service', '--name', NAMES.service),
      GetServiceInstance: await awsErrorCode('proton', 'get-service-instance', ...instance),
    },
  };
}

async function packToFile(path: string, files: Bundle): Promise<string> {
  writeFileSync(path, await packBundle(Object.entries(files).map(([name, content]) => ({ path: name, content: Buffer.from(content) }))));
  return path;
}

describe('other clients drive a full lifecycle through proton-local', () => {
  const protonLocal = useProtonLocal({ registrationDelayMs: 50, deploymentDelayMs: 100 });
  let dir: string;
  let files: ScenarioFiles;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'proton-local-other-clients-'));
    const write = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    files = {
      environmentBundle: await packToFile(join(dir, 'fargate-env.tar.gz'), bundle(FARGATE_ENV)),
      serviceBundle: await packToFile(join(dir, 'load-balanced-fargate-svc.tar.gz'), bundle(LOAD_BALANCED_SVC)),
      environmentSpec: write('environment-spec.yaml', ENVIRONMENT_SPEC),
      serviceSpec: write('service-spec.yaml', SERVICE_SPEC),
      serviceUpdateSpec: write('service-update-spec.yaml', SERVICE_UPDATE_SPEC),
      awsConfig: write('aws-config', '[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n'),
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Each error proton-local answered, as 'Operation: Code': the clients' own retries would otherwise hide them. */
  const errorsAnswered = () => [...new Set(protonLocal.local.requestLog.all
    .filter(entry => entry.outcome !== 'success')
    .map(entry => `${entry.operation}: ${entry.outcome}`))].sort();
  const EXPECTED_ERRORS = ['GetEnvironment', 'GetEnvironmentTemplate', 'GetService', 'GetServiceInstance', 'GetServiceTemplateVersion']
    .map(operation => `${operation}: ResourceNotFoundException`);

  const cliCases = AWS_CLIS.length ? AWS_CLIS.map(cli => ({ ...cli, title: `${cli.version} (${cli.binary})` }))
    : [{ binary: 'aws', version: '', title: 'the AWS CLI (skipped: no `aws` on PATH)' }];
  (AWS_CLIS.length ? test.each(cliCases) : test.skip.each(cliCases))('through $title', async ({ binary }) => {
    expectLifecycle(await cliLifecycle(binary, protonLocal.local.endpoint, files));
    expect(errorsAnswered()).toEqual(EXPECTED_ERRORS);
  }, TEST_TIMEOUT_MS);

  (hasBoto3 ? test : test.skip)(`through boto3${hasBoto3 ? '' : ' (skipped: python3 has no boto3)'}`, async () => {
    const script = join(__dirname, 'fixtures', 'other-clients', 'lifecycle.py');
    const scenario = {
      endpoint: protonLocal.local.endpoint,
      bucket: BUCKET,
      keys: KEYS,
      names: NAMES,
      files,
      repository: REPOSITORY,
      protonServiceRoleArn: SERVICE_ROLE,
      pipelineServiceRoleArn: PIPELINE_ROLE,
    };
    const { stdout } = await run('python3', [script, JSON.stringify(scenario)], { env: clientEnv(files), timeout: TEST_TIMEOUT_MS });
    expectLifecycle(JSON.parse(stdout));
    expect(errorsAnswered()).toEqual(EXPECTED_ERRORS);
  }, TEST_TIMEOUT_MS);
});
