/**
 * The handler for each custom resource type. A plain map: each resource module adds its own entry.
 */
import { accountSettingsHandler } from './account-settings';
import { componentHandler } from './component';
import { environmentHandler } from './environment';
import { environmentAccountConnectionAcceptanceHandler, environmentAccountConnectionHandler } from './environment-account-connection';
import { repositoryHandler } from './repository';
import { serviceHandler } from './service';
import { serviceSyncConfigHandler } from './service-sync-config';
import { supersededVersionsHandler } from './superseded-versions';
import { environmentTemplateHandler, serviceTemplateHandler } from './template';
import { templateSyncConfigHandler } from './template-sync-config';
import { environmentTemplateVersionHandler, serviceTemplateVersionHandler } from './template-version';
import { ACCOUNT_SETTINGS_RESOURCE_TYPE, ResourceTypes } from '../../src/private/properties';
import type { ResourceHandler } from '../shared/types';

export const RESOURCE_HANDLERS: ReadonlyMap<string, ResourceHandler> = new Map([
  [ResourceTypes.ENVIRONMENT_TEMPLATE, environmentTemplateHandler],
  [ResourceTypes.SERVICE_TEMPLATE, serviceTemplateHandler],
  [ResourceTypes.ENVIRONMENT_TEMPLATE_VERSION, environmentTemplateVersionHandler],
  [ResourceTypes.SERVICE_TEMPLATE_VERSION, serviceTemplateVersionHandler],
  [ResourceTypes.ENVIRONMENT, environmentHandler],
  [ResourceTypes.SERVICE, serviceHandler],
  [ACCOUNT_SETTINGS_RESOURCE_TYPE, accountSettingsHandler],
  [ResourceTypes.SUPERSEDED_VERSIONS, supersededVersionsHandler],
  [ResourceTypes.ENVIRONMENT_ACCOUNT_CONNECTION, environmentAccountConnectionHandler],
  [ResourceTypes.ENVIRONMENT_ACCOUNT_CONNECTION_ACCEPTANCE, environmentAccountConnectionAcceptanceHandler],
  [ResourceTypes.COMPONENT, componentHandler],
  [ResourceTypes.REPOSITORY, repositoryHandler],
  [ResourceTypes.TEMPLATE_SYNC_CONFIG, templateSyncConfigHandler],
  [ResourceTypes.SERVICE_SYNC_CONFIG, serviceSyncConfigHandler],
]);
