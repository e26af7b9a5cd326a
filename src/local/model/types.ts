/** The compact service model proton-local validates inputs against (see generate.ts). */
export interface ModelMemberRef {
  readonly shape: string;
  readonly idempotencyToken?: boolean;
}

export interface ModelShape {
  /** botocore type: structure, string, integer, long, boolean, timestamp, list, map, blob, double, float. */
  readonly type: string;
  readonly members?: { readonly [name: string]: ModelMemberRef };
  readonly required?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly enum?: readonly string[];
  readonly union?: boolean;
  /** Shape names of list members and map keys and values. */
  readonly member?: string;
  readonly key?: string;
  readonly value?: string;
}

export interface ServiceModel {
  readonly targetPrefix: string;
  readonly apiVersion: string;
  /** Operation name → input shape name. */
  readonly operations: { readonly [operation: string]: string };
  readonly shapes: { readonly [name: string]: ModelShape };
}
