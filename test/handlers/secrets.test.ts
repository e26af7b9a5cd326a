/**
 * No spec value, ResponseURL or credential is ever logged: the handler's log lines and its errors (which become
 * CloudFormation's status reasons) for events carrying a secret in their spec. Runs the handler entry with a Proton
 * client that fails with an error echoing the spec, as a Proton validation error may.
 */
import { ProtonClient } from '@aws-sdk/client-proton';
import { handler } from '../../lambda/proton.lambda';

const SECRET = 'hunter2-super-secret-db-password';

function environmentEvent(spec: unknown) {
  return {
    RequestType: 'Create',
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:x',
    ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/presigned?X-Amz-Signature=abc',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Team/0f5b9a60-0000-4000-8000-000000000000',
    RequestId: 'req-1',
    LogicalResourceId: 'Env',
    ResourceType: 'Custom::ProtonEnvironment',
    ResourceProperties: {
      ServiceToken: 'x',
      EnvironmentName: 'prod',
      TemplateName: 'fargate-env',
      TemplateMajorVersion: '1',
      TemplateMinorVersion: '0',
      Spec: typeof spec === 'string' ? spec : JSON.stringify(spec),
      ProtonServiceRoleArn: 'arn:aws:iam::123456789012:role/p',
    },
  } as any;
}

let logged: string[];
beforeEach(() => {
  logged = [];
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => { logged.push(args.map(String).join(' ')); });
  process.env.PROTON_HANDLER_PHASE = 'onEvent';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'AKIAEXAMPLEKEY';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret-access-key-value';
});
afterEach(() => {
  jest.restoreAllMocks();
  delete process.env.PROTON_HANDLER_PHASE;
});

test('a Proton error echoing a spec value is masked in the log and in the error CloudFormation shows', async () => {
  jest.spyOn(ProtonClient.prototype, 'send').mockImplementation(async (command: any) => {
    if (command.constructor.name === 'GetEnvironmentCommand') throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
    throw Object.assign(new Error(`Invalid spec: value '${SECRET}' of db_password does not match`), { name: 'ValidationException' });
  });

  const failure = await handler(environmentEvent({ db_password: SECRET })).then(() => undefined, (error: Error) => error);

  expect(failure?.message).toMatch(/Invalid spec: value '\*\*\*' of db_password does not match/);
  const text = logged.join('\n');
  expect(text).toContain('onEvent failed');
  for (const forbidden of [SECRET, 'X-Amz-Signature', 'secret-access-key-value', 'AKIAEXAMPLEKEY']) {
    expect(text).not.toContain(forbidden);
  }
});

test('a malformed spec property is described without its content', async () => {
  jest.spyOn(ProtonClient.prototype, 'send').mockImplementation(async () => ({}));
  const failure = await handler(environmentEvent(`{"db_password": "${SECRET}"`)).then(() => undefined, (error: Error) => error);
  expect(failure?.message).toMatch(/property Spec: a JSON document is required, got a string of \d+ characters \(not shown: specs may hold secrets\)/);
  expect(failure?.message).not.toContain(SECRET);
  expect(logged.join('\n')).not.toContain(SECRET);
});
