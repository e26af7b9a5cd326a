/**
 * The fault matrix: deploy, upgrade and destroy the reliability app (test/reliability/app.ts) through the local engine
 * and the real bundled handler while proton-local injects, once into every operation, a dropped response (the call
 * takes effect, the connection is destroyed), an InternalServerException, a ThrottlingException; then with every event
 * delivered twice; then under a request-rate limit for everything. After each run the stacks are complete, Proton holds
 * exactly one of each resource (no duplicate), and destroy leaves nothing (no orphan). Prints a table.
 * Needs the handler bundle (`npx projen bundle`).
 */
import { buildReliabilityApp } from './app';
import { ProtonLocal } from '../../src/local';
import type { FaultOptions } from '../../src/local';
import { DeployEngine } from '../../src/local/deploy/engine';
import { ProtonApiClient } from '../../src/local/deploy/proton-client';
import { DeployState } from '../../src/local/deploy/state';
import { synthesize, temporaryDirectory } from '../e2e/helpers';

/** Every mutating operation the handlers make on this app's lifecycle. */
const MUTATING_OPERATIONS = [
  'CreateEnvironmentTemplate', 'CreateServiceTemplate', 'CreateEnvironmentTemplateVersion', 'CreateServiceTemplateVersion',
  'UpdateEnvironmentTemplateVersion', 'UpdateServiceTemplateVersion', 'TagResource', 'CreateEnvironment', 'UpdateEnvironment',
  'CreateService', 'UpdateServiceInstance', 'DeleteService', 'DeleteEnvironment', 'DeleteEnvironmentTemplateVersion',
  'DeleteServiceTemplateVersion', 'DeleteEnvironmentTemplate', 'DeleteServiceTemplate',
];

interface Scenario {
  readonly fault: string;
  readonly faults?: (operation: string) => FaultOptions['operations'];
  readonly global?: FaultOptions;
  readonly redeliver?: boolean;
}

const once = (rule: object) => (operation: string) => ({ [operation]: { ...rule, count: 1 } });
const SCENARIOS: Scenario[] = [
  { fault: 'dropped response', faults: once({ dropRate: 1 }) },
  { fault: '5xx', faults: once({ errorRate: 1 }) },
  { fault: 'throttled', faults: once({ throttleRps: 0 }) },
  { fault: 're-delivered event', redeliver: true },
  { fault: 'rate limit 8/s', global: { throttleRps: 8 } },
];

interface Counts { duplicates: number; orphans: number }
const rows: string[][] = [];

afterAll(() => {
  const header = ['fault', 'operation', 'injected', 'outcome', 'duplicates', 'orphans'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  // eslint-disable-next-line no-console
  console.log(['Fault matrix (deploy, upgrade, destroy per fault)', line(header), ...rows.map(line)].join('\n'));
});

async function listAll(client: ProtonApiClient) {
  const templates = async (list: string, versions: string) => {
    const all = await client.listAll(list, 'templates');
    const result: string[] = [];
    for (const template of all) {
      result.push(`${list}:${template.name}`);
      for (const v of await client.listAll(versions, 'templateVersions', { templateName: template.name })) {
        result.push(`${versions}:${template.name}:${v.majorVersion}.${v.minorVersion}`);
      }
    }
    return result;
  };
  return [
    ...await templates('ListEnvironmentTemplates', 'ListEnvironmentTemplateVersions'),
    ...await templates('ListServiceTemplates', 'ListServiceTemplateVersions'),
    ...(await client.listAll('ListEnvironments', 'environments')).map((e: any) => `environment:${e.name}`),
    ...(await client.listAll('ListServices', 'services')).map((s: any) => `service:${s.name}`),
    ...(await client.listAll('ListServiceInstances', 'serviceInstances')).map((i: any) => `instance:${i.serviceName}/${i.name}`),
  ];
}

/** After the upgrade: both templates with one version each, one environment, one service with one instance. */
const EXPECTED_AFTER_UPGRADE = 7;

describe.each(SCENARIOS)('$fault', (scenario) => {
  test('every stack converges, with no duplicate and no orphan', async () => {
    const local = await ProtonLocal.start({ registrationDelayMs: 20, deploymentDelayMs: 30 });
    try {
      const client = new ProtonApiClient(local.endpoint);
      const operations = scenario.faults ? Object.assign({}, ...MUTATING_OPERATIONS.map(scenario.faults)) : undefined;
      local.setFaults({ ...scenario.global, ...(operations ? { operations } : {}) });
      const state = new DeployState(temporaryDirectory('reliability'));
      const engine = () => new DeployEngine({ state, client, endpoint: local.endpoint, pollIntervalMs: 10, redeliverEvents: scenario.redeliver });
      const counts: Counts = { duplicates: 0, orphans: 0 };

      const deployed = await engine().deploy(synthesize(app => buildReliabilityApp(app, 1)));
      expect(deployed.map(o => o.status)).toEqual(['CREATE_COMPLETE', 'CREATE_COMPLETE']);
      const upgraded = await engine().deploy(synthesize(app => buildReliabilityApp(app, 2)));
      expect(upgraded.map(o => o.status)).toEqual(['UPDATE_COMPLETE', 'UPDATE_COMPLETE']);
      local.setFaults({}); // the listing is the test's, not the system's
      const afterUpgrade = await listAll(client);
      counts.duplicates = afterUpgrade.length - EXPECTED_AFTER_UPGRADE;
      expect(afterUpgrade.filter(r => r.includes('Versions:'))).toEqual([
        'ListEnvironmentTemplateVersions:fargate-env:1.1', 'ListServiceTemplateVersions:web:1.1',
      ]);
      local.setFaults({ ...scenario.global, ...(operations ? { operations } : {}) });

      await engine().destroy();
      local.setFaults({});
      const left = await listAll(client);
      counts.orphans = left.length;

      const injected = (operation: string) => local.requestLog.all
        .filter(e => e.operation === operation && ['dropped', 'InternalServerException', 'ThrottlingException'].includes(e.outcome)).length;
      for (const operation of scenario.faults ? MUTATING_OPERATIONS : ['(all)']) {
        const count = operation === '(all)' ? MUTATING_OPERATIONS.reduce((n, o) => n + injected(o), 0) : injected(operation);
        rows.push([scenario.fault, operation, scenario.redeliver ? 'every event twice' : String(count), 'converged',
          String(counts.duplicates), String(counts.orphans)]);
      }
      expect(counts).toEqual({ duplicates: 0, orphans: 0 });
      expect(Object.keys(state.stacks)).toEqual([]);
      if (scenario.faults) {
        // Every operation of the lifecycle was hit by its fault (the one-shot rules each fired).
        expect(MUTATING_OPERATIONS.filter(o => injected(o) === 0)).toEqual([]);
      }
    } finally {
      await local.stop();
    }
  });
});
