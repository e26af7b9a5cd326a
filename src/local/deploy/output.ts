/**
 * What `proton-local deploy | destroy | status | demo` print: one line per resource event, as `cdk deploy` does, and a
 * table of the Proton resources read from proton-local.
 */
import type { DeployEvent } from './engine';
import { ProtonApiError, type ProtonApiClient } from './proton-client';

export interface ProtonResourceRow {
  readonly kind: string;
  readonly name: string;
  /**
   * The template the resource runs (versions, environments, services, instances, pipelines, sync configs); for a
   * component, the environment or `service/instance` it is deployed to.
   */
  readonly template: string;
  /** `major.minor` (a template's recommended version), or '-' when not applicable. */
  readonly version: string;
  /** The deployment or registration status; for a sync config, where it syncs from (`<provider>:<repository>@<branch>`). */
  readonly status: string;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Widths of the event columns whose values vary in length; the others are fixed. */
export interface EventColumnWidths {
  readonly stack: number;
  readonly logicalId: number;
  readonly resourceType: number;
}

/** The widths when nothing is known about the resources: what most CDK apps fit in. */
export const DEFAULT_EVENT_COLUMN_WIDTHS: EventColumnWidths = { stack: 20, logicalId: 40, resourceType: 40 };

/** A resource an event may be about, for sizing the columns before the first event. */
export interface EventSubject {
  readonly stack: string;
  readonly logicalId: string;
  readonly resourceType: string;
}

/** Widths that fit every given resource (and at least the defaults), so event lines align however long a logical id is. */
export function eventColumnWidths(subjects: EventSubject[], base: EventColumnWidths = DEFAULT_EVENT_COLUMN_WIDTHS): EventColumnWidths {
  const widest = (key: keyof EventSubject) => Math.max(base[key], ...subjects.map((subject) => subject[key].length));
  return { stack: widest('stack'), logicalId: widest('logicalId'), resourceType: widest('resourceType') };
}

function eventColumns(event: EventSubject, widths: EventColumnWidths, action: string, status: string, elapsedMs: number): string {
  return [
    event.stack.padEnd(widths.stack),
    event.logicalId.padEnd(widths.logicalId),
    event.resourceType.padEnd(widths.resourceType),
    action.padEnd(18),
    status.padEnd(11),
    seconds(elapsedMs).padStart(6),
  ].join(' ');
}

export function formatEvent(event: DeployEvent, widths: EventColumnWidths = DEFAULT_EVENT_COLUMN_WIDTHS): string {
  const action = event.phase === 'deploy' || event.phase === 'destroy' ? event.action : `${event.action} (${event.phase})`;
  return eventColumns(event, widths, action, event.status, event.elapsedMs) + (event.reason ? `\n    reason: ${event.reason}` : '');
}

/** Where EventPrinter writes: process.stdout, or a test's recorder. */
export interface EventOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface EventPrinterOptions {
  /** Column widths to start with (see eventColumnWidths); they grow for a resource wider than them. */
  readonly widths?: EventColumnWidths;
  /** How often a waiting resource is reported: the TTY status line is redrawn, or a plain line printed. */
  readonly progressIntervalMs?: number;
  /** Milliseconds since an arbitrary origin; Date.now by default. */
  readonly now?: () => number;
}

/** TTY: redraw the status line every second. Otherwise (logs, CI): a line per waiting resource every 30 s. */
const TTY_PROGRESS_INTERVAL_MS = 1_000;
const PLAIN_PROGRESS_INTERVAL_MS = 30_000;
const CLEAR_LINE = '\r\x1b[K';

/**
 * Prints deploy events one line each, as `cdk deploy` does, and reports the resources still in progress while they
 * wait: on a terminal a status line (rewritten in place) with the elapsed time, elsewhere a plain `... IN_PROGRESS` line
 * per resource at each interval, so logs show that a long Proton deployment is still going.
 */
export class EventPrinter {
  private widths: EventColumnWidths;
  private readonly waiting = new Map<string, { subject: EventSubject; action: string; startedAt: number }>();
  private readonly intervalMs: number;
  private readonly now: () => number;
  private timer?: ReturnType<typeof setInterval>;
  private statusLineShown = false;

  constructor(private readonly output: EventOutput, options: EventPrinterOptions = {}) {
    this.widths = options.widths ?? DEFAULT_EVENT_COLUMN_WIDTHS;
    this.intervalMs = options.progressIntervalMs ?? (output.isTTY ? TTY_PROGRESS_INTERVAL_MS : PLAIN_PROGRESS_INTERVAL_MS);
    this.now = options.now ?? Date.now;
  }

  public event(event: DeployEvent): void {
    this.widths = eventColumnWidths([event], this.widths);
    this.clearStatusLine();
    this.output.write(formatEvent(event, this.widths) + '\n');
    const key = `${event.stack}/${event.logicalId}`;
    if (event.status === 'IN_PROGRESS') {
      this.waiting.set(key, { subject: event, action: event.action, startedAt: this.now() - event.elapsedMs });
    } else {
      this.waiting.delete(key);
    }
    if (this.waiting.size > 0 && !this.timer) {
      this.timer = setInterval(() => this.progress(), this.intervalMs);
      // Progress never keeps the process alive on its own.
      this.timer.unref?.();
    } else if (this.waiting.size === 0) {
      this.stopTimer();
    }
    this.drawStatusLine();
  }

  /** Widens the columns to fit these resources: call with the stacks' resources before their first event. */
  public fit(subjects: EventSubject[]): void {
    this.widths = eventColumnWidths(subjects, this.widths);
  }

  /** Writes other output (outcomes, tables) without mixing it into the status line. */
  public line(text: string): void {
    this.clearStatusLine();
    this.output.write(text + '\n');
    this.drawStatusLine();
  }

  /** Stops reporting progress and removes the status line; call when the command ends, successfully or not. */
  public stop(): void {
    this.stopTimer();
    this.waiting.clear();
    this.clearStatusLine();
  }

  private progress(): void {
    if (this.output.isTTY) {
      this.clearStatusLine();
      this.drawStatusLine();
      return;
    }
    for (const { subject, action, startedAt } of this.waiting.values()) {
      this.output.write(eventColumns(subject, this.widths, action, 'IN_PROGRESS', this.now() - startedAt) + '\n');
    }
  }

  /** On a TTY: `  waiting 12.3s: FargateEnvV1 (ProtonPlatform) and 2 more`, the longest waiting resource first. */
  private drawStatusLine(): void {
    if (!this.output.isTTY || this.waiting.size === 0) return;
    const [oldest, ...others] = [...this.waiting.values()].sort((a, b) => a.startedAt - b.startedAt);
    const more = others.length ? ` and ${others.length} more` : '';
    this.output.write(`  waiting ${seconds(this.now() - oldest.startedAt)}: ${oldest.subject.logicalId} (${oldest.subject.stack})${more}`);
    this.statusLineShown = true;
  }

  private clearStatusLine(): void {
    if (!this.statusLineShown) return;
    this.output.write(CLEAR_LINE);
    this.statusLineShown = false;
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export function formatTable(rows: ProtonResourceRow[]): string {
  if (rows.length === 0) return 'No Proton resources.';
  const header: ProtonResourceRow = { kind: 'KIND', name: 'NAME', template: 'TEMPLATE', version: 'VERSION', status: 'STATUS' };
  const keys: (keyof ProtonResourceRow)[] = ['kind', 'name', 'template', 'version', 'status'];
  const widths = keys.map((key) => Math.max(...[header, ...rows].map((row) => row[key].length)));
  return [header, ...rows].map((row) => keys.map((key, i) => row[key].padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

const version = (major?: string, minor?: string) => (major !== undefined ? `${major}.${minor ?? '?'}` : '-');

/**
 * Every Proton resource on the endpoint, templates first, in a stable order: each template with its versions and sync
 * config, environments, services with their pipeline, instances and sync config, components, then repository links.
 */
export async function readProtonResources(client: ProtonApiClient): Promise<ProtonResourceRow[]> {
  const rows: ProtonResourceRow[] = [];
  for (const [noun, listTemplates, listVersions, templateType] of [
    ['Environment', 'ListEnvironmentTemplates', 'ListEnvironmentTemplateVersions', 'ENVIRONMENT'],
    ['Service', 'ListServiceTemplates', 'ListServiceTemplateVersions', 'SERVICE'],
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
      // Proton lists no sync configs: each template's is read.
      const sync = await ifExists(client.call('GetTemplateSyncConfig', { templateName: template.name, templateType }));
      if (sync?.templateSyncConfig) {
        rows.push({ kind: 'TemplateSyncConfig', name: template.name, template: template.name, version: '-', status: syncSource(sync.templateSyncConfig) });
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
    const sync = await ifExists(client.call('GetServiceSyncConfig', { serviceName: summary.name }));
    if (sync?.serviceSyncConfig) {
      rows.push({ kind: 'ServiceSyncConfig', name: summary.name, template: summary.templateName, version: '-', status: syncSource(sync.serviceSyncConfig) });
    }
  }
  for (const component of sortByName(await client.listAll('ListComponents', 'components'))) {
    const attachedTo = component.serviceName ? `${component.serviceName}/${component.serviceInstanceName}` : component.environmentName;
    rows.push({ kind: 'Component', name: component.name, template: attachedTo, version: '-', status: component.deploymentStatus });
  }
  const repositories = (await client.listAll('ListRepositories', 'repositories')).map((r) => ({ ...r, name: `${r.provider}:${r.name}` }));
  for (const repository of sortByName(repositories)) {
    rows.push({ kind: 'Repository', name: repository.name, template: '-', version: '-', status: '-' });
  }
  // The connections this client's account requested or was requested from (proton-local takes the account from the
  // access key id; this client sends none, so it sees the configured account's).
  const connections = new Map<string, any>();
  for (const requestedBy of ['ENVIRONMENT_ACCOUNT', 'MANAGEMENT_ACCOUNT']) {
    for (const connection of await client.listAll('ListEnvironmentAccountConnections', 'environmentAccountConnections', { requestedBy })) {
      connections.set(connection.id, connection);
    }
  }
  for (const connection of [...connections.values()].sort((a, b) => a.environmentName.localeCompare(b.environmentName) || a.id.localeCompare(b.id))) {
    rows.push({
      kind: 'EnvironmentAccountConnection',
      name: `${connection.environmentName} (${connection.environmentAccountId} -> ${connection.managementAccountId})`,
      template: '-',
      version: '-',
      status: connection.status,
    });
  }
  return rows;
}

/** Where a sync config syncs from: `<provider>:<repository>@<branch>`. */
function syncSource(config: { repositoryProvider: string; repositoryName: string; branch: string }): string {
  return `${config.repositoryProvider}:${config.repositoryName}@${config.branch}`;
}

/** The output of a Get call, or undefined when the resource does not exist. */
async function ifExists<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ProtonApiError && error.code === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

function sortByName<T extends { name: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.name.localeCompare(b.name));
}

function numeric(a: string, b: string): number {
  return Number(a) - Number(b);
}
