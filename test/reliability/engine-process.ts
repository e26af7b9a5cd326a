/**
 * `deploy` or `destroy` of a cloud assembly in a process of its own, so that a test can kill it (SIGKILL) at any point
 * of a run, as a user's Ctrl-C, an out-of-memory kill or a lost CI runner would.
 * Usage: engine-process.ts deploy|destroy <assembly dir> <state dir> <proton-local endpoint>
 */
import { readCloudAssembly } from '../../src/local/deploy/assembly';
import { DeployEngine } from '../../src/local/deploy/engine';
import { ProtonApiClient } from '../../src/local/deploy/proton-client';
import { DeployState } from '../../src/local/deploy/state';

async function main(): Promise<void> {
  const [command, assemblyDirectory, stateDirectory, endpoint] = process.argv.slice(2);
  const engine = new DeployEngine({
    state: new DeployState(stateDirectory), client: new ProtonApiClient(endpoint), endpoint, pollIntervalMs: 10,
  });
  if (command === 'deploy') await engine.deploy(readCloudAssembly(assemblyDirectory));
  else await engine.destroy();
}

main().then(() => process.exit(0), (error) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
