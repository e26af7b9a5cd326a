/**
 * A platform team's Proton estate as a CDK app: what the README's demo deploys, upgrades and destroys on proton-local.
 *
 * - Stack ProtonPlatform: two environment templates (fargate-env, vpc-env) with their versions, a service template with
 *   a Proton pipeline (backend-fargate-svc) and one without (load-balanced-fargate-svc, CUSTOMER_MANAGED pipeline),
 *   the account's pipeline settings, and two environments (staging, production) on fargate-env.
 * - Stack ProtonServices: two services with an instance in each environment; the backend has a pipeline.
 *
 * The context value `cdk-proton-demo:revision` (default 1) selects the fargate-env bundle: revision 2 ships the changed
 * copy, so fargate-env gets a new minor version (1.1) that rolls out to both environments.
 *
 * It lives in src/ so that it is compiled into the package (lib/local/demo/) and `npx proton-local demo` runs it from an
 * installed package; examples/platform-app.ts is the same app for readers of the repository.
 *
 * Run: `npx tsx examples/platform-app.ts` (writes to CDK_OUTDIR, or cdk.out), or through
 * `proton-local demo --app "npx tsx examples/platform-app.ts"`.
 */
import * as path from 'path';
import { App, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  AccountSettings, Environment, EnvironmentTemplate, EnvironmentTemplateVersion, Provisioning, Service, ServiceTemplate,
  ServiceTemplateVersion, TemplateBundle,
} from '../../index';

export const REVISION_CONTEXT = 'cdk-proton-demo:revision';
/** examples/templates: from src/local/demo/ in the repository and from lib/local/demo/ in the package (which ships it). */
export const TEMPLATES = path.join(__dirname, '..', '..', '..', 'examples', 'templates');
/** The CodeStar connection the backend's pipeline builds from (any connection ARN of the account). */
export const CONNECTION_ARN = 'arn:aws:codestar-connections:us-east-1:123456789012:connection/2d8f7a3e-5c1b-4f4e-9a7d-0b6c1e2f3a4b';

export class PlatformStack extends Stack {
  public readonly staging: Environment;
  public readonly production: Environment;
  public readonly backendVersion: ServiceTemplateVersion;
  public readonly frontendVersion: ServiceTemplateVersion;

  constructor(scope: Construct, id: string, props: StackProps & { readonly revision: string; readonly templatesDirectory?: string }) {
    super(scope, id, props);
    const templates = props.templatesDirectory ?? TEMPLATES;

    const fargateEnv = new EnvironmentTemplate(this, 'FargateEnvTemplate', {
      environmentTemplateName: 'fargate-env',
      displayName: 'Fargate environment',
      description: 'A VPC and an ECS cluster for Fargate services',
    });
    const fargateEnvVersion = new EnvironmentTemplateVersion(this, 'FargateEnvVersion', {
      template: fargateEnv,
      bundle: TemplateBundle.fromDirectory(path.join(templates, props.revision === '1' ? 'fargate-env' : 'fargate-env-v1.1')),
      description: props.revision === '1' ? 'VPC and ECS cluster' : 'VPC and ECS cluster with Container Insights',
    });

    const vpcEnv = new EnvironmentTemplate(this, 'VpcEnvTemplate', {
      environmentTemplateName: 'vpc-env',
      displayName: 'VPC environment',
      description: 'A VPC for Lambda services',
    });
    const vpcEnvVersion = new EnvironmentTemplateVersion(this, 'VpcEnvVersion', {
      template: vpcEnv,
      bundle: TemplateBundle.fromDirectory(path.join(templates, 'vpc-env')),
    });

    const compatibleEnvironmentTemplates = [
      { template: fargateEnv, majorVersion: fargateEnvVersion.majorVersion },
      { template: vpcEnv, majorVersion: vpcEnvVersion.majorVersion },
    ];
    const backend = new ServiceTemplate(this, 'BackendTemplate', {
      serviceTemplateName: 'backend-fargate-svc',
      displayName: 'Backend Fargate service',
      description: 'A Fargate service behind service discovery, built by a Proton pipeline',
    });
    this.backendVersion = new ServiceTemplateVersion(this, 'BackendVersion', {
      template: backend,
      bundle: TemplateBundle.fromDirectory(path.join(templates, 'backend-fargate-svc')),
      compatibleEnvironmentTemplates,
    });
    const frontend = new ServiceTemplate(this, 'FrontendTemplate', {
      serviceTemplateName: 'load-balanced-fargate-svc',
      displayName: 'Load-balanced Fargate service',
      description: 'A Fargate service behind a load balancer; teams run their own pipelines',
      pipelineProvisioning: Provisioning.CUSTOMER_MANAGED,
    });
    this.frontendVersion = new ServiceTemplateVersion(this, 'FrontendVersion', {
      template: frontend,
      bundle: TemplateBundle.fromDirectory(path.join(templates, 'load-balanced-fargate-svc')),
      compatibleEnvironmentTemplates,
    });

    const protonServiceRole = new iam.Role(this, 'ProtonServiceRole', {
      assumedBy: new iam.ServicePrincipal('proton.amazonaws.com'),
      description: 'Proton provisions environments and service instances with this role',
    });
    new AccountSettings(this, 'AccountSettings', {
      pipelineServiceRole: new iam.Role(this, 'PipelineServiceRole', {
        assumedBy: new iam.ServicePrincipal('proton.amazonaws.com'),
        description: 'Proton provisions service pipelines with this role',
      }),
    });

    this.staging = new Environment(this, 'Staging', {
      environmentName: 'staging',
      templateVersion: fargateEnvVersion,
      spec: {
        vpc_cidr: '10.10.0.0/16',
        public_subnet_one_cidr: '10.10.0.0/18',
        public_subnet_two_cidr: '10.10.64.0/18',
        private_subnet_one_cidr: '10.10.128.0/18',
        private_subnet_two_cidr: '10.10.192.0/18',
      },
      description: 'Where changes are tried first',
      protonServiceRole,
    });
    this.production = new Environment(this, 'Production', {
      environmentName: 'production',
      templateVersion: fargateEnvVersion,
      spec: {
        vpc_cidr: '10.20.0.0/16',
        public_subnet_one_cidr: '10.20.0.0/18',
        public_subnet_two_cidr: '10.20.64.0/18',
        private_subnet_one_cidr: '10.20.128.0/18',
        private_subnet_two_cidr: '10.20.192.0/18',
      },
      description: 'Serves customers',
      protonServiceRole,
    });
    Tags.of(this.production).add('criticality', 'high');
  }
}

export class ServicesStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps & { readonly platform: PlatformStack }) {
    super(scope, id, props);
    const { platform } = props;

    const backend = new Service(this, 'Backend', {
      serviceName: 'orders-backend',
      description: 'Order processing',
      templateVersion: platform.backendVersion,
      instances: [
        { instanceName: 'staging', environment: platform.staging, spec: { desired_count: 1, task_size: 'x-small' } },
        { instanceName: 'production', environment: platform.production, spec: { desired_count: 3, task_size: 'medium', subnet_type: 'private' } },
      ],
      // A service with a pipeline deploys after the account's AccountSettings: the constructs order themselves.
      pipelineSpec: { service_dir: 'orders', dockerfile: 'Dockerfile', unit_test_command: 'npm test' },
      repository: { connectionArn: CONNECTION_ARN, repositoryId: 'example-org/orders', branchName: 'main' },
    });

    const frontend = new Service(this, 'Frontend', {
      serviceName: 'storefront',
      description: 'The public web shop',
      templateVersion: platform.frontendVersion,
      instances: [
        { instanceName: 'staging', environment: platform.staging, spec: { desired_count: 1 } },
        { instanceName: 'production', environment: platform.production, spec: { desired_count: 2, loadbalancer_type: 'application' } },
      ],
    });
    Tags.of(frontend).add('team', 'web');
    Tags.of(backend).add('team', 'orders');
  }
}

/** Adds the platform's two stacks to `app`; the template revision comes from the app's context. */
export function buildPlatformApp(app: App): { platform: PlatformStack; services: ServicesStack } {
  const revision = String(app.node.tryGetContext(REVISION_CONTEXT) ?? '1');
  if (revision !== '1' && revision !== '2') {
    throw new Error(`Context ${REVISION_CONTEXT} must be '1' or '2', got '${revision}'`);
  }
  const platform = new PlatformStack(app, 'ProtonPlatform', { revision });
  const services = new ServicesStack(app, 'ProtonServices', { platform });
  Tags.of(app).add('managed-by', 'cdk-proton');
  Tags.of(app).add('cost-center', 'platform-engineering');
  return { platform, services };
}

if (require.main === module) {
  const app = new App();
  buildPlatformApp(app);
  app.synth();
}
