/**
 * Resources the engine does not run (Lambda, IAM, Step Functions, S3, Logs, CDK metadata...): they are listed as
 * skipped, and get a made-up, stable identity so that Ref and Fn::GetAtt on them (an IAM role's Arn passed to an
 * environment, a Lambda's Arn as a ServiceToken) resolve to values of the right shape.
 */
import { createHash } from 'crypto';

export interface SkippedIdentity {
  readonly physicalId: string;
  readonly arn: string;
}

/** Types whose Ref is their ARN (the rest return a name). */
const REF_IS_ARN = new Set([
  'AWS::StepFunctions::StateMachine', 'AWS::SNS::Topic', 'AWS::IAM::ManagedPolicy', 'AWS::CodeStarConnections::Connection',
  'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::ElasticLoadBalancingV2::TargetGroup', 'AWS::CodeStarNotifications::NotificationRule',
]);

export function skippedIdentity(type: string, logicalId: string, stackName: string, account: string, region: string): SkippedIdentity {
  const hash = createHash('sha256').update(`${stackName}/${logicalId}`).digest('hex');
  const name = `${stackName}-${logicalId}`.slice(0, 50) + '-' + hash.slice(0, 12).toUpperCase();
  const [, service = 'unknown', resource = 'resource'] = type.split('::');
  const lower = service.toLowerCase();
  let arn: string;
  switch (type) {
    case 'AWS::IAM::Role': arn = `arn:aws:iam::${account}:role/${name}`; break;
    case 'AWS::IAM::ManagedPolicy': arn = `arn:aws:iam::${account}:policy/${name}`; break;
    case 'AWS::Lambda::Function': arn = `arn:aws:lambda:${region}:${account}:function:${name}`; break;
    case 'AWS::StepFunctions::StateMachine': arn = `arn:aws:states:${region}:${account}:stateMachine:${name}`; break;
    case 'AWS::S3::Bucket': arn = `arn:aws:s3:::${name.toLowerCase()}`; break;
    case 'AWS::KMS::Key': {
      const id = `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${hash.slice(20, 32)}`;
      return { physicalId: id, arn: `arn:aws:kms:${region}:${account}:key/${id}` };
    }
    default: arn = `arn:aws:${lower}:${region}:${account}:${resource.toLowerCase()}/${name}`;
  }
  const physicalId = REF_IS_ARN.has(type) ? arn : type === 'AWS::S3::Bucket' ? name.toLowerCase() : name;
  return { physicalId, arn };
}
