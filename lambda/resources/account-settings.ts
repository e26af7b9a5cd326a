/**
 * Custom::ProtonAccountSettings: the account-wide pipeline settings. Create records the settings in place before it
 * changes them, in the physical id (Delete events carry no Data), and Delete restores the settings the resource set.
 * Every step compares the settings Proton reports with the ones wanted, so repeating one is harmless
 * (UpdateAccountSettings is synchronous: nothing else to wait for).
 */
import { AccountSettings, GetAccountSettingsCommand, ProtonClient, UpdateAccountSettingsCommand, UpdateAccountSettingsInput } from '@aws-sdk/client-proton';
import { readRepository, RepositoryBranch } from './environment';
import { ACCOUNT_SETTINGS_RESOURCE_TYPE, AccountSettingsProperties } from '../../src/private/properties';
import { DONE, lifecycle, pending, Progress } from '../shared/lifecycle';
import { PropertyReader } from '../shared/properties';
import type { ResourceHandler, ResourceProperties } from '../shared/types';

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
function updateInput(set: Settings, restore: Setting[], previous: Settings, only: Setting[] = SETTINGS): UpdateAccountSettingsInput | undefined {
  const input: { -readonly [K in keyof UpdateAccountSettingsInput]: UpdateAccountSettingsInput[K] } = {};
  for (const setting of only) {
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

async function currentSettings(client: ProtonClient): Promise<AccountSettings | undefined> {
  return (await client.send(new GetAccountSettingsCommand({}))).accountSettings;
}

/** The settings as Proton reports them, in the shape of Settings ('' and absent both mean "not set"). */
function normalized(settings: AccountSettings | undefined): Settings {
  const repository = settings?.pipelineProvisioningRepository;
  return {
    pipelineServiceRoleArn: settings?.pipelineServiceRoleArn || undefined,
    pipelineCodebuildRoleArn: settings?.pipelineCodebuildRoleArn || undefined,
    pipelineProvisioningRepository: repository ? { provider: repository.provider!, name: repository.name!, branch: repository.branch! } : undefined,
  };
}

/**
 * Makes Proton's settings `wanted` for the given settings, with at most one update. Updating the settings is
 * synchronous: when Proton's answer shows them as wanted, they are in place.
 */
async function converge(client: ProtonClient, wanted: Settings, managed: Setting[], reason: string): Promise<Progress> {
  const differs = (settings: Settings) => managed.filter(s => JSON.stringify(settings[s] ?? null) !== JSON.stringify(wanted[s] ?? null));
  const differing = differs(normalized(await currentSettings(client)));
  const input = updateInput(wanted, differing.filter(s => wanted[s] === undefined), {}, differing);
  if (!input) return DONE;
  const updated = (await client.send(new UpdateAccountSettingsCommand(input))).accountSettings;
  return updated && differs(normalized(updated)).length === 0 ? DONE : pending(reason);
}

export const accountSettingsHandler: ResourceHandler = lifecycle<Settings>({
  resourceType: ACCOUNT_SETTINGS_RESOURCE_TYPE,
  decode: readSettings,
  needsNewResource: () => false,
  async create(ctx) {
    // The physical id records the settings in place before this resource changes them; isComplete then sets them
    // (not onEvent: a re-delivered onEvent would record its own settings as the ones to restore).
    return encodePrevious(await currentSettings(ctx.client));
  },
  async advance(ctx, physicalId, desired, previous) {
    const recorded = decodePrevious(physicalId) ?? {};
    // A setting the stack stops managing goes back to what it was before the stack set it.
    const dropped = SETTINGS.filter(s => previous?.[s] !== undefined && desired[s] === undefined);
    const wanted: Settings = Object.fromEntries(SETTINGS.map(s => [s, dropped.includes(s) ? recorded[s] : desired[s]]));
    const managed = SETTINGS.filter(s => desired[s] !== undefined || dropped.includes(s));
    return converge(ctx.client, wanted, managed, 'updating the account settings');
  },
  async advanceDeletion(ctx, physicalId, properties) {
    const recorded = decodePrevious(physicalId);
    if (!recorded || !properties) return DONE;
    const managed = SETTINGS.filter(s => properties[s] !== undefined);
    return converge(ctx.client, recorded, managed, 'restoring the account settings');
  },
});
