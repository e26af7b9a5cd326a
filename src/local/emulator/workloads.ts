/**
 * proton-local's workload operations (environments, services, instances, pipelines, components, environment
 * account connections, repositories and their sync statuses, deployment records) as one OperationTable, their settler, and the
 * template-version usage check that keeps in-use versions from being deleted.
 */
import { componentOperations } from './components';
import { connectionOperations } from './connections';
import { deploymentOperations, deploymentSettler } from './deployments';
import { environmentOnVersion, environmentOperations } from './environments';
import { repositoryOperations } from './repositories';
import { serviceOperations, serviceSettler, serviceWorkloadOnVersion } from './services';
import { registerTemplateVersionUsageCheck } from './state';
import { syncOperations } from './sync';
import type { OperationTable, Settler } from './types';

export const workloadOperations: OperationTable = {
  ...environmentOperations,
  ...serviceOperations,
  ...componentOperations,
  ...connectionOperations,
  ...deploymentOperations,
  ...repositoryOperations,
  ...syncOperations,
};

/** Completes due deployments first, then moves services whose instances and pipeline are done. */
export const workloadSettlers: Settler[] = [deploymentSettler, serviceSettler];

registerTemplateVersionUsageCheck((state, kind, templateName, major, minor) => kind === 'ENVIRONMENT'
  ? environmentOnVersion(state, templateName, major, minor)
  : serviceWorkloadOnVersion(state, templateName, major, minor));
