import { Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A cdk-nag suppression's `appliesTo` entry, as a regular expression (cdk-nag's `{ regex }` form).
 */
export interface NagSuppressionFinding {
  /** The finding the suppression covers, e.g. `/^Resource::arn:.*:proton:.*:environment-template\/.*:\*$/g`. */
  readonly regex: string;
}

/**
 * A cdk-nag suppression rule, in cdk-nag's `NagPackSuppression` shape.
 */
export interface NagSuppressionRule {
  /** The rule, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is accepted. */
  readonly reason: string;
  /**
   * The findings of the rule it covers.
   *
   * @default - every finding of the rule
   */
  readonly appliesTo?: NagSuppressionFinding[];
}

/**
 * The cdk-nag AwsSolutions findings on the custom-resource provider cdk-proton adds to each stack, each with the reason
 * it is accepted. cdk-proton does not depend on cdk-nag; pass the rules to cdk-nag's
 * `NagSuppressions.addResourceSuppressions(ProtonNagSuppressions.providerOf(stack), ProtonNagSuppressions.rules(), true)`.
 */
export class ProtonNagSuppressions {
  /** The stack's Proton provider (the construct that holds the handler functions, their role and the waiter), if any. */
  public static providerOf(stack: Stack): IConstruct | undefined {
    return stack.node.tryFindChild('CdkProtonProvider');
  }

  /** The suppressions, with their reasons. */
  public static rules(): NagSuppressionRule[] {
    return [
      {
        id: 'AwsSolutions-IAM4',
        reason: 'AWSLambdaBasicExecutionRole only lets the handler and the Provider framework functions write their own CloudWatch logs.',
        appliesTo: [{ regex: '/^Policy::arn:<AWS::Partition>:iam::aws:policy\\/service-role\\/AWSLambdaBasicExecutionRole$/g' }],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason: 'Sub-resources of the Proton resources this stack manages: the versions of its templates (<template>:<major>.<minor>, '
          + 'numbered by Proton at deploy time) and the instances and pipeline of its services (<service>/...); past 20 resources '
          + 'of a kind, the kind\'s ARN pattern in the stack\'s account and region keeps the policy within IAM\'s size limits. '
          + 'And the Provider framework (aws-cdk-lib custom_resources) invokes the handler functions and their versions (<function ARN>:*). '
          + 'And Proton\'s account settings (GetAccountSettings, UpdateAccountSettings) have no resource ARN: IAM only accepts *. '
          + 'And the deployments of the stack\'s components (deployment/<id>, numbered by Proton at deploy time), read for what each '
          + 'component runs.',
        appliesTo: [
          { regex: '/^Resource::\\*$/g' },
          { regex: '/^Resource::arn:<AWS::Partition>:proton:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\\d{12}):(environment-template|service-template|environment|service|component|repository|deployment)\\/.*$/g' },
          { regex: '/^Resource::<CdkProtonProvider.*\\.Arn>:\\*$/g' },
        ],
      },
      {
        id: 'AwsSolutions-L1',
        reason: 'The runtime is the one the Provider framework of the pinned aws-cdk-lib uses for its own functions; the handler bundle targets it.',
      },
      {
        id: 'AwsSolutions-SF1',
        reason: 'The Provider framework\'s waiter state machine only retries isComplete; the handler logs every step to CloudWatch Logs.',
      },
      {
        id: 'AwsSolutions-SF2',
        reason: 'The Provider framework\'s waiter state machine only retries isComplete; tracing it adds nothing the handler logs do not show.',
      },
    ];
  }
}
