import { IConstruct } from 'constructs';

/**
 * How the app's environments, service instances and pipelines are deployed.
 */
export enum DeploymentMode {
  /** Through AWS Proton: the constructs manage Proton resources, and Proton provisions the infrastructure. */
  PROTON = 'proton',
  /**
   * Without Proton: each environment, service instance and pipeline is an ordinary CloudFormation stack holding the
   * IaC Proton would have rendered for it; templates, versions and account settings create nothing.
   */
  CLOUDFORMATION = 'cloudformation',
}

/**
 * The switch between Proton and Proton-free deployment of an app (or of a part of it).
 *
 * The mode is the context value `cdk-proton:mode` (`proton` or `cloudformation`): set it for a whole app on the command
 * line (`cdk deploy -c cdk-proton:mode=cloudformation`), in `cdk.json`, or in code with `ProtonMode.set(app, ...)`
 * before the app's stacks are added.
 *
 * @example
 * import { App } from 'aws-cdk-lib';
 * import { DeploymentMode, ProtonMode } from 'cdk-proton';
 *
 * const app = new App();
 * ProtonMode.set(app, DeploymentMode.CLOUDFORMATION);
 */
export class ProtonMode {
  /** The context key holding the mode. */
  public static readonly CONTEXT_KEY = 'cdk-proton:mode';

  /**
   * Sets the mode of `scope` and everything below it.
   *
   * @throws when `scope` already has children: context is read as constructs are added, so set it first
   */
  public static set(scope: IConstruct, mode: DeploymentMode): void {
    if (scope.node.children.length > 0) {
      throw new Error(`${scope.node.path || '<app>'}: ProtonMode.set must be called before constructs are added to the scope `
        + `(it has ${scope.node.children.map(c => c.node.id).join(', ')}); or pass the context ${ProtonMode.CONTEXT_KEY}=${mode} to the App`);
    }
    scope.node.setContext(ProtonMode.CONTEXT_KEY, mode);
  }

  /**
   * The mode of `scope`: the context value `cdk-proton:mode`, Proton when it is not set.
   *
   * @throws when the context value is neither `proton` nor `cloudformation`
   */
  public static of(scope: IConstruct): DeploymentMode {
    const value: unknown = scope.node.tryGetContext(ProtonMode.CONTEXT_KEY);
    if (value === undefined) return DeploymentMode.PROTON;
    const modes = Object.values(DeploymentMode) as string[];
    if (typeof value !== 'string' || !modes.includes(value)) {
      throw new Error(`${scope.node.path}: context ${ProtonMode.CONTEXT_KEY} "${String(value)}" is not a deployment mode (allowed: ${modes.join(', ')})`);
    }
    return value as DeploymentMode;
  }

  /** Whether `scope` is deployed without Proton (`cloudformation` mode). */
  public static isProtonFree(scope: IConstruct): boolean {
    return ProtonMode.of(scope) === DeploymentMode.CLOUDFORMATION;
  }

  private constructor() {}
}
