/**
 * Custom::ProtonEnvironmentTemplate and Custom::ProtonServiceTemplate. The physical id is the template's name.
 *
 * - Create: get before create; creating is synchronous (the answer is the template), so isComplete has nothing to
 *   wait for. A template of that name that this resource created (tag `cdk-proton:owner`) is this one
 *   again (a re-delivered event); one without an owner is taken over only when the user opted in (AdoptExisting);
 *   anything else fails, naming the owner.
 * - Update: display name, description and tags in place; a new name, encryption key or provisioning is a new template
 *   (Proton can't change them), which CloudFormation then replaces.
 * - Delete: one DeleteXTemplate call; when Proton refuses (versions remain), the template's superseded versions that
 *   Proton lets go are deleted and the delete is tried again; a template that still has versions fails with their names.
 */
import { ResourceTypes, TemplateAttributes, TemplateProperties as P } from '../../src/private/properties';
import { errorMessage, errorName, isConflict, isIdempotentParameterMismatch } from '../shared/errors';
import { DONE, lifecycle, pending, ProtonResource, StepContext } from '../shared/lifecycle';
import { PropertyReader } from '../shared/properties';
import { checkOwnership, ownerTag, readTags, syncTags, Tag } from '../shared/tags';
import { ENVIRONMENT_TEMPLATES, SERVICE_TEMPLATES, TemplateApi, versionId } from '../shared/template-api';
import type { ResourceHandler } from '../shared/types';
import { collectSupersededVersions, versionsOf } from '../shared/versions';

interface DesiredTemplate {
  readonly name: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly encryptionKey?: string;
  readonly provisioning?: string;
  readonly tags: Tag[];
  readonly adoptExisting: boolean;
}

function templateResource(api: TemplateApi, resourceType: string): ProtonResource<DesiredTemplate> {
  const what = (name: string) => `${api.words} '${name}'`;

  const checkImmutable = (desired: DesiredTemplate, actual: { encryptionKey?: string; provisioning?: string }) => {
    for (const [field, wanted, current] of [
      ['encryptionKey', desired.encryptionKey, actual.encryptionKey],
      ['provisioning', desired.provisioning, actual.provisioning],
    ] as const) {
      if ((wanted ?? '') !== (current ?? '')) {
        const shown = (value: string | undefined) => value === undefined || value === '' ? 'none' : JSON.stringify(value);
        throw new Error(`${what(desired.name)} has ${field} ${shown(current)} and Proton can't change it to ${shown(wanted)}: `
          + 'give the template a new name to replace it');
      }
    }
  };

  /** The template as Proton reports it, read once per poll. */
  const getTemplate = (ctx: StepContext, name: string) => ctx.cached(`template ${api.kind} ${name}`, () => api.getTemplate(ctx.client, name));

  return {
    resourceType,
    decode(properties) {
      const p = new PropertyReader(properties, resourceType);
      return {
        name: p.string(P.TEMPLATE_NAME),
        displayName: p.optionalString(P.DISPLAY_NAME),
        description: p.optionalString(P.DESCRIPTION),
        encryptionKey: p.optionalString(P.ENCRYPTION_KEY),
        provisioning: p.optionalString(P.PROVISIONING),
        tags: readTags(p, P.TAGS),
        adoptExisting: p.boolean(P.ADOPT_EXISTING, false),
      };
    },

    needsNewResource: (previous, desired) => previous.name !== desired.name
      || (previous.encryptionKey ?? '') !== (desired.encryptionKey ?? '') || (previous.provisioning ?? '') !== (desired.provisioning ?? ''),

    async create(ctx, desired) {
      let existing = await getTemplate(ctx, desired.name);
      if (!existing) {
        try {
          const created = await api.createTemplate(ctx.client, {
            name: desired.name,
            displayName: desired.displayName,
            description: desired.description,
            encryptionKey: desired.encryptionKey,
            provisioning: desired.provisioning,
            tags: [ownerTag(ctx), ...desired.tags],
          });
          ctx.log('template created', { template: desired.name });
          // Creating a template is synchronous: it is in place, with every setting and tag, as Proton's answer shows.
          if (created?.arn) ctx.settle({ [TemplateAttributes.ARN]: created.arn });
          return desired.name;
        } catch (error) {
          // Idempotent by name: only a template created in between with other settings fails here; it is checked below.
          if (!isConflict(error) && !isIdempotentParameterMismatch(error)) throw error;
          ctx.forget(`template ${api.kind} ${desired.name}`);
          existing = await getTemplate(ctx, desired.name);
          if (!existing) throw error;
        }
      }
      await checkOwnership(ctx, existing.arn, what(desired.name), desired.adoptExisting);
      checkImmutable(desired, existing);
      return desired.name;
    },

    async advance(ctx, name, desired, previous) {
      const template = await getTemplate(ctx, name);
      if (!template) throw new Error(`${what(name)} does not exist (it was deleted outside this stack?)`);
      checkImmutable(desired, template);
      const displayNameChanged = desired.displayName !== undefined && desired.displayName !== (template.displayName ?? undefined);
      const descriptionChanged = (desired.description ?? '') !== (template.description ?? '');
      if (displayNameChanged || descriptionChanged) {
        await api.updateTemplate(ctx.client, name, {
          displayName: displayNameChanged ? desired.displayName : undefined,
          description: descriptionChanged ? desired.description ?? '' : undefined,
        });
        return pending(`updating ${what(name)}`);
      }
      return syncTags(ctx, template.arn, desired.tags, previous?.tags ?? []);
    },

    async advanceDeletion(ctx, name) {
      const deleteTemplate = async (): Promise<unknown> => {
        try {
          await api.deleteTemplate(ctx.client, name); // a template already gone counts as deleted
          return undefined;
        } catch (error) {
          if (!isConflict(error) && errorName(error) !== 'ValidationException') throw error;
          return error;
        }
      };
      let refusal = await deleteTemplate();
      if (refusal === undefined) return DONE;
      // Versions remain: the superseded ones Proton lets go are deleted, then the template again.
      if ((await collectSupersededVersions(ctx, api, name)).length > 0) {
        refusal = await deleteTemplate();
        if (refusal === undefined) return DONE;
      }
      const versions = (await versionsOf(ctx, api, name)).map(versionId);
      if (versions.length === 0) return pending(`deleting ${what(name)}: ${errorMessage(refusal)}`);
      throw new Error(`${what(name)} can't be deleted while it has versions (${versions.join(', ')}): Proton deletes a template only `
        + 'once its versions are gone. Delete the stacks whose environments and services run on them, or retain the template');
    },

    async data(ctx, name) {
      const template = await getTemplate(ctx, name);
      if (!template) throw new Error(`${what(name)} does not exist`);
      return { [TemplateAttributes.ARN]: template.arn };
    },
  };
}

export const environmentTemplateHandler: ResourceHandler = lifecycle(templateResource(ENVIRONMENT_TEMPLATES, ResourceTypes.ENVIRONMENT_TEMPLATE));
export const serviceTemplateHandler: ResourceHandler = lifecycle(templateResource(SERVICE_TEMPLATES, ResourceTypes.SERVICE_TEMPLATE));
