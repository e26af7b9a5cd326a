import {
  CREATE_FAILED_PHYSICAL_ID_MARKER, CustomResourceEvent, ProviderFailure, ProviderRunOptions, runProvider,
} from '../../src/local/deploy/provider-runner';

const CREATE: CustomResourceEvent = {
  RequestType: 'Create',
  ResponseURL: 'https://response.invalid/presigned',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/s/1',
  RequestId: 'request-1',
  LogicalResourceId: 'Thing',
  ResourceType: 'Custom::Thing',
  ResourceProperties: { Size: '1' },
};
const UPDATE: CustomResourceEvent = { ...CREATE, RequestType: 'Update', PhysicalResourceId: 'thing-1', OldResourceProperties: { Size: '0' } };
const DELETE: CustomResourceEvent = { ...CREATE, RequestType: 'Delete', PhysicalResourceId: 'thing-1' };

/** Options whose waits are recorded instead of slept. */
function options(overrides: Partial<ProviderRunOptions>): ProviderRunOptions & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    onEvent: async () => ({}),
    queryIntervalMs: 5,
    totalTimeoutMs: 20,
    sleep: async (ms) => { sleeps.push(ms); },
    sleeps,
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<ProviderFailure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderFailure);
    return error as ProviderFailure;
  }
  throw new Error('expected a failure');
}

test('without isComplete, answers as soon as onEvent returns; Create defaults the id to the RequestId', async () => {
  const received: any[] = [];
  const result = await runProvider(CREATE, options({ onEvent: async (event) => { received.push(event); return { Data: { A: '1' } }; } }));
  expect(result).toEqual({ PhysicalResourceId: 'request-1', Data: { A: '1' } });
  expect(received).toEqual([CREATE]);
});

test('Update and Delete keep the current id when onEvent returns none', async () => {
  expect((await runProvider(UPDATE, options({}))).PhysicalResourceId).toBe('thing-1');
  expect((await runProvider(DELETE, options({}))).PhysicalResourceId).toBe('thing-1');
});

test('an Update returning a new id replaces the resource', async () => {
  expect((await runProvider(UPDATE, options({ onEvent: async () => ({ PhysicalResourceId: 'thing-2' }) }))).PhysicalResourceId).toBe('thing-2');
});

test('a Delete may not change the id', async () => {
  const error = await failure(runProvider(DELETE, options({ onEvent: async () => ({ PhysicalResourceId: 'other' }) })));
  expect(error.message).toBe('DELETE: cannot change the physical resource ID from "thing-1" to "other" during deletion');
  expect(error.physicalResourceId).toBe('thing-1');
});

test('a failed Create answers the marker id, and the Delete that follows is ignored', async () => {
  const error = await failure(runProvider(CREATE, options({ onEvent: async () => { throw new Error('no capacity'); } })));
  expect(error.message).toBe('no capacity');
  expect(error.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID_MARKER);

  const onEvent = jest.fn();
  const result = await runProvider({ ...DELETE, PhysicalResourceId: CREATE_FAILED_PHYSICAL_ID_MARKER }, options({ onEvent }));
  expect(result.PhysicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID_MARKER);
  expect(onEvent).not.toHaveBeenCalled();
});

test('a failed Update keeps the current id', async () => {
  const error = await failure(runProvider(UPDATE, options({ onEvent: async () => { throw new Error('bad'); } })));
  expect(error.physicalResourceId).toBe('thing-1');
});

test('isComplete runs at once, then every interval, with the onEvent result merged into the event', async () => {
  const calls: any[] = [];
  const opts = options({
    onEvent: async () => ({ PhysicalResourceId: 'thing-9', Data: { FromOnEvent: 'x' }, Extra: 'kept' }),
    isComplete: async (event) => {
      calls.push(event);
      return calls.length < 3 ? { IsComplete: false } : { IsComplete: true, Data: { FromIsComplete: 'y' } };
    },
  });
  const result = await runProvider(CREATE, opts);
  expect(result).toEqual({ PhysicalResourceId: 'thing-9', Data: { FromOnEvent: 'x', FromIsComplete: 'y' } });
  expect(calls).toHaveLength(3);
  expect(calls[0]).toEqual({ ...CREATE, PhysicalResourceId: 'thing-9', Data: { FromOnEvent: 'x' }, Extra: 'kept' });
  expect(calls[2]).toEqual(calls[0]);
  expect(opts.sleeps).toEqual([5, 5]);
});

test('Data is refused while IsComplete is false', async () => {
  const error = await failure(runProvider(CREATE, options({
    onEvent: async () => ({ PhysicalResourceId: 'thing-9' }),
    isComplete: async () => ({ IsComplete: false, Data: { Early: '1' } }),
  })));
  expect(error.message).toBe('"Data" is not allowed if "IsComplete" is "False"');
  expect(error.physicalResourceId).toBe('thing-9');
});

test('an isComplete error fails the resource with the id onEvent returned', async () => {
  const error = await failure(runProvider(CREATE, options({
    onEvent: async () => ({ PhysicalResourceId: 'thing-9' }),
    isComplete: async () => { throw new Error('registration failed'); },
  })));
  expect(error.message).toBe('registration failed');
  expect(error.physicalResourceId).toBe('thing-9');
});

test('after totalTimeout / queryInterval retries the resource fails with "Operation timed out"', async () => {
  const isComplete = jest.fn(async () => ({ IsComplete: false }));
  const opts = options({ onEvent: async () => ({ PhysicalResourceId: 'thing-9' }), isComplete });
  const error = await failure(runProvider(CREATE, opts));
  expect(error.message).toBe('Operation timed out');
  expect(error.physicalResourceId).toBe('thing-9');
  expect(isComplete).toHaveBeenCalledTimes(5);
  expect(opts.sleeps).toEqual([5, 5, 5, 5]);
});

test('totalTimeout must be a multiple of queryInterval', async () => {
  await expect(runProvider(CREATE, options({ queryIntervalMs: 3, totalTimeoutMs: 10 })))
    .rejects.toThrow('Cannot determine retry count since totalTimeout=10ms is not integrally dividable by queryInterval=3ms');
});

test('handlers get a copy of the event, as across a Lambda invocation', async () => {
  const event = { ...CREATE, ResourceProperties: { Size: '1' } };
  await runProvider(event, options({ onEvent: async (received) => { received.ResourceProperties.Size = 'changed'; return {}; } }));
  expect(event.ResourceProperties.Size).toBe('1');
});
