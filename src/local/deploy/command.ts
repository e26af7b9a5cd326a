/**
 * `proton-local deploy | destroy | status | demo`: deploys a CDK app's Proton resources against proton-local (an
 * embedded one persisted under the state directory, or the one at --endpoint), as `cdk deploy` would against AWS.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { ProtonLocal } from '../index';
import { CloudAssembly, readCloudAssembly, synthesizeApp } from './assembly';
import type { AssertionOutcome } from './assertions';
import { DeployEngine, DeployEvent, StackOutcome } from './engine';
import { EventPrinter, EventSubject, ProtonResourceRow, formatTable, readProtonResources } from './output';
import { ProtonApiClient } from './proton-client';
import { DeployState } from './state';

const DEMO_POLL_INTERVAL_MS = 500;

const USAGE = `Usage:
  proton-local deploy  [--app CMD | --assembly DIR] [--endpoint URL] [--state-dir DIR] [--json] [--poll-interval-ms N] [--allow-skipped]
  proton-local destroy [--app CMD | --assembly DIR] [--endpoint URL] [--state-dir DIR] [--json] [--poll-interval-ms N]
  proton-local status  [--endpoint URL] [--state-dir DIR] [--json]
  proton-local demo    [--app CMD] [--state-dir DIR] [--json] [--poll-interval-ms N]   (default app: the example platform app)
  (without --endpoint, also [--registration-delay-ms N] [--deployment-delay-ms N] for the embedded proton-local)

  --app CMD             the CDK app command (as in cdk.json); it runs with CDK_OUTDIR set to a temporary directory.
                        Default: the "app" of ./cdk.json.
  --assembly DIR        an already synthesized cloud assembly (cdk.out) instead of --app.
  --endpoint URL        a running proton-local (proton-local serve). Default: an embedded one whose state is kept
                        in the state directory.
  --state-dir DIR       where the deployed stacks (and the embedded proton-local's state) are kept.
                        Default: .proton-local (demo: .proton-local/demo).
  --registration-delay-ms N, --deployment-delay-ms N
                        how long the embedded proton-local takes to register a template version and to deploy
                        (defaults: those of proton-local serve).
  --json                print the events, outcome and Proton resources as one JSON document.
  --poll-interval-ms N  poll isComplete every N ms instead of the provider's queryInterval, with the provider's number
                        of attempts (so its timeout shrinks alike): for tests and the demo, also env
                        PROTON_LOCAL_POLL_INTERVAL_MS. The demo defaults to ${DEMO_POLL_INTERVAL_MS}.
  --allow-skipped       deploy: succeed even when an integ-tests-alpha assertion could not run locally (NOT_RUN:
                        an HTTP call, another service's API...). Without it such a deploy exits 1. A FAILED
                        assertion always exits 1.
destroy without --app/--assembly destroys every stack in the state directory.`;

/** The context value that selects the demo app's template revision. */
const DEMO_REVISION_CONTEXT = 'cdk-proton-demo:revision';

/**
 * The demo's default app: the example platform app beside this command (lib/local/demo/platform-app.js in an installed
 * package, src/local/demo/platform-app.ts in a clone), run by this Node.js with the flags it runs under, so a CLI started
 * through tsx runs the TypeScript app through tsx, and an installed one needs no TypeScript at all.
 */
export function defaultDemoApp(): string {
  const app = path.join(__dirname, '..', 'demo', `platform-app${path.extname(__filename)}`);
  return [process.execPath, ...process.execArgv, app].map(shellQuote).join(' ');
}

/** Quotes a word for the shell that runs app commands (sh, or cmd.exe on Windows). */
function shellQuote(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return process.platform === 'win32' ? `"${word.replace(/"/g, '""')}"` : `'${word.replace(/'/g, "'\\''")}'`;
}

class UsageError extends Error {}

interface CommandOptions {
  readonly app?: string;
  readonly assembly?: string;
  readonly endpoint?: string;
  readonly stateDir: string;
  readonly json: boolean;
  readonly pollIntervalMs?: number;
  readonly registrationDelayMs?: number;
  readonly deploymentDelayMs?: number;
  readonly allowSkipped: boolean;
}

function parseOptions(subcommand: string, argv: string[]): CommandOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      'app': { type: 'string' },
      'assembly': { type: 'string' },
      'endpoint': { type: 'string' },
      'state-dir': { type: 'string' },
      'json': { type: 'boolean' },
      'poll-interval-ms': { type: 'string' },
      'registration-delay-ms': { type: 'string' },
      'deployment-delay-ms': { type: 'string' },
      'allow-skipped': { type: 'boolean' },
    },
  });
  const delay = (name: 'registration-delay-ms' | 'deployment-delay-ms') => {
    const text = values[name];
    if (text === undefined) return undefined;
    if (values.endpoint !== undefined) throw new UsageError(`--${name} applies to the embedded proton-local only, not with --endpoint`);
    const value = Number(text);
    if (!(Number.isInteger(value) && value >= 0)) throw new UsageError(`Invalid --${name} '${text}': expected an integer of milliseconds >= 0`);
    return value;
  };
  if (values.app !== undefined && values.assembly !== undefined) {
    throw new UsageError('--app and --assembly cannot be combined: give one');
  }
  if (values['allow-skipped'] && subcommand !== 'deploy') {
    throw new UsageError('--allow-skipped applies to deploy only (the assertions it runs)');
  }
  if (subcommand === 'status' && (values.app !== undefined || values.assembly !== undefined)) {
    throw new UsageError('status takes no --app or --assembly: it reads the state directory and proton-local');
  }
  if (subcommand === 'demo' && (values.assembly !== undefined || values.endpoint !== undefined)) {
    throw new UsageError('demo takes no --assembly or --endpoint: it synthesizes the app twice and runs an embedded proton-local');
  }
  const pollText = values['poll-interval-ms'] ?? process.env.PROTON_LOCAL_POLL_INTERVAL_MS;
  const pollIntervalMs = pollText === undefined ? undefined : Number(pollText);
  if (pollIntervalMs !== undefined && !(Number.isInteger(pollIntervalMs) && pollIntervalMs > 0)) {
    throw new UsageError(`Invalid poll interval '${pollText}' (--poll-interval-ms or PROTON_LOCAL_POLL_INTERVAL_MS): expected a positive integer of milliseconds`);
  }
  return {
    app: values.app,
    assembly: values.assembly,
    endpoint: values.endpoint,
    stateDir: values['state-dir'] ?? (subcommand === 'demo' ? path.join('.proton-local', 'demo') : '.proton-local'),
    json: values.json ?? false,
    pollIntervalMs: pollIntervalMs ?? (subcommand === 'demo' ? DEMO_POLL_INTERVAL_MS : undefined),
    registrationDelayMs: delay('registration-delay-ms'),
    deploymentDelayMs: delay('deployment-delay-ms'),
    allowSkipped: values['allow-skipped'] ?? false,
  };
}

/** Output collected for --json, or printed as it happens. */
class Reporter {
  public readonly document: { [key: string]: unknown } = {};
  private readonly events: DeployEvent[] = [];
  private readonly printer = new EventPrinter(process.stdout);

  constructor(private readonly json: boolean) {}

  public event(event: DeployEvent): void {
    this.events.push(event);
    if (!this.json) this.printer.event(event);
  }

  /** Sizes the event columns for these resources, before their first event. */
  public resources(subjects: EventSubject[]): void {
    this.printer.fit(subjects);
  }

  public line(text: string): void {
    if (!this.json) this.printer.line(text);
  }

  public table(title: string, rows: ProtonResourceRow[]): void {
    this.line(`\n${title}\n${formatTable(rows)}\n`);
  }

  public finish(result: { [key: string]: unknown }, error?: Error): void {
    this.printer.stop();
    if (this.json) {
      process.stdout.write(JSON.stringify({ ...this.document, ...result, events: this.events, ...(error ? { error: error.message } : {}) }, undefined, 2) + '\n');
    }
    if (error) process.stderr.write(`proton-local: ${error.message}\n`);
  }
}

/** A Proton endpoint for one command: the given one, or an embedded proton-local persisted in the state directory. */
async function withEndpoint<T>(options: CommandOptions, state: DeployState, run: (endpoint: string) => Promise<T>): Promise<T> {
  if (options.endpoint) return run(options.endpoint);
  const local = await ProtonLocal.start({
    stateFile: state.emulatorStateFile, registrationDelayMs: options.registrationDelayMs, deploymentDelayMs: options.deploymentDelayMs,
  });
  try {
    return await run(local.endpoint);
  } finally {
    await local.stop();
  }
}

/** Synthesizes (or reads) the assembly, hands it to `use`, and removes a temporary assembly afterwards. */
async function withAssembly<T>(
  options: CommandOptions, context: { [key: string]: unknown }, use: (assembly: CloudAssembly) => Promise<T>,
): Promise<T> {
  if (options.assembly) return use(readCloudAssembly(options.assembly));
  const outdir = await synthesizeApp(appCommand(options), { ...projectContext(), ...context });
  try {
    return await use(readCloudAssembly(outdir));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function readJsonIfPresent(file: string): any {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf-8')) : {};
}

/** The context the CDK CLI gives an app run in this folder: cdk.context.json, then cdk.json's "context". */
function projectContext(): { [key: string]: unknown } {
  return { ...readJsonIfPresent('cdk.context.json'), ...readJsonIfPresent('cdk.json').context };
}

function appCommand(options: CommandOptions): string {
  if (options.app) return options.app;
  const app = readJsonIfPresent('cdk.json').app;
  if (typeof app !== 'string') {
    throw new UsageError('No app to deploy: give --app CMD or --assembly DIR (or run where a cdk.json names the "app")');
  }
  return app;
}

/** The resources of an assembly's stacks, for sizing the event columns. */
function assemblySubjects(assembly: CloudAssembly): EventSubject[] {
  return assembly.stacks.flatMap((stack) => Object.entries<{ Type: string }>(stack.template?.Resources ?? {})
    .map(([logicalId, resource]) => ({ stack: stack.stackName, logicalId, resourceType: String(resource.Type) })));
}

/** The resources of the deployed stacks, for sizing the event columns of a destroy. */
function stateSubjects(state: DeployState): EventSubject[] {
  return Object.values(state.stacks).flatMap((stack) => Object.entries(stack.resources)
    .map(([logicalId, record]) => ({ stack: stack.stackName, logicalId, resourceType: record.type })));
}

function engineFor(options: CommandOptions, state: DeployState, endpoint: string, reporter: Reporter): DeployEngine {
  return new DeployEngine({
    state, endpoint, client: new ProtonApiClient(endpoint), pollIntervalMs: options.pollIntervalMs, onEvent: (e) => reporter.event(e),
  });
}

function reportOutcomes(reporter: Reporter, outcomes: StackOutcome[]): void {
  for (const outcome of outcomes) {
    const assertions = outcome.assertions ?? [];
    reporter.line(`${outcome.stackName}: ${outcome.status}${assertions.length ? `, assertions: ${assertionCounts(assertions)}` : ''}`);
    for (const assertion of assertions) {
      const message = assertion.message ? `: ${assertion.message.replace(/\n/g, '\n      ')}` : '';
      reporter.line(`  ${assertion.status === 'NOT_RUN' ? 'NOT RUN' : assertion.status} ${assertion.logicalId}${message}`);
    }
    outcome.warnings.forEach((warning) => reporter.line(`  warning: ${warning}`));
  }
}

function assertionCounts(assertions: AssertionOutcome[]): string {
  const count = (verdict: AssertionOutcome['status']) => assertions.filter((a) => a.status === verdict).length;
  return `${count('PASSED')} passed, ${count('FAILED')} failed, ${count('NOT_RUN')} not run`;
}

/**
 * A deploy whose assertions did not all pass is no success: a FAILED one always fails the command, a NOT_RUN one unless
 * --allow-skipped (what the local engine cannot run must never read as passed).
 */
function checkAssertions(outcomes: StackOutcome[], allowSkipped: boolean): void {
  const assertions = outcomes.flatMap((outcome) => outcome.assertions ?? []);
  const failed = assertions.filter((a) => a.status === 'FAILED');
  const notRun = assertions.filter((a) => a.status === 'NOT_RUN');
  if (failed.length || (notRun.length && !allowSkipped)) {
    const names = (list: AssertionOutcome[]) => list.map((a) => a.logicalId).join(', ');
    throw new AssertionsNotPassed(`assertions: ${assertionCounts(assertions)}.` +
      (failed.length ? ` Failed: ${names(failed)}.` : '') +
      (notRun.length ? ` Not run by proton-local (${allowSkipped ? 'allowed by --allow-skipped' : 'pass --allow-skipped to accept that'}): ${names(notRun)}.` : ''));
  }
}

class AssertionsNotPassed extends Error {}

async function deploy(options: CommandOptions, reporter: Reporter): Promise<void> {
  const state = new DeployState(options.stateDir);
  await withAssembly(options, {}, (assembly) => withEndpoint(options, state, async (endpoint) => {
    reporter.resources(assemblySubjects(assembly));
    const outcomes = await engineFor(options, state, endpoint, reporter).deploy(assembly);
    reportOutcomes(reporter, outcomes);
    reporter.document.stacks = outcomes;
    await table(reporter, endpoint);
    checkAssertions(outcomes, options.allowSkipped);
  }));
}

async function destroy(options: CommandOptions, reporter: Reporter): Promise<void> {
  const state = new DeployState(options.stateDir);
  const destroyStacks = (stackNames?: string[]) => withEndpoint(options, state, async (endpoint) => {
    reporter.resources(stateSubjects(state));
    const outcomes = await engineFor(options, state, endpoint, reporter).destroy(stackNames);
    reportOutcomes(reporter, outcomes);
    reporter.document.stacks = outcomes;
    await table(reporter, endpoint);
  });
  if (options.app || options.assembly) {
    await withAssembly(options, {}, (assembly) => destroyStacks(assembly.stacks.map((s) => s.stackName)));
  } else {
    await destroyStacks();
  }
}

async function status(options: CommandOptions, reporter: Reporter): Promise<void> {
  const state = new DeployState(options.stateDir);
  const stacks = Object.values(state.stacks).map((s) => ({ stackName: s.stackName, status: s.status, resources: Object.keys(s.resources).length }));
  reporter.document.stacks = stacks;
  reporter.line(stacks.length ? stacks.map((s) => `${s.stackName}: ${s.status} (${s.resources} resources)`).join('\n') : 'No deployed stacks.');
  await withEndpoint(options, state, (endpoint) => table(reporter, endpoint));
}

async function table(reporter: Reporter, endpoint: string): Promise<ProtonResourceRow[]> {
  const rows = await readProtonResources(new ProtonApiClient(endpoint));
  reporter.document.resources = rows;
  reporter.table('Proton resources:', rows);
  return rows;
}

/**
 * The README's main job: deploy the example app, print the table, upgrade a template version (the app re-synthesized
 * with the next revision, so a new minor registers and rolls out to the environments), print the table, destroy.
 */
async function demo(options: CommandOptions, reporter: Reporter): Promise<void> {
  const started = Date.now();
  // Every demo starts from an empty world, even after an interrupted one: the embedded proton-local's state lives in
  // the same directory, so removing the directory's state files is enough.
  const stale = new DeployState(options.stateDir);
  if ([stale.stacksFile, stale.emulatorStateFile].some((file) => fs.existsSync(file))) {
    reporter.line(`Starting afresh: removing the previous demo's state in ${options.stateDir}`);
    stale.clear();
  }
  const state = new DeployState(options.stateDir);
  const app = options.app ?? defaultDemoApp();
  const appName = options.app ?? 'the example platform app';
  const phases: { [phase: string]: ProtonResourceRow[] } = {};
  reporter.document.phases = phases;
  await withEndpoint(options, state, async (endpoint) => {
    const engine = engineFor(options, state, endpoint, reporter);
    for (const revision of ['1', '2']) {
      reporter.line(revision === '1'
        ? `Deploying ${appName} (${DEMO_REVISION_CONTEXT}=${revision})...`
        : `\nUpgrading: ${appName} re-synthesized with ${DEMO_REVISION_CONTEXT}=${revision} (new template minor versions)...`);
      await withAssembly({ ...options, app }, { [DEMO_REVISION_CONTEXT]: revision }, async (assembly) => {
        reporter.resources(assemblySubjects(assembly));
        reportOutcomes(reporter, await engine.deploy(assembly));
      });
      phases[revision === '1' ? 'deployed' : 'upgraded'] = await table(reporter, endpoint);
    }
    for (const line of upgradeSummary(phases.deployed, phases.upgraded)) reporter.line(line);
    reporter.line('\nDestroying...');
    reportOutcomes(reporter, await engine.destroy());
    phases.destroyed = await table(reporter, endpoint);
    if (phases.destroyed.length) {
      throw new Error(`${phases.destroyed.length} Proton resources are left after destroy`);
    }
  });
  reporter.line(`Demo complete in ${((Date.now() - started) / 1000).toFixed(1)}s: deployed, upgraded and destroyed.`);
}

/** One line per environment or service instance whose template version changed between two tables. */
function upgradeSummary(before: ProtonResourceRow[], after: ProtonResourceRow[]): string[] {
  const moved = after.filter((row) => ['Environment', 'ServiceInstance', 'ServicePipeline'].includes(row.kind)).flatMap((row) => {
    const old = before.find((b) => b.kind === row.kind && b.name === row.name);
    return old && old.version !== row.version ? [`  ${row.kind} ${row.name}: ${row.template} ${old.version} -> ${row.version}`] : [];
  });
  return moved.length ? ['\nUpgraded:', ...moved] : ['\nUpgraded: nothing moved to a new template version'];
}

/** Entry point used by src/local/cli.ts; resolves to the process exit status. */
export async function runDeployCommand(subcommand: string, argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let options: CommandOptions;
  try {
    options = parseOptions(subcommand, argv);
  } catch (error) {
    process.stderr.write(`proton-local ${subcommand}: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const reporter = new Reporter(options.json);
  const commands: { [name: string]: (o: CommandOptions, r: Reporter) => Promise<void> } = { deploy, destroy, status, demo };
  const command = commands[subcommand];
  if (!command) {
    process.stderr.write(`proton-local: unknown command '${subcommand}': expected one of ${Object.keys(commands).join(', ')}\n`);
    return 2;
  }
  try {
    await command(options, reporter);
    reporter.finish({ command: subcommand, success: true });
    return 0;
  } catch (error) {
    reporter.finish({ command: subcommand, success: false }, error as Error);
    const logFile = new DeployState(options.stateDir).handlerLogFile;
    if (fs.existsSync(logFile)) process.stderr.write(`The custom-resource handler's logs are in ${logFile}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
