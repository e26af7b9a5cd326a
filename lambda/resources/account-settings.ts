/**
 * Custom::ProtonAccountSettings: the account-wide pipeline settings. Create records the settings in place before it
 * changes them, in the physical id (Delete events carry no Data), and Delete restores the settings the resource set.
 * Every step compares the settings Proton reports with the ones wanted, so repeating one is harmless
 * (UpdateAccountSettings is synchronous: nothing else to wait for).
 * The settings are an account-wide singleton with nowhere to record an owner, so Create refuses a setting that is
 * already set to another value (another stack's, or set by hand) unless the user opted in to taking it over
 * (AdoptExisting): two resources restoring each other's values on delete would silently lose one's settings.
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
interface DesiredSettings extends Settings {
  readonly adoptExisting: boolean;
}
const SETTINGS: Setting[] = ['pipelineServiceRoleArn', 'pipelineCodebuildRoleArn', 'pipelineProvisioningRepository'];

const PHYSICAL_ID_PREFIX = 'proton-account-settings:';

function readSettings(properties: ResourceProperties | undefined): DesiredSettings {
  const p = new PropertyReader(properties, ACCOUNT_SETTINGS_RESOURCE_TYPE);
  return {
    pipelineServiceRoleArn: p.optionalString(AccountSettingsProperties.PIPELINE_SERVICE_ROLE_ARN),
    pipelineCodebuildRoleArn: p.optionalString(AccountSettingsProperties.PIPELINE_CODEBUILD_ROLE_ARN),
    pipelineProvisioningRepository: readRepository(p, AccountSettingsProperties.PIPELINE_PROVISIONING_REPOSITORY),
    adoptExisting: p.boolean(AccountSettingsProperties.ADOPT_EXISTING, false),
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

const SETTING_PROPS: Record<Setting, string> = {
  pipelineServiceRoleArn: 'pipelineServiceRole',
  pipelineCodebuildRoleArn: 'pipelineCodebuildRole',
  pipelineProvisioningRepository: 'pipelineProvisioningRepository',
};

/** Fails when a setting this resource is to manage is already set to another value and the user did not opt in. */
function refuseTakeOver(current: Settings, desired: DesiredSettings): void {
  if (desired.adoptExisting) return;
  // Equal values are not refused: a re-delivered Create finds the values its first delivery set.
  const taken = SETTINGS.filter(s => desired[s] !== undefined && current[s] !== undefined
    && JSON.stringify(current[s]) !== JSON.stringify(desired[s]));
  if (taken.length === 0) return;
  const described = taken.map(s => `${s} is ${JSON.stringify(current[s])}`).join(', ');
  throw new Error(`Proton's account settings are already set (${described}), by another stack or outside CloudFormation: `
    + 'the settings are one per account and region, so define AccountSettings in one stack only (remove it from the other '
    + `first), or set adoptExisting: true to take over ${taken.map(s => SETTING_PROPS[s]).join(', ')} (the values replaced are `
    + 'restored when the construct is removed)');
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

export const accountSettingsHandler: ResourceHandler = lifecycle<DesiredSettings>({
  resourceType: ACCOUNT_SETTINGS_RESOURCE_TYPE,
  decode: readSettings,
  needsNewResource: () => false,
  async create(ctx, desired) {
    // The physical id records the settings in place before this resource changes them; isComplete then sets them
    // (not onEvent: a re-delivered onEvent would record its own settings as the ones to restore).
    const current = await currentSettings(ctx.client);
    refuseTakeOver(normalized(current), desired);
    return encodePrevious(current);
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
