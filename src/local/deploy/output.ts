/**
 * What `proton-local deploy | destroy | status | demo` print: one line per resource event, as `cdk deploy` does, and a
 * table of the Proton resources read from proton-local.
 */
import type { DeployEvent } from './engine';
import type { ProtonApiClient } from './proton-client';

export interface ProtonResourceRow {
  readonly kind: string;
  readonly name: string;
  /** The template the resource runs (versions, environments, services, instances, pipelines). */
  readonly template: string;
  /** `major.minor` (a template's recommended version), or '-' when not applicable. */
  readonly version: string;
  readonly status: string;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export function formatEvent(event: DeployEvent): string {
  const action = event.phase === 'deploy' || event.phase === 'destroy' ? event.action : `${event.action} (${event.phase})`;
  const columns = [
    event.stack.padEnd(20),
    event.logicalId.padEnd(40),
    event.resourceType.padEnd(40),
    action.padEnd(18),
    event.status.padEnd(11),
    seconds(event.elapsedMs).padStart(6),
  ];
  return columns.join(' ') + (event.reason ? `\n    reason: ${event.reason}` : '');
}

export function formatTable(rows: ProtonResourceRow[]): string {
  if (rows.length === 0) return 'No Proton resources.';
  const header: ProtonResourceRow = { kind: 'KIND', name: 'NAME', template: 'TEMPLATE', version: 'VERSION', status: 'STATUS' };
  const keys: (keyof ProtonResourceRow)[] = ['kind', 'name', 'template', 'version', 'status'];
  const widths = keys.map((key) => Math.max(...[header, ...rows].map((row) => row[key].length)));
  return [header, ...rows].map((row) => keys.map((key, i) => row[key].padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

const version = (major?: string, minor?: string) => (major !== undefined ? `${major}.${minor ?? '?'}` : '-');

/** Every Proton resource on the endpoint, templates first, in a stable order. */
export async function readProtonResources(client: ProtonApiClient): Promise<ProtonResourceRow[]> {
  const rows: ProtonResourceRow[] = [];
  for (const [noun, listTemplates, listVersions] of [
    ['Environment', 'ListEnvironmentTemplates', 'ListEnvironmentTemplateVersions'],
    ['Service', 'ListServiceTemplates', 'ListServiceTemplateVersions'],
  ] as const) {
    const templates = await client.listAll(listTemplates, 'templates');
    for (const template of sortByName(templates)) {
      rows.push({ kind: `${noun}Template`, name: template.name, template: '-', version: template.recommendedVersion ?? '-', status: '-' });
      const majors = await client.listAll(listVersions, 'templateVersions', { templateName: template.name });
      for (const major of [...new Set(majors.map((m) => m.majorVersion as string))].sort(numeric)) {
        const minors = await client.listAll(listVersions, 'templateVersions', { templateName: template.name, majorVersion: major });
        for (const minor of minors.sort((a, b) => numeric(a.minorVersion, b.minorVersion))) {
          rows.push({
            kind: `${noun}TemplateVersion`,
            name: template.name,
            template: template.name,
            version: version(minor.majorVersion, minor.minorVersion),
            status: minor.status,
          });
        }
      }
    }
  }
  for (const environment of sortByName(await client.listAll('ListEnvironments', 'environments'))) {
    rows.push({
      kind: 'Environment',
      name: environment.name,
      template: environment.templateName,
      version: version(environment.templateMajorVersion, environment.templateMinorVersion),
      status: environment.deploymentStatus,
    });
  }
  for (const summary of sortByName(await client.listAll('ListServices', 'services'))) {
    rows.push({ kind: 'Service', name: summary.name, template: summary.templateName, version: '-', status: summary.status });
    const { service } = await client.call('GetService', { name: summary.name });
    if (service?.pipeline) {
      rows.push({
        kind: 'ServicePipeline',
        name: summary.name,
        template: summary.templateName,
        version: version(service.pipeline.templateMajorVersion, service.pipeline.templateMinorVersion),
        status: service.pipeline.deploymentStatus,
      });
    }
    const instances = await client.listAll('ListServiceInstances', 'serviceInstances', { serviceName: summary.name });
    for (const instance of sortByName(instances)) {
      rows.push({
        kind: 'ServiceInstance',
        name: `${summary.name}/${instance.name}`,
        template: instance.templateName,
        version: version(instance.templateMajorVersion, instance.templateMinorVersion),
        status: instance.deploymentStatus,
      });
    }
  }
  return rows;
}

function sortByName<T extends { name: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.name.localeCompare(b.name));
}

function numeric(a: string, b: string): number {
  return Number(a) - Number(b);
}
