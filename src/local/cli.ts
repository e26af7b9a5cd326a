#!/usr/bin/env node
/**
 * The proton-local command.
 *
 *   proton-local serve [--host 127.0.0.1] [--port N] [--state FILE] [--registration-delay-ms N] [--deployment-delay-ms N]
 *                      [--throttle-rps N] [--error-rate R] [--drop-rate R] [--latency-ms N] [--seed N]
 *   proton-local deploy|destroy|status|demo ...   (local deployment, see src/local/deploy/)
 *   proton-local render ...                       (a bundle's rendered IaC, see src/local/render-command.ts)
 */
import { parseArgs } from 'util';
import { ProtonLocal, ProtonLocalOptions } from './index';
import { RENDER_USAGE, RenderUsageError, runRenderCommand } from './render-command';

const USAGE = `Usage:
  proton-local serve [--host 127.0.0.1] [--port 4000] [--state FILE] [--registration-delay-ms N] [--deployment-delay-ms N]
                     [--throttle-rps N] [--error-rate R] [--drop-rate R] [--latency-ms N] [--seed N]
  proton-local deploy|destroy|status|demo [options]
${RENDER_USAGE}`;

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
      'throttle-rps': { type: 'string' },
      'error-rate': { type: 'string' },
      'drop-rate': { type: 'string' },
      'latency-ms': { type: 'string' },
      'seed': { type: 'string' },
    },
  });
  return {
    host: values.host,
    port: numberOption(values, 'port') ?? 4000,
    stateFile: values.state,
    registrationDelayMs: numberOption(values, 'registration-delay-ms'),
    deploymentDelayMs: numberOption(values, 'deployment-delay-ms'),
    throttleRps: numberOption(values, 'throttle-rps'),
    errorRate: numberOption(values, 'error-rate'),
    dropRate: numberOption(values, 'drop-rate'),
    latencyMs: numberOption(values, 'latency-ms'),
    seed: numberOption(values, 'seed'),
  };
}

async function serve(argv: string[]): Promise<number> {
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
  try {
    return runRenderCommand(argv, { stdout: text => process.stdout.write(text) });
  } catch (error) {
    throw error instanceof RenderUsageError ? new UsageError(error.message) : error;
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
    if (DEPLOY_COMMANDS.includes(command)) {
      // Loaded on demand: serving needs none of the deployment code.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const deploy: DeployModule = require('./deploy/command');
      return await deploy.runDeployCommand(command, rest);
    }
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 1 : 0;
    }
    throw new UsageError(`Unknown command '${command}': expected one of serve, ${DEPLOY_COMMANDS.join(', ')}, render`);
  } catch (error) {
    const isUsage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`proton-local: ${(error as Error).message}\n${isUsage ? `${USAGE}\n` : ''}`);
    return isUsage ? 2 : 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then(code => process.exit(code));
}
