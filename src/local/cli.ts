#!/usr/bin/env node
/**
 * The proton-local command.
 *
 *   proton-local serve [--host 127.0.0.1] [--port N] [--state FILE] [--registration-delay-ms N] [--deployment-delay-ms N]
 *                      [--auto-complete-self-managed]
 *                      [--throttle-rps N] [--error-rate R] [--drop-rate R] [--latency-ms N] [--seed N] [--max-object-bytes N]
 *   proton-local deploy|destroy|status|demo ...   (local deployment, see src/local/deploy/)
 *   proton-local render ...                       (a bundle's rendered IaC, see src/local/render-command.ts)
 *   proton-local export ...                       (an account's templates, specs and stacks, see src/local/export-command.ts)
 *   proton-local --version | --help, and --help after any command
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { parseArgs } from 'util';
import { EXPORT_USAGE, ExportUsageError, runExportCommand } from './export-command';
import { ProtonLocal, ProtonLocalOptions } from './index';
import { RENDER_USAGE, RenderUsageError, runRenderCommand } from './render-command';

const USAGE = `Usage:
  proton-local serve [options]                    an emulated Proton API (and S3) for the AWS SDK, CLI and boto3
  proton-local deploy|destroy|status [options]    deploy a CDK app's Proton resources to proton-local
  proton-local demo [options]                     deploy, upgrade and destroy the example platform app
  proton-local render [options]                   print a bundle's rendered IaC for a Proton spec file
  proton-local export [options]                   write an account's templates, bundles and specs to a folder (leaving Proton)
  proton-local --version
Run 'proton-local COMMAND --help' for a command's options.`;

const SERVE_USAGE = `Usage: proton-local serve [options]

Serves the Proton API (and the S3 subset that template bundles need) until SIGINT or SIGTERM.
  --host HOST                   address to listen on (default 127.0.0.1)
  --port N                      port to listen on; 0 picks a free one (default 4000)
  --state FILE                  keep the state in FILE across restarts (default: in memory)
  --registration-delay-ms N     how long a template version takes to register
  --deployment-delay-ms N       how long an environment, service or pipeline deployment takes
  --auto-complete-self-managed  end self-managed (provisioningRepository) deployments after the delay instead of
                                waiting for NotifyResourceDeploymentStatusChange, as Proton does
Faults, to test clients' retries:
  --throttle-rps N              answer ThrottlingException above N requests per second
  --error-rate R                answer InternalServerException (without taking effect) to a fraction R (0 to 1) of requests
  --drop-rate R                 apply a fraction R of calls but cut the connection before the response
  --latency-ms N                delay every response by N ms
  --seed N                      seed of the random faults, for reproducible runs
Bounds:
  --max-object-bytes N          the largest S3 object a PUT may store (default 64 MiB)`;

const DEPLOY_COMMANDS = ['deploy', 'destroy', 'status', 'demo'];

class UsageError extends Error {}

/** The contract of src/local/deploy/command.ts, typed here so serving builds without it. */
interface DeployModule {
  runDeployCommand(subcommand: string, argv: string[]): Promise<number>;
}

function numberOption(values: { [name: string]: unknown }, name: string): number | undefined {
  const text = values[name];
  if (text === undefined) {
    return undefined;
  }
  const value = Number(text);
  if (typeof text !== 'string' || text.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`Invalid --${name} '${String(text)}': expected a number`);
  }
  return value;
}

export function parseServeOptions(argv: string[]): ProtonLocalOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      'host': { type: 'string' },
      'port': { type: 'string' },
      'state': { type: 'string' },
      'registration-delay-ms': { type: 'string' },
      'deployment-delay-ms': { type: 'string' },
      'auto-complete-self-managed': { type: 'boolean' },
      'throttle-rps': { type: 'string' },
      'error-rate': { type: 'string' },
      'drop-rate': { type: 'string' },
      'latency-ms': { type: 'string' },
      'seed': { type: 'string' },
      'max-object-bytes': { type: 'string' },
    },
  });
  return {
    host: values.host,
    port: numberOption(values, 'port') ?? 4000,
    stateFile: values.state,
    registrationDelayMs: numberOption(values, 'registration-delay-ms'),
    deploymentDelayMs: numberOption(values, 'deployment-delay-ms'),
    autoCompleteSelfManaged: values['auto-complete-self-managed'] ?? false,
    throttleRps: numberOption(values, 'throttle-rps'),
    errorRate: numberOption(values, 'error-rate'),
    dropRate: numberOption(values, 'drop-rate'),
    latencyMs: numberOption(values, 'latency-ms'),
    seed: numberOption(values, 'seed'),
    maxObjectBytes: numberOption(values, 'max-object-bytes'),
  };
}

/** The version of the installed package: package.json is two folders up from both src/local/ and lib/local/. */
export function packageVersion(): string {
  return JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
}

const isHelp = (arg: string) => arg === '--help' || arg === '-h';

async function serve(argv: string[]): Promise<number> {
  if (argv.some(isHelp)) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  const local = await ProtonLocal.start(parseServeOptions(argv));
  process.stdout.write(`proton-local listening on ${local.endpoint}\n`);
  return new Promise(resolve => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      local.stop().then(() => resolve(0), error => {
        process.stderr.write(`proton-local: error while stopping: ${error}\n`);
        resolve(1);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** proton-local render: the rendered IaC of a bundle for a spec file, on stdout. */
function render(argv: string[]): number {
  if (argv.some(isHelp)) {
    process.stdout.write(`Usage:\n${RENDER_USAGE}\n`);
    return 0;
  }
  try {
    return runRenderCommand(argv, { stdout: text => process.stdout.write(text) });
  } catch (error) {
    throw error instanceof RenderUsageError ? new UsageError(error.message) : error;
  }
}

/** proton-local export: an account's templates, bundles, specs and stack names, written to a folder. */
async function exportAccount(argv: string[]): Promise<number> {
  if (argv.some(isHelp)) {
    process.stdout.write(`Usage:\n${EXPORT_USAGE}\n`);
    return 0;
  }
  try {
    return await runExportCommand(argv, line => process.stdout.write(`${line}\n`));
  } catch (error) {
    throw error instanceof ExportUsageError ? new UsageError(error.message) : error;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'serve') {
      return await serve(rest);
    }
    if (command === 'render') {
      return render(rest);
    }
    if (command === 'export') {
      return await exportAccount(rest);
    }
    if (DEPLOY_COMMANDS.includes(command)) {
      // Loaded on demand: serving needs none of the deployment code.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const deploy: DeployModule = require('./deploy/command');
      return await deploy.runDeployCommand(command, rest);
    }
    if (command === '--version' || command === '-V') {
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    if (command === undefined || isHelp(command) || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 1 : 0;
    }
    throw new UsageError(`Unknown command '${command}': expected one of serve, ${DEPLOY_COMMANDS.join(', ')}, render, export, or --version, --help`);
  } catch (error) {
    const isUsage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const usage = command === 'serve' ? SERVE_USAGE : command === 'render' ? `Usage:\n${RENDER_USAGE}`
      : command === 'export' ? `Usage:\n${EXPORT_USAGE}` : USAGE;
    process.stderr.write(`proton-local: ${(error as Error).message}\n${isUsage ? `${usage}\n` : ''}`);
    return isUsage ? 2 : 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then(code => process.exit(code));
}
