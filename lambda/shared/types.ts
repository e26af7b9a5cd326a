/** The Provider framework's contract, as the handler sees it (aws-cdk-lib custom-resources, with isComplete). */
import type {
  CdkCustomResourceEvent,
  CdkCustomResourceIsCompleteEvent,
  CdkCustomResourceIsCompleteResponse,
  CdkCustomResourceResponse,
} from 'aws-lambda';

/** Every property arrives as a string (CloudFormation stringifies scalars); see lambda/shared/properties.ts. */
export type ResourceProperties = { [name: string]: unknown };

export type OnEventRequest = CdkCustomResourceEvent<ResourceProperties>;
export type OnEventResponse = CdkCustomResourceResponse;
/** The onEvent request merged with what onEvent returned (PhysicalResourceId, Data and any extra fields). */
export type IsCompleteRequest = CdkCustomResourceIsCompleteEvent<ResourceProperties>;
export type IsCompleteResponse = CdkCustomResourceIsCompleteResponse;

/** What every resource type implements; lambda/resources/index.ts maps resource types to these. */
export interface ResourceHandler {
  /** At most one mutating Proton call; returns the physical id at once. */
  onEvent(event: OnEventRequest): Promise<OnEventResponse>;
  /** All waiting happens here: `{ IsComplete: false }` asks the framework to call again after the query interval. */
  isComplete(event: IsCompleteRequest): Promise<IsCompleteResponse>;
}
