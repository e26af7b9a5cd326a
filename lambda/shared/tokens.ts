import { createHash } from 'crypto';

/** The request identity a client token is derived from (a CloudFormation event has all three). */
export interface TokenSource {
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly RequestId: string;
}

/**
 * A deterministic Proton client token: sha256(StackId|LogicalResourceId|RequestId|operation) in hex, 64 printable
 * characters (Proton allows 64, `^[!-~]*$`). A re-delivered event sends the same token, so Proton returns what the
 * first delivery created instead of creating a second resource.
 */
export function clientToken(source: TokenSource, operation: string): string {
  return createHash('sha256')
    .update([source.StackId, source.LogicalResourceId, source.RequestId, operation].join('|'))
    .digest('hex');
}
