/**
 * CloudFormation intrinsic functions, as far as CDK emits them for the apps proton-local deploys: Ref (resources,
 * parameters, pseudo parameters), Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::ImportValue, and the
 * condition functions (Fn::If, Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition). Anything else is an error naming it.
 */

export const SUPPORTED_INTRINSICS = [
  'Ref', 'Fn::GetAtt', 'Fn::Join', 'Fn::Sub', 'Fn::Select', 'Fn::Split', 'Fn::ImportValue',
  'Fn::If', 'Fn::Equals', 'Fn::And', 'Fn::Or', 'Fn::Not', 'Condition',
];

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export interface ResolveContext {
  readonly stackName: string;
  readonly stackId: string;
  readonly account: string;
  readonly region: string;
  /** The value of Ref on a resource or parameter of the template. */
  ref(logicalId: string, where: string): unknown;
  getAtt(logicalId: string, attribute: string, where: string): unknown;
  importValue(exportName: string, where: string): unknown;
  condition(name: string, where: string): boolean;
}

/** `Ref: AWS::NoValue` removes the property (or list element) that holds it. */
const NO_VALUE = Symbol('AWS::NoValue');

function pseudoParameter(name: string, ctx: ResolveContext): unknown {
  switch (name) {
    case 'AWS::AccountId': return ctx.account;
    case 'AWS::Region': return ctx.region;
    case 'AWS::Partition': return 'aws';
    case 'AWS::URLSuffix': return 'amazonaws.com';
    case 'AWS::StackName': return ctx.stackName;
    case 'AWS::StackId': return ctx.stackId;
    case 'AWS::NotificationARNs': return [];
    case 'AWS::NoValue': return NO_VALUE;
    default: return undefined;
  }
}

function intrinsicName(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  return keys[0] === 'Ref' || keys[0].startsWith('Fn::') ? keys[0] : undefined;
}

function parseGetAtt(argument: unknown, where: string): [string, string] {
  if (typeof argument === 'string' && argument.includes('.')) {
    const dot = argument.indexOf('.');
    return [argument.slice(0, dot), argument.slice(dot + 1)];
  }
  if (Array.isArray(argument) && argument.length === 2 && typeof argument[0] === 'string' && typeof argument[1] === 'string') {
    return [argument[0], argument[1]];
  }
  throw new TemplateError(`${where}: Fn::GetAtt needs [logicalId, attribute] or "logicalId.attribute", got ${JSON.stringify(argument)}`);
}

/** Resolves every intrinsic in `value`; `where` names the location for error messages (e.g. `Resources.Env.Properties`). */
export function resolveValue(value: unknown, ctx: ResolveContext, where: string): unknown {
  const resolved = resolve(value, ctx, where);
  return resolved === NO_VALUE ? undefined : resolved;
}

function resolve(value: unknown, ctx: ResolveContext, where: string): unknown {
  if (Array.isArray(value)) {
    return value.map((item, i) => resolve(item, ctx, `${where}[${i}]`)).filter((item) => item !== NO_VALUE);
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const name = intrinsicName(value);
  if (name === undefined) {
    const out: { [key: string]: unknown } = {};
    for (const [key, item] of Object.entries(value)) {
      const resolved = resolve(item, ctx, `${where}.${key}`);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }
  const argument = (value as any)[name];
  const here = `${where} (${name})`;
  switch (name) {
    case 'Ref': {
      if (typeof argument !== 'string') throw new TemplateError(`${here}: Ref needs a name, got ${JSON.stringify(argument)}`);
      const pseudo = pseudoParameter(argument, ctx);
      return pseudo !== undefined ? pseudo : ctx.ref(argument, where);
    }
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = parseGetAtt(argument, here);
      return ctx.getAtt(logicalId, attribute, where);
    }
    case 'Fn::Join': {
      const [delimiter, items] = expectArray(argument, 2, here);
      const list = resolve(items, ctx, here);
      if (!Array.isArray(list)) throw new TemplateError(`${here}: the second argument must be a list, got ${JSON.stringify(list)}`);
      return list.map((item) => scalarString(item, here)).join(String(delimiter));
    }
    case 'Fn::Sub':
      return substitute(argument, ctx, here);
    case 'Fn::Select': {
      const [indexArg, listArg] = expectArray(argument, 2, here);
      const index = Number(resolve(indexArg, ctx, here));
      const list = resolve(listArg, ctx, here);
      if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
        throw new TemplateError(`${here}: index ${index} is out of range of ${JSON.stringify(list)}`);
      }
      return list[index];
    }
    case 'Fn::Split': {
      const [delimiter, source] = expectArray(argument, 2, here);
      return scalarString(resolve(source, ctx, here), here).split(String(delimiter));
    }
    case 'Fn::ImportValue':
      return ctx.importValue(scalarString(resolve(argument, ctx, here), here), where);
    case 'Fn::If': {
      const [conditionName, whenTrue, whenFalse] = expectArray(argument, 3, here);
      return resolve(ctx.condition(String(conditionName), here) ? whenTrue : whenFalse, ctx, here);
    }
    case 'Fn::Equals':
    case 'Fn::And':
    case 'Fn::Or':
    case 'Fn::Not':
      return evaluateCondition(value, ctx, where);
    default:
      throw new TemplateError(
        `${where}: the intrinsic function ${name} is not supported by proton-local deploy (supported: ${SUPPORTED_INTRINSICS.join(', ')})`);
  }
}

/** Evaluates a condition expression (a Conditions entry, or an argument of Fn::And/Or/Not). */
export function evaluateCondition(expression: unknown, ctx: ResolveContext, where: string): boolean {
  if (typeof expression === 'boolean') return expression;
  if (expression !== null && typeof expression === 'object' && !Array.isArray(expression) && Object.keys(expression).length === 1) {
    const [key, argument] = Object.entries(expression)[0];
    switch (key) {
      case 'Condition': return ctx.condition(String(argument), where);
      case 'Fn::Equals': {
        const [a, b] = expectArray(argument, 2, `${where} (Fn::Equals)`);
        return JSON.stringify(resolveValue(a, ctx, where)) === JSON.stringify(resolveValue(b, ctx, where));
      }
      case 'Fn::And': return expectList(argument, `${where} (Fn::And)`).every((c) => evaluateCondition(c, ctx, where));
      case 'Fn::Or': return expectList(argument, `${where} (Fn::Or)`).some((c) => evaluateCondition(c, ctx, where));
      case 'Fn::Not': return !evaluateCondition(expectArray(argument, 1, `${where} (Fn::Not)`)[0], ctx, where);
    }
  }
  const resolved = resolveValue(expression, ctx, where);
  if (resolved === 'true' || resolved === true) return true;
  if (resolved === 'false' || resolved === false) return false;
  throw new TemplateError(`${where}: not a condition: ${JSON.stringify(expression)}`);
}

function substitute(argument: unknown, ctx: ResolveContext, where: string): string {
  const [text, variables] = typeof argument === 'string' ? [argument, {}] : expectArray(argument, 2, where);
  if (typeof text !== 'string') throw new TemplateError(`${where}: the template must be a string, got ${JSON.stringify(text)}`);
  const values = resolve(variables, ctx, where) as { [name: string]: unknown };
  return text.replace(/\$\{(!?)([^}]*)\}/g, (_whole, literal: string, name: string) => {
    if (literal) return '${' + name + '}';
    if (values && name in values) return scalarString(values[name], where);
    const pseudo = pseudoParameter(name, ctx);
    if (pseudo !== undefined) return scalarString(pseudo, where);
    const dot = name.indexOf('.');
    const value = dot > 0 ? ctx.getAtt(name.slice(0, dot), name.slice(dot + 1), where) : ctx.ref(name, where);
    return scalarString(value, where);
  });
}

function scalarString(value: unknown, where: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateError(`${where}: expected a string, got ${JSON.stringify(value)}`);
}

function expectList(argument: unknown, where: string): unknown[] {
  if (!Array.isArray(argument)) throw new TemplateError(`${where}: expected a list, got ${JSON.stringify(argument)}`);
  return argument;
}

function expectArray(argument: unknown, length: number, where: string): unknown[] {
  const list = expectList(argument, where);
  if (list.length !== length) throw new TemplateError(`${where}: expected ${length} arguments, got ${list.length}`);
  return list;
}

/**
 * The logical ids a value refers to through Ref, Fn::GetAtt and Fn::Sub (pseudo parameters excluded; parameters
 * included, callers keep only resources).
 */
export function referencedNames(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((item) => referencedNames(item, into));
  } else if (value !== null && typeof value === 'object') {
    const name = intrinsicName(value);
    const argument = (value as any)[name ?? ''];
    if (name === 'Ref' && typeof argument === 'string' && !argument.startsWith('AWS::')) {
      into.add(argument);
    } else if (name === 'Fn::GetAtt') {
      into.add(parseGetAtt(argument, 'Fn::GetAtt')[0]);
    } else if (name === 'Fn::Sub') {
      const [text, variables] = typeof argument === 'string' ? [argument, {}] : argument;
      for (const match of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
        const variable = match[1].split('.')[0];
        if (!variable.startsWith('AWS::') && !(variables && variable in variables)) into.add(variable);
      }
      referencedNames(variables, into);
    } else {
      Object.values(value).forEach((item) => referencedNames(item, into));
    }
  }
  return into;
}
