/**
 * The native `AWS::Proton::EnvironmentTemplate` and `AWS::Proton::ServiceTemplate` resource types, implemented with
 * the Proton API as CloudFormation's own handlers do: createOnly properties (Name, EncryptionKey, Provisioning /
 * PipelineProvisioning) replace the template, DisplayName and Description update in place, tags are diffed, Ref and
 * Fn::GetAtt Arn return the template's ARN, and delete tolerates a template that is already gone.
 */
import { isDeepStrictEqual } from 'util';
import { ProtonApiClient, isNotFound } from './proton-client';
import type { ResourceHandler, ResourceRequest, ResourceResult } from './resource-handler';

interface NativeTemplateKind {
  readonly noun: 'EnvironmentTemplate' | 'ServiceTemplate';
  /** The provisioning property and its API member. */
  readonly provisioningProperty: string;
  readonly provisioningMember: string;
}

export const NATIVE_TEMPLATE_KINDS: { [type: string]: NativeTemplateKind } = {
  'AWS::Proton::EnvironmentTemplate': { noun: 'EnvironmentTemplate', provisioningProperty: 'Provisioning', provisioningMember: 'provisioning' },
  'AWS::Proton::ServiceTemplate': { noun: 'ServiceTemplate', provisioningProperty: 'PipelineProvisioning', provisioningMember: 'pipelineProvisioning' },
};

const NAME_PATTERN = /^[0-9A-Za-z]+[0-9A-Za-z_-]*$/;

interface Tag { readonly Key: string; readonly Value: string }

export class NativeTemplateHandler implements ResourceHandler {
  constructor(private readonly client: ProtonApiClient) {}

  public replacementProperties(type: string, oldProperties: { [name: string]: unknown }, newProperties: { [name: string]: unknown }): string[] {
    const createOnly = ['Name', 'EncryptionKey', NATIVE_TEMPLATE_KINDS[type].provisioningProperty];
    return createOnly.filter((name) => !isDeepStrictEqual(oldProperties[name], newProperties[name]));
  }

  public async create(request: ResourceRequest): Promise<ResourceResult> {
    const kind = kindOf(request);
    const props = request.properties;
    const name = props.Name !== undefined ? checkName(request, props.Name) : generatedName(request);
    const output = await this.client.call(`Create${kind.noun}`, {
      name,
      ...(props.DisplayName !== undefined ? { displayName: String(props.DisplayName) } : {}),
      ...(props.Description !== undefined ? { description: String(props.Description) } : {}),
      ...(props.EncryptionKey !== undefined ? { encryptionKey: String(props.EncryptionKey) } : {}),
      ...(props[kind.provisioningProperty] !== undefined ? { [kind.provisioningMember]: String(props[kind.provisioningProperty]) } : {}),
      ...(tagsOf(request, props.Tags).length ? { tags: tagsOf(request, props.Tags).map((t) => ({ key: t.Key, value: t.Value })) } : {}),
    });
    const arn = templateOf(kind, output).arn;
    return { physicalId: arn, attributes: { Arn: arn } };
  }

  public async update(request: ResourceRequest): Promise<ResourceResult> {
    const kind = kindOf(request);
    const props = request.properties;
    const old = request.oldProperties ?? {};
    const arn = request.physicalId!;
    const name = nameOfArn(arn);
    if (props.DisplayName !== old.DisplayName || props.Description !== old.Description) {
      await this.client.call(`Update${kind.noun}`, {
        name,
        // DisplayName cannot be emptied (1 to 100 characters); a removed Description becomes empty.
        ...(props.DisplayName !== undefined ? { displayName: String(props.DisplayName) } : {}),
        description: props.Description !== undefined ? String(props.Description) : '',
      });
    }
    const newTags = new Map(tagsOf(request, props.Tags).map((t) => [t.Key, t.Value]));
    const oldTags = new Map(tagsOf(request, old.Tags).map((t) => [t.Key, t.Value]));
    const removed = [...oldTags.keys()].filter((key) => !newTags.has(key));
    const changed = [...newTags.entries()].filter(([key, value]) => oldTags.get(key) !== value);
    if (removed.length) {
      await this.client.call('UntagResource', { resourceArn: arn, tagKeys: removed });
    }
    if (changed.length) {
      await this.client.call('TagResource', { resourceArn: arn, tags: changed.map(([key, value]) => ({ key, value })) });
    }
    return { physicalId: arn, attributes: { Arn: arn } };
  }

  public async delete(request: ResourceRequest): Promise<void> {
    const kind = kindOf(request);
    try {
      await this.client.call(`Delete${kind.noun}`, { name: nameOfArn(request.physicalId!) });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

function kindOf(request: ResourceRequest): NativeTemplateKind {
  const kind = NATIVE_TEMPLATE_KINDS[request.type];
  if (!kind) throw new Error(`${request.logicalId}: ${request.type} is not a native Proton template type`);
  return kind;
}

function templateOf(kind: NativeTemplateKind, output: any): any {
  return kind.noun === 'EnvironmentTemplate' ? output.environmentTemplate : output.serviceTemplate;
}

/** The template name is the last segment of its ARN (`arn:aws:proton:region:account:environment-template/name`). */
function nameOfArn(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function checkName(request: ResourceRequest, name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name) || name.length > 100) {
    throw new Error(`${request.logicalId}: Name ${JSON.stringify(name)} is not a valid Proton template name ` +
      '(1 to 100 characters: letters and digits first, then letters, digits, "_" and "-")');
  }
  return name;
}

/** A name like CloudFormation's for unnamed resources: stack, logical id and a random suffix, within 100 characters. */
function generatedName(request: ResourceRequest): string {
  const suffix = Math.random().toString(36).slice(2, 10).toUpperCase();
  const base = `${request.stackName}-${request.logicalId}`.replace(/[^0-9A-Za-z_-]/g, '').replace(/^[_-]+/, '');
  return `${base.slice(0, 90)}-${suffix}`;
}

function tagsOf(request: ResourceRequest, tags: unknown): Tag[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags) || tags.some((t) => typeof t?.Key !== 'string' || t.Value === undefined)) {
    throw new Error(`${request.logicalId}: Tags must be a list of { Key, Value }, got ${JSON.stringify(tags)}`);
  }
  return tags.map((t) => ({ Key: t.Key, Value: String(t.Value) }));
}
