/**
 * Custom::ProtonSupersededVersions: deletes the superseded versions of a stack's templates once nothing runs on them.
 *
 * It depends on every environment and service of its stack, so CloudFormation updates it last: by then the stack's
 * resources have moved to their new versions, and the deployment can no longer roll back to the old ones (which
 * therefore must not be deleted earlier). Collection never fails the stack: what Proton keeps stays marked for later.
 */
import { ResourceTypes, SupersededVersionsProperties as P } from '../../src/private/properties';
import { DONE, lifecycle, ProtonResource, StepContext } from '../shared/lifecycle';
import { PropertyReader } from '../shared/properties';
import { TEMPLATE_APIS, TemplateKind } from '../shared/template-api';
import type { ResourceHandler } from '../shared/types';
import { collectSupersededVersions } from '../shared/versions';

interface Collection {
  readonly templates: Array<{ kind: TemplateKind; templateName: string }>;
}

async function collect(ctx: StepContext, collection: Collection): Promise<void> {
  for (const { kind, templateName } of collection.templates) {
    await collectSupersededVersions(ctx, TEMPLATE_APIS[kind], templateName);
  }
}

const PHYSICAL_ID = 'superseded-versions';

const supersededVersions: ProtonResource<Collection> = {
  resourceType: ResourceTypes.SUPERSEDED_VERSIONS,
  decode(properties) {
    const p = new PropertyReader(properties, ResourceTypes.SUPERSEDED_VERSIONS);
    const templates = (p.objectList(P.TEMPLATES, ['kind', 'templateName']) ?? [])
      .filter(t => t.kind === 'environment' || t.kind === 'service') as Collection['templates'];
    return { templates };
  },
  needsNewResource: () => false,
  async create(ctx, collection) {
    await collect(ctx, collection);
    return PHYSICAL_ID;
  },
  async advance(ctx, _id, collection, _previous, firstStep) {
    if (firstStep) await collect(ctx, collection);
    return DONE;
  },
  // The stack's environments and services collect what their own deletion frees.
  advanceDeletion: async () => DONE,
};

export const supersededVersionsHandler: ResourceHandler = lifecycle(supersededVersions);
