/**
 * Drives the environment and service handlers as CloudFormation and the Provider framework would (provider-runner),
 * against proton-local on a ManualClock: every isComplete poll lets a quarter of a deployment's time pass.
 */
import { handler } from '../../lambda/proton.lambda';
import { POLL_BUDGET_VARIABLE } from '../../lambda/shared/lifecycle';
import { CustomResourceEvent, ProviderFailure, ProviderResponse, runProvider } from '../../src/local/deploy/provider-runner';
import { TEST_CREDENTIALS, TEST_REGION } from '../local/helpers';
import { DEPLOYMENT_DELAY_MS, useWorkloads, WorkloadFixture } from '../local/workload-helpers';

export const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/workloads/2f7e5c10-0000-4000-8000-000000000002';
const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent';

export type Properties = { [name: string]: string };

export interface HandlerFixture extends WorkloadFixture {
  /** A custom-resource event with a fresh RequestId. */
  event(resourceType: string, requestType: 'Create' | 'Update' | 'Delete', properties: Properties, extra?: Partial<CustomResourceEvent>): CustomResourceEvent;
  /** Runs the event through onEvent and isComplete until done; a poll lets DEPLOYMENT_DELAY_MS / 4 pass. */
  deploy(event: CustomResourceEvent): Promise<ProviderResponse>;
  /** Runs onEvent only, as the framework's first step. */
  onEvent(event: CustomResourceEvent): Promise<any>;
}

/** proton-local on a ManualClock, and the handler pointed at it. */
export function useHandlerWorkloads(): HandlerFixture {
  const workloads = useWorkloads();
  let requests = 0;
  beforeAll(() => {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_PROTON: workloads.env.local.endpoint,
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      // One step per isComplete invocation: the ManualClock only moves between polls (runProvider's sleep), so polling
      // inside an invocation with real timers would only wait out the budget.
      [POLL_BUDGET_VARIABLE]: '0',
    });
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  const phase = (name: string) => async (payload: any) => {
    process.env.PROTON_HANDLER_PHASE = name;
    return handler(payload);
  };
  return {
    ...workloads,
    event(resourceType, requestType, properties, extra = {}) {
      return {
        RequestType: requestType,
        ServiceToken: SERVICE_TOKEN,
        ResponseURL: 'https://cloudformation-custom-resource-response.invalid/secret-presigned',
        StackId: STACK_ID,
        RequestId: `request-${++requests}`,
        LogicalResourceId: 'Workload',
        ResourceType: resourceType,
        ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...properties },
        ...extra,
      };
    },
    deploy(event) {
      return runProvider(event, {
        onEvent: phase('onEvent'),
        isComplete: phase('isComplete'),
        queryIntervalMs: 10,
        totalTimeoutMs: 2_000,
        sleep: async () => workloads.advance(DEPLOYMENT_DELAY_MS / 4),
      });
    },
    onEvent(event) {
      return phase('onEvent')(JSON.parse(JSON.stringify(event)));
    },
  };
}

/** The ProviderFailure a deployment ends with. */
export async function failure(promise: Promise<unknown>): Promise<ProviderFailure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderFailure);
    return error as ProviderFailure;
  }
  throw new Error('expected the deployment to fail');
}
