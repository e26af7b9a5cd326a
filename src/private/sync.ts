/** Synth-time checks shared by the sync config constructs. */
import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Proton's GitBranchName and Subdirectory / OpsFilePath limits (API reference). */
const BRANCH_MAX_LENGTH = 200;
const REPOSITORY_PATH_MAX_LENGTH = 4096;

export function checkBranch(scope: IConstruct, branch: string): void {
  if (!Token.isUnresolved(branch) && (branch.length < 1 || branch.length > BRANCH_MAX_LENGTH)) {
    throw new Error(`${scope.node.path}: branch "${branch}" is ${branch.length} characters long; Proton accepts 1 to ${BRANCH_MAX_LENGTH}`);
  }
}

export function checkRepositoryPath(scope: IConstruct, property: string, value: string): void {
  if (!Token.isUnresolved(value) && (value.length < 1 || value.length > REPOSITORY_PATH_MAX_LENGTH)) {
    throw new Error(`${scope.node.path}: ${property} "${value.length > 60 ? `${value.slice(0, 60)}...` : value}" is ${value.length} characters long; `
      + `Proton accepts 1 to ${REPOSITORY_PATH_MAX_LENGTH}`);
  }
}
