/** Account-wide settings (a singleton per account and region) and the resources summary. */
import type { ComponentRecord } from './components';
import type { ServiceRecord } from './services';
import { protonArn } from './shared';
import type { EmulatorState } from './state';
import { recommendedMinorVersionOf, recommendedVersionOf, templateOf } from './templates';
import { OperationContext, OperationTable, validation } from './types';

interface RepositoryBranchInput {
  readonly provider: string;
  readonly name: string;
  readonly branch: string;
}

function accountSettingsOutput(ctx: OperationContext) {
  const settings = ctx.state.accountSettings;
  const repository = settings.pipelineProvisioningRepository;
  return {
    accountSettings: {
      pipelineServiceRoleArn: settings.pipelineServiceRoleArn,
      pipelineCodebuildRoleArn: settings.pipelineCodebuildRoleArn,
      pipelineProvisioningRepository: repository && {
        ...repository,
        arn: ctx.state.repositories[`${repository.provider}:${repository.name}`]?.arn
          ?? protonArn(ctx, `repository/${repository.provider.toLowerCase()}:${repository.name}`),
      },
    },
  };
}

interface VersionedResource {
  readonly templateName: string;
  readonly templateMajorVersion: string;
  readonly templateMinorVersion: string;
  readonly deploymentStatus: string;
}

const isFailed = (resource: { deploymentStatus: string }) => resource.deploymentStatus === 'FAILED' || resource.deploymentStatus === 'DELETE_FAILED';

/** Counts service instances or pipelines by how their service template version compares with the recommended one. */
function versionCounts(state: EmulatorState, resources: readonly VersionedResource[]) {
  const counts = { total: resources.length, failed: resources.filter(isFailed).length, upToDate: 0, behindMajor: 0, behindMinor: 0 };
  for (const resource of resources) {
    const template = templateOf(state, 'SERVICE', resource.templateName);
    const recommended = template && recommendedVersionOf(template);
    if (!template || !recommended) {
      continue;
    }
    const recommendedMinor = recommendedMinorVersionOf(template, resource.templateMajorVersion);
    if (Number(resource.templateMajorVersion) < Number(recommended.majorVersion)) {
      counts.behindMajor++;
    } else if (recommendedMinor !== undefined && Number(resource.templateMinorVersion) < Number(recommendedMinor)) {
      counts.behindMinor++;
    } else {
      counts.upToDate++;
    }
  }
  return counts;
}

export const accountOperations: OperationTable = {
  GetAccountSettings(ctx) {
    return accountSettingsOutput(ctx);
  },

  UpdateAccountSettings(ctx, input: {
    pipelineServiceRoleArn?: string;
    pipelineCodebuildRoleArn?: string;
    pipelineProvisioningRepository?: RepositoryBranchInput;
    deletePipelineProvisioningRepository?: boolean;
  }) {
    if (input.deletePipelineProvisioningRepository && input.pipelineProvisioningRepository) {
      throw validation('Invalid UpdateAccountSettings request: deletePipelineProvisioningRepository=true and a new ' +
        'pipelineProvisioningRepository were both given; pass one or the other');
    }
    const settings = ctx.state.accountSettings;
    // An empty string removes a role, as in Proton.
    if (input.pipelineServiceRoleArn !== undefined) {
      settings.pipelineServiceRoleArn = input.pipelineServiceRoleArn || undefined;
    }
    if (input.pipelineCodebuildRoleArn !== undefined) {
      settings.pipelineCodebuildRoleArn = input.pipelineCodebuildRoleArn || undefined;
    }
    if (input.pipelineProvisioningRepository) {
      const { provider, name, branch } = input.pipelineProvisioningRepository;
      // Pipelines provision through a repository linked with CreateRepository (the op can't throw ResourceNotFound).
      if (!ctx.state.repositories[`${provider}:${name}`]) {
        throw validation(`Invalid pipelineProvisioningRepository: the ${provider} repository '${name}' is not linked; ` +
          'link it with CreateRepository first');
      }
      settings.pipelineProvisioningRepository = { provider, name, branch };
    }
    if (input.deletePipelineProvisioningRepository) {
      delete settings.pipelineProvisioningRepository;
    }
    return accountSettingsOutput(ctx);
  },

  GetResourcesSummary(ctx) {
    const state = ctx.state;
    const services = Object.values(state.services) as ServiceRecord[];
    const components = Object.values(state.components) as ComponentRecord[];
    return {
      counts: {
        environmentTemplates: { total: Object.keys(state.environmentTemplates).length },
        serviceTemplates: { total: Object.keys(state.serviceTemplates).length },
        // "The environments object will only contain total members." (CountsSummary.environments)
        environments: { total: Object.keys(state.environments).length },
        services: { total: services.length },
        serviceInstances: versionCounts(state, services.flatMap(service => service.instances)),
        pipelines: versionCounts(state, services.flatMap(service => (service.pipeline ? [service.pipeline] : []))),
        components: { total: components.length, failed: components.filter(isFailed).length },
      },
    };
  },
};
