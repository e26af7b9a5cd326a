import { Resource, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ResourceTypes, ServiceSyncConfigProperties } from './private/properties';
import { ProtonProvider } from './private/provider';
import { checkBranch, checkRepositoryPath } from './private/sync';
import { claimName, definedProperties } from './private/workload';
import { IRepository } from './repository';
import { IService } from './service';

/**
 * Properties of a service sync config.
 */
export interface ServiceSyncConfigProps {
  /**
   * The service Proton syncs.
   */
  readonly service: IService;

  /**
   * The linked repository holding the service's Proton Ops file.
   */
  readonly repository: IRepository;

  /**
   * The branch Proton syncs from.
   */
  readonly branch: string;

  /**
   * The path of the Proton Ops file in the repository.
   */
  readonly filePath: string;
}

/**
 * Makes Proton sync a service from the Proton Ops file in a linked repository.
 *
 * @resource Custom::ProtonServiceSyncConfig
 */
export class ServiceSyncConfig extends Resource {
  constructor(scope: Construct, id: string, props: ServiceSyncConfigProps) {
    super(scope, id);
    checkBranch(this, props.branch);
    checkRepositoryPath(this, 'filePath', props.filePath);
    // A service this app defines is named by a reference: the construct then identifies it.
    const serviceName = props.service.serviceName;
    claimName(this, 'service sync config', Token.isUnresolved(serviceName) ? props.service.node.path : serviceName, 'service',
      'a service has one sync config');
    const provider = ProtonProvider.of(this);
    const resource = provider.customResource(this, 'Resource', {
      resourceType: ResourceTypes.SERVICE_SYNC_CONFIG,
      properties: definedProperties({
        // A reference for a service this app defines: the sync config is created after it and deleted before it.
        [ServiceSyncConfigProperties.SERVICE_NAME]: props.service.serviceName,
        [ServiceSyncConfigProperties.REPOSITORY_PROVIDER]: props.repository.repositoryProvider,
        [ServiceSyncConfigProperties.REPOSITORY_NAME]: props.repository.repositoryName,
        [ServiceSyncConfigProperties.BRANCH]: props.branch,
        [ServiceSyncConfigProperties.FILE_PATH]: props.filePath,
      }),
    });
    // The repository's name is a literal: the dependency creates the link first and deletes it last.
    resource.node.addDependency(props.repository);
    provider.grantOn('service', props.service.serviceName, [
      'proton:CreateServiceSyncConfig', 'proton:GetServiceSyncConfig', 'proton:UpdateServiceSyncConfig', 'proton:DeleteServiceSyncConfig',
    ]);
  }
}
