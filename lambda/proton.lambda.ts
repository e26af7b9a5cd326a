/**
 * The single entry point of the custom-resource handler. Two Lambda functions run this code: PROTON_HANDLER_PHASE
 * says whether it serves the Provider framework's onEvent or isComplete; the event's ResourceType picks the handler.
 */
import { RESOURCE_HANDLERS } from './resources';
import { errorMessage } from './shared/errors';
import { log } from './shared/log';
import type { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse, ResourceHandler } from './shared/types';
import { HANDLER_PHASE_VARIABLE } from '../src/private/properties';

export const PHASE_VARIABLE = HANDLER_PHASE_VARIABLE;

export async function handler(event: OnEventRequest | IsCompleteRequest): Promise<OnEventResponse | IsCompleteResponse> {
  const phase = process.env[PHASE_VARIABLE];
  log(`${phase} started`, event);
  try {
    const resource = resourceHandler(event.ResourceType);
    let result: OnEventResponse | IsCompleteResponse;
    if (phase === 'onEvent') {
      result = await resource.onEvent(event);
    } else if (phase === 'isComplete') {
      result = await resource.isComplete(event as IsCompleteRequest);
    } else {
      throw new Error(`${PHASE_VARIABLE} must be 'onEvent' or 'isComplete', got ${JSON.stringify(phase)}`);
    }
    log(`${phase} returned`, event, {
      returnedPhysicalResourceId: (result as OnEventResponse).PhysicalResourceId,
      isComplete: (result as IsCompleteResponse).IsComplete,
    });
    return result;
  } catch (error) {
    log(`${phase} failed`, event, { error: errorMessage(error) });
    throw error;
  }
}

function resourceHandler(resourceType: string): ResourceHandler {
  const found = RESOURCE_HANDLERS.get(resourceType);
  if (!found) {
    throw new Error(`Unknown custom resource type ${JSON.stringify(resourceType)}; this handler serves ${[...RESOURCE_HANDLERS.keys()].join(', ')}`);
  }
  return found;
}
