/**
 * The platform delivered by CDK Pipelines: one `pipelines.CodePipeline` deploys a platform stage (the Proton templates,
 * their versions, the account settings and the environments, as in platform-app.ts), then a wave of team stages, each
 * with its team's services. Stages cannot reference each other, so the team stages import what the platform stage
 * publishes by name (templates, versions, environments), and the pipeline's order makes the platform deploy first.
 *
 * Synthesize: `npx tsx examples/pipelines-app.ts` (writes to CDK_OUTDIR, or cdk.out).
 */
import * as path from 'path';
import { App, Environment as DeploymentTarget, Stack, Stage, StageProps, Tags } from 'aws-cdk-lib';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import {
  Environment, EnvironmentTemplate, IServiceTemplateVersion, Service, ServiceInstanceOptions, ServiceTemplate,
  ServiceTemplateVersion, TemplateBundle,
} from '../src';
import { CONNECTION_ARN, PlatformStack, TEMPLATES } from './platform-app';

const TARGET: DeploymentTarget = { account: '123456789012', region: 'us-east-1' };

/**
 * Where both the platform stage and the team stages read the template bundles: the same folders, so team stages follow
 * the versions the platform registers (found by bundle hash at deploy time, never by an exported minor). The context
 * value `cdk-proton-pipelines:templates` points elsewhere (an upgrade test changes a copy).
 */
export const TEMPLATES_CONTEXT = 'cdk-proton-pipelines:templates';
const templatesOf = (scope: Construct): string => String(scope.node.tryGetContext(TEMPLATES_CONTEXT) ?? TEMPLATES);

class PlatformStage extends Stage {
  constructor(scope: Construct, id: string, props: StageProps) {
    super(scope, id, props);
    new PlatformStack(this, 'Templates', { revision: '1', templatesDirectory: templatesOf(this) });
  }
}

interface TeamService {
  readonly serviceName: string;
  /** A service template the platform stage publishes (its bundle folder is read again for synth-time spec checks). */
  readonly templateName: 'backend-fargate-svc' | 'load-balanced-fargate-svc';
  readonly instanceSpec: { [input: string]: unknown };
  readonly pipelineSpec?: { [input: string]: unknown };
  readonly repositoryId?: string;
}

interface TeamStageProps extends StageProps {
  readonly team: string;
  readonly services: TeamService[];
}

/** A team's services, with an instance in each of the platform's environments. */
class TeamStage extends Stage {
  constructor(scope: Construct, id: string, props: TeamStageProps) {
    super(scope, id, props);
    const stack = new Stack(this, 'Services');
    const environments = ['staging', 'production'].map((name) => Environment.fromEnvironmentName(stack, `Env-${name}`, name));
    const fargateEnv = EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'FargateEnv', 'fargate-env');
    const vpcEnv = EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'VpcEnv', 'vpc-env');
    const versions = new Map<string, IServiceTemplateVersion>();
    const versionOf = (templateName: string) => {
      if (!versions.has(templateName)) {
        versions.set(templateName, ServiceTemplateVersion.fromServiceTemplateVersionAttributes(stack, `${templateName}-1`, {
          template: ServiceTemplate.fromServiceTemplateName(stack, templateName, templateName),
          majorVersion: '1',
          bundle: TemplateBundle.fromDirectory(path.join(templatesOf(this), templateName)),
          compatibleEnvironmentTemplates: [{ template: fargateEnv, majorVersion: '1' }, { template: vpcEnv, majorVersion: '1' }],
        }));
      }
      return versions.get(templateName)!;
    };
    for (const service of props.services) {
      const instances: ServiceInstanceOptions[] = environments.map((environment) => ({
        instanceName: environment.environmentName, environment, spec: service.instanceSpec,
      }));
      new Service(stack, service.serviceName, {
        serviceName: service.serviceName,
        templateVersion: versionOf(service.templateName),
        instances,
        pipelineSpec: service.pipelineSpec,
        repository: service.repositoryId ? { connectionArn: CONNECTION_ARN, repositoryId: service.repositoryId, branchName: 'main' } : undefined,
      });
    }
    Tags.of(this).add('team', props.team);
  }
}

export function buildPipelinesApp(app: App): { pipeline: pipelines.CodePipeline } {
  const stack = new Stack(app, 'PlatformPipeline', { env: TARGET });
  const pipeline = new pipelines.CodePipeline(stack, 'Pipeline', {
    synth: new pipelines.ShellStep('Synth', {
      input: pipelines.CodePipelineSource.connection('example-org/platform', 'main', { connectionArn: CONNECTION_ARN }),
      commands: ['npm ci', 'npx projen bundle', 'npx cdk synth --app "npx tsx examples/pipelines-app.ts"'],
    }),
  });
  pipeline.addStage(new PlatformStage(app, 'Platform', { env: TARGET }));
  const teams = pipeline.addWave('Teams');
  teams.addStage(new TeamStage(app, 'Orders', {
    env: TARGET,
    team: 'orders',
    services: [{
      serviceName: 'orders-api',
      templateName: 'backend-fargate-svc',
      instanceSpec: { desired_count: 2 },
      pipelineSpec: { service_dir: 'orders-api' },
      repositoryId: 'example-org/orders-api',
    }],
  }));
  teams.addStage(new TeamStage(app, 'Web', {
    env: TARGET,
    team: 'web',
    services: [{ serviceName: 'web-shop', templateName: 'load-balanced-fargate-svc', instanceSpec: { desired_count: 2, loadbalancer_type: 'application' } }],
  }));
  return { pipeline };
}

if (require.main === module) {
  const app = new App();
  buildPipelinesApp(app);
  app.synth();
}
