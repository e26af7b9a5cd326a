import { createHash } from 'crypto';
import { CustomResource, Lazy, Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { ResourceTypes, SupersededVersionsProperties } from './properties';
import { ProtonProvider } from './provider';
import type { TemplateVersionSelector } from './template';

const ID = 'CdkProtonSupersededVersions';

/**
 * The stack's Custom::ProtonSupersededVersions (see lambda/resources/superseded-versions.ts): it depends on every
 * environment and service of the stack, and its Generation changes with the versions they run on, so CloudFormation
 * updates it last, after they moved, and only when something moved.
 */
export class SupersededVersions extends Construct {
  /** Registers a resource that runs on a template version. */
  public static track(resource: CustomResource, kind: 'environment' | 'service', templateName: string, selector: TemplateVersionSelector): void {
    const stack = Stack.of(resource);
    const existing = stack.node.tryFindChild(ID);
    const collector = existing instanceof SupersededVersions ? existing : new SupersededVersions(stack, ID);
    collector.add(resource, kind, templateName, selector);
  }

  private readonly templates = new Map<string, { kind: string; templateName: string }>();
  private readonly selectors: string[] = [];
  private readonly resource: CustomResource;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.resource = ProtonProvider.of(this).customResource(this, 'Resource', {
      resourceType: ResourceTypes.SUPERSEDED_VERSIONS,
      properties: {
        [SupersededVersionsProperties.TEMPLATES]: Lazy.string({
          produce: () => JSON.stringify([...this.templates.values()].sort((a, b) => `${a.kind}/${a.templateName}`.localeCompare(`${b.kind}/${b.templateName}`))),
        }),
        [SupersededVersionsProperties.GENERATION]: Lazy.string({
          produce: () => createHash('sha256').update(Stack.of(this).resolve([...this.selectors].sort()).join('\n')).digest('hex'),
        }),
      },
    });
  }

  private add(resource: IConstruct, kind: 'environment' | 'service', templateName: string, selector: TemplateVersionSelector): void {
    this.templates.set(`${kind}/${templateName}`, { kind, templateName });
    this.selectors.push(JSON.stringify([resource.node.path, templateName, selector.majorVersion, selector.minorVersion ?? '', selector.bundleHash ?? '']));
    this.resource.node.addDependency(resource);
  }
}
