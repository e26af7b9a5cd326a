/**
 * Synth-time checks that an output a construct reads (Environment.getOutput, Service.getInstanceOutput and
 * getPipelineOutput) is one the bundle's IaC declares, so a misspelt key fails at synth rather than at deployment.
 */
import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { declaredOutputsOf } from '../render/render';
import type { TemplateBundle } from '../template-bundle';

/** Which of the bundle's infrastructure the output belongs to. */
export type OutputOwner = 'ENVIRONMENT' | 'SERVICE_INSTANCE' | 'SERVICE_PIPELINE';

const WHAT: Record<OutputOwner, string> = {
  ENVIRONMENT: 'environment infrastructure (infrastructure/)',
  SERVICE_INSTANCE: 'service instance infrastructure (instance_infrastructure/)',
  SERVICE_PIPELINE: 'pipeline infrastructure (pipeline_infrastructure/)',
};

// Declared outputs per bundle and owner: rendering a bundle once per synth is enough.
const declaredByBundle = new WeakMap<TemplateBundle, Map<OutputOwner, string[] | undefined>>();

/**
 * The outputs the bundle declares for the owner. A CUSTOMER_MANAGED environment template (only `schema/`) has the
 * outputs its spec describes: the environment input type's properties.
 *
 * @returns undefined when they cannot be known at synth (CodeBuild provisioning reports its own)
 */
function declaredOutputs(bundle: TemplateBundle, owner: OutputOwner): string[] | undefined {
  let byOwner = declaredByBundle.get(bundle);
  if (!byOwner) {
    byOwner = new Map();
    declaredByBundle.set(bundle, byOwner);
  }
  if (!byOwner.has(owner)) {
    const schema = bundle._schema;
    let declared = declaredOutputsOf(bundle._files(), schema, owner);
    if (declared === undefined && owner === 'ENVIRONMENT' && schema.environmentInputType !== undefined
      && !bundle._files().some(f => f.path.startsWith('infrastructure/'))) {
      declared = Object.keys(schema.types[schema.environmentInputType]?.properties ?? {});
    }
    byOwner.set(owner, declared);
  }
  return byOwner.get(owner);
}

/**
 * Checks that `key` is an output the bundle's IaC declares for the owner.
 *
 * @param bundle the template version's bundle; undefined (an imported version) skips the check
 * @param method the method that reads the output, for the message (`getOutput`)
 * @throws naming the construct path, the key and the outputs that exist
 */
export function checkOutputKey(scope: IConstruct, bundle: TemplateBundle | undefined, owner: OutputOwner, key: string, method: string): void {
  if (!bundle || Token.isUnresolved(key)) return;
  const declared = declaredOutputs(bundle, owner);
  if (declared === undefined || declared.includes(key)) return;
  const existing = declared.length ? `its outputs are ${declared.join(', ')}` : 'it declares no outputs';
  throw new Error(`${scope.node.path}: ${method}: output "${key}" is not declared by the ${WHAT[owner]} of template bundle `
    + `${bundle.directory}: ${existing}`);
}
