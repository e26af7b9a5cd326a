/**
 * Where a template bundle's archive is in S3 when CDK's stack synthesizer put it in the usual place. CDK-free: the
 * handler bundles it too, to find a version's bundle from its BundleHash when the properties leave SourceS3Key out.
 */
import { createHash } from 'node:crypto';

/**
 * The object key a bundle's asset gets from CDK's synthesizers without a bucket prefix: the asset hash (CDK hashes the
 * custom asset hash, the bundle's content hash, once more) and the archive's last extension.
 */
export function usualBundleObjectKey(bundleHash: string): string {
  return `${createHash('sha256').update(bundleHash).digest('hex')}.gz`;
}
