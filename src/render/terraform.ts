/**
 * The outputs of a Terraform bundle: its `output "NAME" { value = ... }` blocks.
 *
 * User Guide, "AWS Proton parameters": for Terraform, Proton does not render the IaC files; it "generates a Terraform
 * parameter value file" whose variables (`var.environment.inputs.X`, `var.service_instance.inputs.X`...) the files read.
 * A full HCL parser is more than outputs need: the blocks are found by a scan that matches braces outside strings.
 *
 * CDK-free.
 */

/** One `output` block: its name and the text of its `value` expression. */
export interface TerraformOutput {
  readonly name: string;
  /** The expression after `value =`, trimmed; undefined when the block has no value attribute. */
  readonly expression?: string;
}

const OUTPUT_BLOCK = /(^|\n)[ \t]*output[ \t]+"([^"]+)"[ \t]*\{/g;

/** The output blocks of a .tf file, in file order. Comments (`#`, `//`, `/* *\/`) are ignored. */
export function terraformOutputs(text: string): TerraformOutput[] {
  const source = stripComments(text);
  const outputs: TerraformOutput[] = [];
  for (const match of source.matchAll(OUTPUT_BLOCK)) {
    const bodyStart = match.index! + match[0].length;
    const body = source.slice(bodyStart, blockEnd(source, bodyStart));
    const value = /(^|\n)[ \t]*value[ \t]*=[ \t]*([^\n]*)/.exec(body);
    outputs.push({ name: match[2], expression: value ? value[2].trim() : undefined });
  }
  return outputs;
}

/**
 * An output's value when its expression is a plain string literal or one of Proton's input variables
 * (`var.<namespace>.inputs.<name>`); undefined when only Terraform could evaluate it.
 */
export function terraformOutputValue(
  expression: string | undefined, inputs: { [namespace: string]: { [name: string]: unknown } },
): string | undefined {
  if (expression === undefined) return undefined;
  const literal = /^"((?:[^"\\$]|\\.|\$(?!\{))*)"$/.exec(expression);
  if (literal) {
    return JSON.parse(`"${literal[1]}"`);
  }
  const variable = /^var\.([a-z_]+)\.inputs\.([A-Za-z0-9_]+)$/.exec(expression);
  if (variable && inputs[variable[1]] && Object.hasOwn(inputs[variable[1]], variable[2])) {
    const value = inputs[variable[1]][variable[2]];
    return typeof value === 'string' ? value : JSON.stringify(value);
  }
  return undefined;
}

/** The index of the `}` closing the block whose body starts at `start`. */
function blockEnd(source: string, start: number): number {
  let depth = 1;
  let inString = false;
  for (let i = start; i < source.length; i++) {
    const c = source[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{') {
      depth++;
    } else if (c === '}' && --depth === 0) {
      return i;
    }
  }
  return source.length;
}

function stripComments(text: string): string {
  // Strings are kept whole, so a "#" or "//" inside one is not taken for a comment.
  return text.replace(/"(?:[^"\\]|\\.)*"|\/\*[\s\S]*?\*\/|(?:#|\/\/)[^\n]*/g, m => (m.startsWith('"') ? m : m.replace(/[^\n]/g, ' ')));
}
