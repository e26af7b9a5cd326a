/**
 * The example platform app: a platform team's Proton estate (environment and service templates, environments, services
 * with instances and pipelines) that the README's demo deploys, upgrades and destroys on proton-local.
 *
 * Its code is in src/local/demo/platform-app.ts, so that it is compiled into the package and `npx proton-local demo`
 * runs it from an installed package too. Run it with `npx tsx examples/platform-app.ts` (writes to CDK_OUTDIR, or cdk.out).
 */
import { App } from 'aws-cdk-lib';
import { buildPlatformApp } from '../src/local/demo/platform-app';

export * from '../src/local/demo/platform-app';

if (require.main === module) {
  const app = new App();
  buildPlatformApp(app);
  app.synth();
}
