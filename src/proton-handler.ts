import { Stack, aws_ec2 as ec2, aws_iam as iam, aws_logs as logs } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * How the Lambda functions of a stack's Proton handler run (the custom-resource provider every cdk-proton construct of
 * the stack shares).
 */
export interface ProtonHandlerProps {
  /**
   * Memory of each handler function, in MiB.
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * The VPC the handler functions run in; they then need a route to the Proton and S3 endpoints (a NAT gateway or
   * interface endpoints for `proton` and a gateway endpoint for `s3`).
   *
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The subnets of `vpc` the functions run in.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The security groups of the functions.
   *
   * @default - one created for the functions, allowing all outbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * How long the handler functions' logs are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Settings of each stack's Proton handler.
 */
export class ProtonHandler {
  /**
   * Sets how the stack's Proton handler functions run. Call it before defining the stack's first cdk-proton construct
   * (the handler is created with it).
   */
  public static configure(stack: Stack, props: ProtonHandlerProps): void {
    if (stack.node.tryFindChild('CdkProtonProvider')) {
      throw new Error(`${stack.node.path}: ProtonHandler.configure must be called before the stack's first cdk-proton construct, `
        + 'which creates the handler with the settings in force then');
    }
    if (props.memorySize !== undefined && !(Number.isInteger(props.memorySize) && props.memorySize >= 128 && props.memorySize <= 10240)) {
      throw new Error(`${stack.node.path}: ProtonHandler memorySize ${props.memorySize} must be a whole number of MiB from 128 to 10240`);
    }
    if ((props.vpcSubnets || props.securityGroups) && !props.vpc) {
      throw new Error(`${stack.node.path}: ProtonHandler vpcSubnets and securityGroups need vpc`);
    }
    SETTINGS.set(stack, props);
  }

  /** @internal */
  public static _settingsOf(scope: IConstruct): ProtonHandlerProps {
    return SETTINGS.get(Stack.of(scope)) ?? {};
  }

  /** @internal */
  public static _vpcPolicy(): iam.IManagedPolicy {
    return iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole');
  }

  private constructor() {}
}

const SETTINGS = new WeakMap<Stack, ProtonHandlerProps>();
