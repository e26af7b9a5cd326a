/**
 * Structured logging for the handler. Only what identifies a request is logged: never the ResponseURL (a pre-signed
 * URL that lets anyone answer CloudFormation) and never resource properties (specs may hold secrets).
 */

export interface LoggableEvent {
  readonly RequestType?: string;
  readonly ResourceType?: string;
  readonly LogicalResourceId?: string;
  readonly PhysicalResourceId?: string;
  readonly RequestId?: string;
  readonly StackId?: string;
}

/** The identifying fields of an event, and nothing else. */
export function describeEvent(event: LoggableEvent): { [field: string]: string | undefined } {
  return {
    requestType: event.RequestType,
    resourceType: event.ResourceType,
    logicalResourceId: event.LogicalResourceId,
    physicalResourceId: event.PhysicalResourceId,
    requestId: event.RequestId,
    stackId: event.StackId,
  };
}

/** One JSON line; `fields` must hold identifiers and statuses only. */
export function log(message: string, event: LoggableEvent, fields: { [field: string]: unknown } = {}): void {
  console.log(JSON.stringify({ message, ...describeEvent(event), ...fields }));
}
