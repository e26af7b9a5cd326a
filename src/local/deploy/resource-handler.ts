/** What the engine asks of the code that creates, updates and deletes one kind of resource. */
import type { AssertionWaiter } from './assertions';
import type { ProviderRecord } from './state';

export interface ResourceRequest {
  readonly stackName: string;
  readonly stackId: string;
  readonly region: string;
  readonly logicalId: string;
  readonly type: string;
  /** Resolved properties, as the template gave them. */
  readonly properties: { [name: string]: unknown };
  /** Update and Delete only. */
  readonly physicalId?: string;
  /** Update only: the properties the resource had. */
  readonly oldProperties?: { [name: string]: unknown };
  /** Custom resources only. */
  readonly provider?: ProviderRecord;
  /**
   * The CloudFormation RequestId; the engine repeats the one an interrupted run used for the same operation, so the
   * handler's client tokens repeat too. A fresh one when absent.
   */
  readonly requestId?: string;
  /** integ-tests-alpha assertions with waitForAssertions() only: the waiter's retry policy. */
  readonly waiter?: AssertionWaiter;
}

/** What a delete reports besides success: a resource Proton keeps, explained. */
export interface DeleteResult {
  readonly notice?: string;
}

export interface ResourceResult {
  readonly physicalId: string;
  /** Fn::GetAtt values. */
  readonly attributes: { [name: string]: unknown };
}

/** An operation that failed after the resource got a physical id (CloudFormation deletes it on rollback). */
export class ResourceOperationError extends Error {
  constructor(message: string, public readonly physicalId?: string) {
    super(message);
    this.name = 'ResourceOperationError';
  }
}

export interface ResourceHandler {
  create(request: ResourceRequest): Promise<ResourceResult>;
  update(request: ResourceRequest): Promise<ResourceResult>;
  delete(request: ResourceRequest): Promise<DeleteResult>;
  /** Names of changed properties that cannot be updated in place (CloudFormation's createOnly properties). */
  replacementProperties(type: string, oldProperties: { [name: string]: unknown }, newProperties: { [name: string]: unknown }): string[];
}
