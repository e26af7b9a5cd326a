/**
 * Custom::ProtonAccountSettings: the account-wide pipeline settings. Create records the settings in place before it
 * changes them, in the physical id (Delete events carry no Data), and Delete restores the settings the resource set.
 * UpdateAccountSettings is synchronous: nothing to wait for.
 */
import { AccountSettings, GetAccountSettingsCommand, ProtonClient, UpdateAccountSettingsCommand, UpdateAccountSettingsInput } from '@aws-sdk/client-proton';
import { readRepository, RepositoryBranch } from './environment';
import { ACCOUNT_SETTINGS_RESOURCE_TYPE, AccountSettingsProperties } from '../../src/private/properties';
import { protonClient } from '../shared/client';
import { PropertyReader } from '../shared/properties';
import type { IsCompleteResponse, OnEventRequest, OnEventResponse, ResourceHandler, ResourceProperties } from '../shared/types';

interface Settings {
  readonly pipelineServiceRoleArn?: string;
  readonly pipelineCodebuildRoleArn?: string;
  readonly pipelineProvisioningRepository?: RepositoryBranch;
}
type Setting = keyof Settings;
const SETTINGS: Setting[] = ['pipelineServiceRoleArn', 'pipelineCodebuildRoleArn', 'pipelineProvisioningRepository'];

const PHYSICAL_ID_PREFIX = 'proton-account-settings:';

function readSettings(properties: ResourceProperties | undefined): Settings {
  const p = new PropertyReader(properties, ACCOUNT_SETTINGS_RESOURCE_TYPE);
  return {
    pipelineServiceRoleArn: p.optionalString(AccountSettingsProperties.PIPELINE_SERVICE_ROLE_ARN),
    pipelineCodebuildRoleArn: p.optionalString(AccountSettingsProperties.PIPELINE_CODEBUILD_ROLE_ARN),
    pipelineProvisioningRepository: readRepository(p, AccountSettingsProperties.PIPELINE_PROVISIONING_REPOSITORY),
  };
}

/** The settings in place before the resource was created, carried in the physical id. */
function encodePrevious(settings: AccountSettings | undefined): string {
  const repository = settings?.pipelineProvisioningRepository;
  const previous: Settings = {
    pipelineServiceRoleArn: settings?.pipelineServiceRoleArn || undefined,
    pipelineCodebuildRoleArn: settings?.pipelineCodebuildRoleArn || undefined,
    pipelineProvisioningRepository: repository
      ? { provider: repository.provider!, name: repository.name!, branch: repository.branch! }
      : undefined,
  };
  return PHYSICAL_ID_PREFIX + Buffer.from(JSON.stringify(previous)).toString('base64url');
}

/** Undefined when the physical id is not one of ours (a create that failed before changing anything). */
function decodePrevious(physicalId: string): Settings | undefined {
  if (!physicalId.startsWith(PHYSICAL_ID_PREFIX)) return undefined;
  return JSON.parse(Buffer.from(physicalId.slice(PHYSICAL_ID_PREFIX.length), 'base64url').toString('utf8'));
}

/** The update that sets `set` and puts back the previous value of each setting in `restore`; undefined when empty. */
function updateInput(set: Settings, restore: Setting[], previous: Settings): UpdateAccountSettingsInput | undefined {
  const input: { -readonly [K in keyof UpdateAccountSettingsInput]: UpdateAccountSettingsInput[K] } = {};
  for (const setting of SETTINGS) {
    const restoring = restore.includes(setting);
    const value = restoring ? previous[setting] : set[setting];
    if (value === undefined && !restoring) continue;
    if (setting === 'pipelineProvisioningRepository') {
      if (value === undefined) input.deletePipelineProvisioningRepository = true;
      else input.pipelineProvisioningRepository = value as RepositoryBranch;
    } else {
      // An empty role ARN clears the setting.
      input[setting] = (value as string | undefined) ?? '';
    }
  }
  return Object.keys(input).length > 0 ? input : undefined;
}

async function update(client: ProtonClient, input: UpdateAccountSettingsInput | undefined): Promise<void> {
  if (input) await client.send(new UpdateAccountSettingsCommand(input));
}

export const accountSettingsHandler: ResourceHandler = {
  async onEvent(event: OnEventRequest): Promise<OnEventResponse> {
    const client = protonClient();
    switch (event.RequestType) {
      case 'Create': {
        const desired = readSettings(event.ResourceProperties);
        const current = (await client.send(new GetAccountSettingsCommand({}))).accountSettings;
        const physicalId = encodePrevious(current);
        await update(client, updateInput(desired, [], {}));
        return { PhysicalResourceId: physicalId };
      }
      case 'Update': {
        const desired = readSettings(event.ResourceProperties);
        const old = readSettings(event.OldResourceProperties);
        const dropped = SETTINGS.filter(s => old[s] !== undefined && desired[s] === undefined);
        await update(client, updateInput(desired, dropped, decodePrevious(event.PhysicalResourceId) ?? {}));
        return { PhysicalResourceId: event.PhysicalResourceId };
      }
      case 'Delete': {
        const previous = decodePrevious(event.PhysicalResourceId);
        if (previous) {
          const set = readSettings(event.ResourceProperties);
          await update(client, updateInput({}, SETTINGS.filter(s => set[s] !== undefined), previous));
        }
        return { PhysicalResourceId: event.PhysicalResourceId };
      }
    }
  },

  async isComplete(): Promise<IsCompleteResponse> {
    return { IsComplete: true };
  },
};
