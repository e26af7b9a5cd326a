/**
 * cdk-nag's AwsSolutions pack over the example platform app: every finding is either fixed or covered by one of
 * ProtonNagSuppressions' rules (each with its reason), applied the way the README tells users to.
 */
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { buildPlatformApp } from '../examples/platform-app';
import { ProtonNagSuppressions } from '../src';

function nagged(suppress: boolean): Stack[] {
  const app = new App();
  const { platform, services } = buildPlatformApp(app);
  const stacks = [platform, services];
  if (suppress) {
    for (const stack of stacks) {
      const provider = ProtonNagSuppressions.providerOf(stack);
      if (provider) NagSuppressions.addResourceSuppressions(provider, ProtonNagSuppressions.rules(), true);
    }
  }
  Aspects.of(app).add(new AwsSolutionsChecks());
  app.synth();
  return stacks;
}

const findings = (stack: Stack) => [
  ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
  ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
].map(m => `${m.id} ${String(m.entry.data).split(':')[0]}`);

test('with the suppressions, the example app has no AwsSolutions finding', () => {
  for (const stack of nagged(true)) {
    expect(findings(stack)).toEqual([]);
  }
});

test('without them, the findings are exactly the ones the suppressions explain (none is a finding the library could fix)', () => {
  const ids = new Set(nagged(false).flatMap(findings).map(f => f.split(' ')[1].split('[')[0]));
  const explained = new Set(ProtonNagSuppressions.rules().map(r => r.id));
  expect([...ids].sort()).toEqual([...explained].sort());
  for (const rule of ProtonNagSuppressions.rules()) {
    expect(rule.reason.length).toBeGreaterThan(40);
  }
});
