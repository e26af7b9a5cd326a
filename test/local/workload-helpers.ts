/**
 * Setup shared by the workload conformance tests (environments, services, components, deployments): an emulator on
 * a ManualClock, and published template versions built through the API from the sample bundles.
 *
 *   const w = useWorkloads();
 *   await w.environmentTemplate('env-tpl');                       // 1.0 PUBLISHED, from fargate-env
 *   await w.environment('prod', 'env-tpl');                       // created and deployed (SUCCEEDED)
 */
import {
  CompatibleEnvironmentTemplateInput, CreateEnvironmentCommand, CreateEnvironmentTemplateCommand, CreateEnvironmentTemplateVersionCommand,
  CreateServiceCommand, CreateServiceTemplateCommand, CreateServiceTemplateVersionCommand, GetEnvironmentTemplateVersionCommand,
  GetServiceTemplateVersionCommand, UpdateAccountSettingsCommand, UpdateEnvironmentTemplateVersionCommand, UpdateServiceTemplateVersionCommand,
} from '@aws-sdk/client-proton';
import { ProtonLocalFixture, sampleBundle, useProtonLocal } from './helpers';
import { ManualClock } from '../../src/local';

export const DEPLOYMENT_DELAY_MS = 1000;
export const REGISTRATION_DELAY_MS = 1000;
export const ACCOUNT = '123456789012';
export const SERVICE_ROLE = `arn:aws:iam::${ACCOUNT}:role/proton-service`;
export const COMPONENT_ROLE = `arn:aws:iam::${ACCOUNT}:role/proton-component`;
export const CONNECTION_ARN = `arn:aws:codestar-connections:us-east-1:${ACCOUNT}:connection/0a1b2c3d`;

export const FARGATE_ENV = 'environment-templates/fargate-env/v1';
export const BACKEND_SVC = 'service-templates/backend-fargate-svc/v1';
export const ENV_SPEC = 'proton: EnvironmentSpec\nspec:\n  vpc_cidr: 10.0.0.0/16\n';

export type Bundle = { [path: string]: string };

const BUNDLE_DIRS = /^(schema|infrastructure|instance_infrastructure|pipeline_infrastructure)\//;

/** A sample's bundle files (the samples' side files like .compatible-envs left out). */
export function bundle(directory: string): Bundle {
  return Object.fromEntries(Object.entries(sampleBundle(directory)).filter(([path]) => BUNDLE_DIRS.test(path)));
}

/** A service bundle for a template with pipelineProvisioning CUSTOMER_MANAGED: no pipeline directory or input type. */
export function withoutPipeline(files: Bundle): Bundle {
  return Object.fromEntries(Object.entries(files)
    .filter(([path]) => !path.startsWith('pipeline_infrastructure/'))
    .map(([path, content]) => [path, path === 'schema/schema.yaml' ? content.replace(/^\s*pipeline_input_type:.*$/m, '') : content]));
}

/** A service spec for the backend-fargate-svc sample; pipeline null leaves out the pipeline: section. */
export function serviceSpec(instances: Array<{ name: string; environment: string; spec?: object }>, pipeline: object | null = {}): string {
  const lines = ['proton: ServiceSpec'];
  if (pipeline) {
    lines.push(`pipeline: ${JSON.stringify(pipeline)}`);
  }
  lines.push(`instances: ${JSON.stringify(instances.map(i => ({ ...i, spec: i.spec ?? {} })))}`);
  return lines.join('\n') + '\n';
}

export interface VersionRef {
  readonly majorVersion: string;
  readonly minorVersion: string;
}

export interface WorkloadFixture {
  readonly env: ProtonLocalFixture;
  readonly clock: ManualClock;
  /** Lets emulator time pass (default: one deployment). */
  advance(ms?: number): void;
  /** Creates an environment template (unless it exists) and publishes a new version of it. */
  environmentTemplate(name: string, options?: { files?: Bundle; majorVersion?: string; provisioning?: 'CUSTOMER_MANAGED' }): Promise<VersionRef>;
  /** Creates a service template (unless it exists) and publishes a new version of it. */
  serviceTemplate(name: string, options: {
    compatible: CompatibleEnvironmentTemplateInput[];
    files?: Bundle;
    majorVersion?: string;
    pipelineProvisioning?: 'CUSTOMER_MANAGED';
    supportedComponentSources?: 'DIRECTLY_DEFINED'[];
  }): Promise<VersionRef>;
  /** Creates an environment with the fargate-env spec and waits until it is deployed. */
  environment(name: string, templateName: string, options?: { componentRoleArn?: string }): Promise<void>;
  /** Creates a service (repository parameters included) and waits until it is ACTIVE. */
  service(name: string, templateName: string, spec: string, options?: { withPipeline?: boolean }): Promise<void>;
}

/** @param settings.autoCompleteSelfManaged end self-managed deployments after the delay (default: they wait, as in Proton) */
export function useWorkloads(settings: { autoCompleteSelfManaged?: boolean } = {}): WorkloadFixture {
  const clock = new ManualClock();
  const env = useProtonLocal({
    clock,
    registrationDelayMs: REGISTRATION_DELAY_MS,
    deploymentDelayMs: DEPLOYMENT_DELAY_MS,
    autoCompleteSelfManaged: settings.autoCompleteSelfManaged,
  });
  let uploads = 0;
  const upload = (files: Bundle) => env.uploadBundle('templates', `bundle-${++uploads}.tar.gz`, files);
  const advance = (ms = DEPLOYMENT_DELAY_MS) => clock.advance(ms);
  const ignoreExisting = async (create: () => Promise<unknown>) => {
    try {
      await create();
    } catch (e) {
      if ((e as Error).name !== 'ValidationException' && (e as Error).name !== 'ConflictException') {
        throw e;
      }
    }
  };
  const expectDraft = (status: string | undefined, message: string | undefined) => {
    if (status !== 'DRAFT') {
      throw new Error(`template version registration ended ${status}: ${message}`);
    }
  };

  return {
    env,
    clock,
    advance,

    async environmentTemplate(name, options = {}) {
      await ignoreExisting(() => env.proton.send(new CreateEnvironmentTemplateCommand({ name, provisioning: options.provisioning })));
      const created = await env.proton.send(new CreateEnvironmentTemplateVersionCommand({
        templateName: name, majorVersion: options.majorVersion, source: await upload(options.files ?? bundle(FARGATE_ENV)),
      }));
      const { majorVersion, minorVersion } = created.environmentTemplateVersion!;
      advance(REGISTRATION_DELAY_MS);
      const version = (await env.proton.send(new GetEnvironmentTemplateVersionCommand({ templateName: name, majorVersion, minorVersion })))
        .environmentTemplateVersion!;
      expectDraft(version.status, version.statusMessage);
      await env.proton.send(new UpdateEnvironmentTemplateVersionCommand({ templateName: name, majorVersion, minorVersion, status: 'PUBLISHED' }));
      return { majorVersion: majorVersion!, minorVersion: minorVersion! };
    },

    async serviceTemplate(name, options) {
      await ignoreExisting(() => env.proton.send(new CreateServiceTemplateCommand({ name, pipelineProvisioning: options.pipelineProvisioning })));
      const files = options.files ?? (options.pipelineProvisioning ? withoutPipeline(bundle(BACKEND_SVC)) : bundle(BACKEND_SVC));
      const created = await env.proton.send(new CreateServiceTemplateVersionCommand({
        templateName: name,
        majorVersion: options.majorVersion,
        source: await upload(files),
        compatibleEnvironmentTemplates: options.compatible,
        supportedComponentSources: options.supportedComponentSources,
      }));
      const { majorVersion, minorVersion } = created.serviceTemplateVersion!;
      advance(REGISTRATION_DELAY_MS);
      const version = (await env.proton.send(new GetServiceTemplateVersionCommand({ templateName: name, majorVersion, minorVersion })))
        .serviceTemplateVersion!;
      expectDraft(version.status, version.statusMessage);
      await env.proton.send(new UpdateServiceTemplateVersionCommand({ templateName: name, majorVersion, minorVersion, status: 'PUBLISHED' }));
      return { majorVersion: majorVersion!, minorVersion: minorVersion! };
    },

    async environment(name, templateName, options = {}) {
      await env.proton.send(new CreateEnvironmentCommand({
        name, templateName, templateMajorVersion: '1', spec: ENV_SPEC, protonServiceRoleArn: SERVICE_ROLE, componentRoleArn: options.componentRoleArn,
      }));
      advance();
    },

    async service(name, templateName, spec, options = { withPipeline: true }) {
      if (options.withPipeline) {
        await env.proton.send(new UpdateAccountSettingsCommand({ pipelineServiceRoleArn: SERVICE_ROLE }));
      }
      await env.proton.send(new CreateServiceCommand({
        name,
        templateName,
        templateMajorVersion: '1',
        spec,
        ...(options.withPipeline ? { repositoryConnectionArn: CONNECTION_ARN, repositoryId: 'owner/repo', branchName: 'main' } : {}),
      }));
      advance();
    },
  };
}
