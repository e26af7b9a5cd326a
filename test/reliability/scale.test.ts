/**
 * The scale benchmark's scenario (bench/scale.ts: 50 environments + 100 services at 20 req/s) in small: 5 environments
 * and 10 services (each with an instance and a pipeline) deployed and destroyed through the local engine and the real
 * bundled handler while proton-local answers at most 5 requests per second, fails 5% of requests with
 * InternalServerException and drops the response of another 5% after applying them. Throttling and faults slow the
 * work down and never fail it: no resource fails, and the destroy leaves nothing in Proton. (fault-matrix.test.ts has a
 * rate-limit scenario too, on one environment and one service, where no two resources run at once.)
 *
 * The scenario runs in a child process, as the benchmark does: there the handler runs in Node's own realm, as on Lambda
 * (see runScaleInChild). Needs the handler bundle (`npx projen bundle`).
 */
import { runScaleInChild, ScaleResult } from '../../bench/scale';

const RUN = {
  environments: 5, services: 10, throttleRps: 5, errorRate: 0.05, dropRate: 0.05, seed: 9, registrationDelayMs: 200, deploymentDelayMs: 200,
};

test('5 environments and 10 services at 5 req/s with 5xx and dropped responses: no failure, nothing left', async () => {
  const result: ScaleResult = await runScaleInChild(RUN);
  // eslint-disable-next-line no-console
  console.log(`deploy ${JSON.stringify(result.deploy)}\ndestroy ${JSON.stringify(result.destroy)}`);

  expect(result.deploy.failures).toEqual([]);
  expect(result.deployed).toBe(result.expected);
  expect(result.destroy.failures).toEqual([]);
  expect(result.left).toEqual([]);
  expect(result.stacksLeft).toEqual([]);
  // The faults were there: both phases were throttled, and hit by 5xx or dropped responses.
  for (const phase of [result.deploy, result.destroy]) {
    expect(phase.throttled).toBeGreaterThan(0);
    expect(phase.faulted).toBeGreaterThan(0);
  }
}, 240_000);
