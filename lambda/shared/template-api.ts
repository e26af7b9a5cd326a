/**
 * The Proton calls of the two kinds of template and their versions, behind one interface: environment and service
 * templates differ only in operation names and a few service-only fields.
 */
import {
  CreateEnvironmentTemplateCommand, CreateEnvironmentTemplateVersionCommand, CreateServiceTemplateCommand,
  CreateServiceTemplateVersionCommand, DeleteEnvironmentTemplateCommand, DeleteEnvironmentTemplateVersionCommand,
  DeleteServiceTemplateCommand, DeleteServiceTemplateVersionCommand, GetEnvironmentTemplateCommand,
  GetEnvironmentTemplateVersionCommand, GetServiceTemplateCommand, GetServiceTemplateVersionCommand,
  paginateListEnvironmentTemplateVersions, paginateListServiceTemplateVersions, ProtonClient,
  ServiceTemplateSupportedComponentSourceType, Tag, TemplateVersionStatus, UpdateEnvironmentTemplateCommand,
  UpdateEnvironmentTemplateVersionCommand, UpdateServiceTemplateCommand, UpdateServiceTemplateVersionCommand,
} from '@aws-sdk/client-proton';
import { ignoreNotFound } from './errors';
import type { CompatibleEnvironmentTemplateProperty } from '../../src/private/properties';

export type TemplateKind = 'environment' | 'service';

/** A template as Proton reports it (the fields both kinds share). */
export interface Template {
  readonly name: string;
  readonly arn: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly encryptionKey?: string;
  /** `provisioning` of environment templates, `pipelineProvisioning` of service templates. */
  readonly provisioning?: string;
  readonly recommendedVersion?: string;
}

export interface VersionRef {
  readonly templateName: string;
  readonly majorVersion: string;
  readonly minorVersion: string;
}

/** A version as Proton reports it (the fields both kinds share). */
export interface Version extends VersionRef {
  readonly status: TemplateVersionStatus | string;
  readonly statusMessage?: string;
  readonly arn: string;
  readonly description?: string;
  readonly recommendedMinorVersion?: string;
  readonly compatibleEnvironmentTemplates?: CompatibleEnvironmentTemplateProperty[];
  readonly supportedComponentSources?: string[];
}

export interface NewTemplate {
  readonly name: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly encryptionKey?: string;
  readonly provisioning?: string;
  readonly tags?: Tag[];
}

export interface NewVersion {
  readonly templateName: string;
  /** Omitted: Proton opens a new major. */
  readonly majorVersion?: string;
  readonly description?: string;
  readonly bucket: string;
  readonly key: string;
  readonly compatibleEnvironmentTemplates?: CompatibleEnvironmentTemplateProperty[];
  readonly supportedComponentSources?: string[];
  readonly clientToken: string;
  readonly tags?: Tag[];
}

export interface VersionUpdate {
  readonly description?: string;
  readonly status?: TemplateVersionStatus;
  readonly compatibleEnvironmentTemplates?: CompatibleEnvironmentTemplateProperty[];
  readonly supportedComponentSources?: string[];
}

export interface TemplateApi {
  readonly kind: TemplateKind;
  /** For messages: "environment template". */
  readonly words: string;
  /** undefined when the template does not exist. */
  getTemplate(client: ProtonClient, name: string): Promise<Template | undefined>;
  createTemplate(client: ProtonClient, template: NewTemplate): Promise<Template>;
  updateTemplate(client: ProtonClient, name: string, update: { displayName?: string; description?: string }): Promise<void>;
  deleteTemplate(client: ProtonClient, name: string): Promise<void>;
  /** Every version of the template (of one major when given); empty when the template does not exist. */
  listVersions(client: ProtonClient, templateName: string, majorVersion?: string): Promise<Version[]>;
  /** undefined when the version (or its template) does not exist. */
  getVersion(client: ProtonClient, ref: VersionRef): Promise<Version | undefined>;
  createVersion(client: ProtonClient, version: NewVersion): Promise<Version>;
  updateVersion(client: ProtonClient, ref: VersionRef, update: VersionUpdate): Promise<Version>;
  deleteVersion(client: ProtonClient, ref: VersionRef): Promise<void>;
}

const componentSources = (sources: string[] | undefined) => sources as ServiceTemplateSupportedComponentSourceType[] | undefined;
const refOf = (ref: VersionRef): VersionRef => ({ templateName: ref.templateName, majorVersion: ref.majorVersion, minorVersion: ref.minorVersion });

async function collect<T>(pages: AsyncIterable<{ templateVersions?: T[] }>): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) items.push(...page.templateVersions ?? []);
  return items;
}

export const ENVIRONMENT_TEMPLATES: TemplateApi = {
  kind: 'environment',
  words: 'environment template',
  async getTemplate(client, name) {
    return ignoreNotFound(async () => {
      const t = (await client.send(new GetEnvironmentTemplateCommand({ name }))).environmentTemplate!;
      return { ...t, provisioning: t.provisioning } as Template;
    });
  },
  async createTemplate(client, t) {
    const out = await client.send(new CreateEnvironmentTemplateCommand({
      name: t.name,
      displayName: t.displayName,
      description: t.description,
      encryptionKey: t.encryptionKey,
      provisioning: t.provisioning as any,
      tags: t.tags,
    }));
    return out.environmentTemplate as Template;
  },
  async updateTemplate(client, name, update) {
    await client.send(new UpdateEnvironmentTemplateCommand({ name, ...update }));
  },
  async deleteTemplate(client, name) {
    await ignoreNotFound(() => client.send(new DeleteEnvironmentTemplateCommand({ name })));
  },
  async listVersions(client, templateName, majorVersion) {
    const pages = paginateListEnvironmentTemplateVersions({ client }, { templateName, majorVersion });
    return await ignoreNotFound(() => collect(pages)) as Version[] ?? [];
  },
  async getVersion(client, ref) {
    return ignoreNotFound(async () =>
      (await client.send(new GetEnvironmentTemplateVersionCommand(refOf(ref)))).environmentTemplateVersion as Version);
  },
  async createVersion(client, v) {
    const out = await client.send(new CreateEnvironmentTemplateVersionCommand({
      templateName: v.templateName,
      majorVersion: v.majorVersion,
      description: v.description,
      source: { s3: { bucket: v.bucket, key: v.key } },
      clientToken: v.clientToken,
      tags: v.tags,
    }));
    return out.environmentTemplateVersion as Version;
  },
  async updateVersion(client, ref, update) {
    const out = await client.send(new UpdateEnvironmentTemplateVersionCommand({
      ...refOf(ref), description: update.description, status: update.status,
    }));
    return out.environmentTemplateVersion as Version;
  },
  async deleteVersion(client, ref) {
    await ignoreNotFound(() => client.send(new DeleteEnvironmentTemplateVersionCommand(refOf(ref))));
  },
};

export const SERVICE_TEMPLATES: TemplateApi = {
  kind: 'service',
  words: 'service template',
  async getTemplate(client, name) {
    return ignoreNotFound(async () => {
      const t = (await client.send(new GetServiceTemplateCommand({ name }))).serviceTemplate!;
      return { ...t, provisioning: t.pipelineProvisioning } as Template;
    });
  },
  async createTemplate(client, t) {
    const out = await client.send(new CreateServiceTemplateCommand({
      name: t.name,
      displayName: t.displayName,
      description: t.description,
      encryptionKey: t.encryptionKey,
      pipelineProvisioning: t.provisioning as any,
      tags: t.tags,
    }));
    return out.serviceTemplate as Template;
  },
  async updateTemplate(client, name, update) {
    await client.send(new UpdateServiceTemplateCommand({ name, ...update }));
  },
  async deleteTemplate(client, name) {
    await ignoreNotFound(() => client.send(new DeleteServiceTemplateCommand({ name })));
  },
  async listVersions(client, templateName, majorVersion) {
    const pages = paginateListServiceTemplateVersions({ client }, { templateName, majorVersion });
    return await ignoreNotFound(() => collect(pages)) as Version[] ?? [];
  },
  async getVersion(client, ref) {
    return ignoreNotFound(async () =>
      (await client.send(new GetServiceTemplateVersionCommand(refOf(ref)))).serviceTemplateVersion as Version);
  },
  async createVersion(client, v) {
    const out = await client.send(new CreateServiceTemplateVersionCommand({
      templateName: v.templateName,
      majorVersion: v.majorVersion,
      description: v.description,
      source: { s3: { bucket: v.bucket, key: v.key } },
      clientToken: v.clientToken,
      tags: v.tags,
      compatibleEnvironmentTemplates: v.compatibleEnvironmentTemplates,
      supportedComponentSources: componentSources(v.supportedComponentSources),
    }));
    return out.serviceTemplateVersion as Version;
  },
  async updateVersion(client, ref, update) {
    const out = await client.send(new UpdateServiceTemplateVersionCommand({
      ...refOf(ref),
      description: update.description,
      status: update.status,
      compatibleEnvironmentTemplates: update.compatibleEnvironmentTemplates,
      supportedComponentSources: componentSources(update.supportedComponentSources),
    }));
    return out.serviceTemplateVersion as Version;
  },
  async deleteVersion(client, ref) {
    await ignoreNotFound(() => client.send(new DeleteServiceTemplateVersionCommand(refOf(ref))));
  },
};

export const TEMPLATE_APIS: { [kind in TemplateKind]: TemplateApi } = { environment: ENVIRONMENT_TEMPLATES, service: SERVICE_TEMPLATES };

export function versionId(version: VersionRef): string {
  return `${version.templateName}:${version.majorVersion}.${version.minorVersion}`;
}

/** undefined for an id the version handler never returned (the RequestId CloudFormation uses when a create failed early). */
export function parseVersionId(id: string | undefined): VersionRef | undefined {
  const match = /^([0-9A-Za-z][0-9A-Za-z_-]*):(0|[1-9]\d*)\.(0|[1-9]\d*)$/.exec(id ?? '');
  return match ? { templateName: match[1], majorVersion: match[2], minorVersion: match[3] } : undefined;
}
