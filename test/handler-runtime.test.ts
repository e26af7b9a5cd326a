/**
 * The handler's Lambda runtime (chosen in .projenrc.ts): the one aws-cdk-lib gives the Provider framework's own functions,
 * so a stack's Proton provider runs on a single Node.js runtime. Needs the handler bundle (`npx projen bundle`).
 */
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { determineLatestNodeRuntime } from 'aws-cdk-lib/aws-lambda';
import { EnvironmentTemplate, EnvironmentTemplateVersion, TemplateBundle } from '../src';

test.each([
  ['an environment-agnostic stack', {}],
  ['a stack in us-east-1', { env: { account: '123456789012', region: 'us-east-1' } }],
])('every function of the provider runs on the framework\'s runtime, in %s', (_, props) => {
  const stack = new Stack(new App(), 'Stack', props);
  new EnvironmentTemplateVersion(stack, 'Version', {
    template: new EnvironmentTemplate(stack, 'Template'),
    bundle: TemplateBundle.fromDirectory(join(__dirname, '..', 'examples', 'templates', 'vpc-env')),
  });
  const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
  const runtimes = new Set(functions.map((fn) => fn.Properties.Runtime));
  // onEvent and isComplete (ours), and the framework's onEvent, isComplete and onTimeout.
  expect(functions.length).toBeGreaterThanOrEqual(4);
  expect([...runtimes]).toEqual([determineLatestNodeRuntime(stack).name]);
});
