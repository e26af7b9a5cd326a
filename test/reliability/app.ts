/**
 * The app the reliability suite deploys: a platform stack (two templates, their versions) and a team stack (an
 * environment, a service with one instance). Revision 2 changes both bundles, so an upgrade registers, publishes and
 * rolls out a new minor of each, and the old ones are deleted.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { TEMPLATES } from '../../examples/platform-app';
import {
  Environment, EnvironmentTemplate, EnvironmentTemplateVersion, Provisioning, Service, ServiceTemplate, ServiceTemplateVersion, TemplateBundle,
} from '../../src';

const ENV = { account: '123456789012', region: 'us-east-1' };

/** load-balanced-fargate-svc with a changed comment in its IaC: the same schema, another bundle (a new minor). */
function changedServiceBundle(): string {
  const directory = path.join(os.tmpdir(), 'cdk-proton-reliability-svc-v1.1');
  if (!fs.existsSync(directory)) {
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-proton-reliability-'));
    fs.cpSync(path.join(TEMPLATES, 'load-balanced-fargate-svc'), staging, { recursive: true });
    const iac = path.join(staging, 'instance_infrastructure', 'cloudformation.yaml');
    fs.writeFileSync(iac, `# revision 2\n${fs.readFileSync(iac, 'utf-8')}`);
    try {
      fs.renameSync(staging, directory);
    } catch {
      // Another worker made it first: the same content.
    }
  }
  return directory;
}

export function buildReliabilityApp(app: App, revision: 1 | 2): void {
  const platform = new Stack(app, 'Platform', { env: ENV });
  const team = new Stack(app, 'Team', { env: ENV });
  const envTemplate = new EnvironmentTemplate(platform, 'EnvTemplate', { environmentTemplateName: 'fargate-env' });
  const envVersion = new EnvironmentTemplateVersion(platform, 'EnvVersion', {
    template: envTemplate,
    bundle: TemplateBundle.fromDirectory(path.join(TEMPLATES, revision === 1 ? 'fargate-env' : 'fargate-env-v1.1')),
  });
  const svcTemplate = new ServiceTemplate(platform, 'SvcTemplate', { serviceTemplateName: 'web', pipelineProvisioning: Provisioning.CUSTOMER_MANAGED });
  const svcVersion = new ServiceTemplateVersion(platform, 'SvcVersion', {
    template: svcTemplate,
    bundle: TemplateBundle.fromDirectory(revision === 1 ? path.join(TEMPLATES, 'load-balanced-fargate-svc') : changedServiceBundle()),
    compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: '1' }],
  });
  const role = new iam.Role(team, 'ProtonServiceRole', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });
  const environment = new Environment(team, 'Env', { environmentName: 'staging', templateVersion: envVersion, protonServiceRole: role });
  new Service(team, 'Web', {
    serviceName: 'web',
    templateVersion: svcVersion,
    instances: [{ instanceName: 'staging', environment }],
  });
}
