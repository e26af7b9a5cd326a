/**
 * Generic input validation against the service model, with the wording AWS services use
 * ("1 validation error detected: Value 'x y' at 'name' failed to satisfy constraint: Member must ...").
 */
import { protonModel } from './proton-model.generated';
import type { ModelShape, ServiceModel } from './types';

export interface InputProblems {
  /** Type mismatches: AWS answers SerializationException for these. */
  readonly serialization: string[];
  /** Constraint violations: ValidationException. */
  readonly constraints: string[];
}

const compiledPatterns = new Map<string, RegExp>();

function patternOf(pattern: string): RegExp {
  let regex = compiledPatterns.get(pattern);
  if (!regex) {
    // Model patterns must match the whole value (Java's String.matches).
    regex = new RegExp(`^(?:${pattern})$`, 'u');
    compiledPatterns.set(pattern, regex);
  }
  return regex;
}

function describe(value: unknown): string {
  if (value === undefined || value === null) {
    return 'null';
  }
  if (typeof value === 'string') {
    return `'${value}'`;
  }
  if (Array.isArray(value) || typeof value === 'object') {
    return `'${JSON.stringify(value)}'`;
  }
  return `'${String(value)}'`;
}

class InputChecker {
  readonly serialization: string[] = [];
  readonly constraints: string[] = [];

  constructor(private readonly model: ServiceModel) {}

  check(shapeName: string, value: unknown, path: string): void {
    const shape = this.model.shapes[shapeName];
    switch (shape.type) {
      case 'structure':
        return this.checkStructure(shape, value, path);
      case 'list':
        return this.checkList(shape, value, path);
      case 'map':
        return this.checkMap(shape, value, path);
      case 'string':
        return this.checkString(shape, value, path);
      case 'integer':
      case 'long':
        return this.checkNumber(shape, value, path, Number.isInteger(value));
      case 'float':
      case 'double':
        return this.checkNumber(shape, value, path, typeof value === 'number');
      case 'boolean':
        return this.expect(typeof value === 'boolean', 'a boolean', value, path);
      case 'timestamp':
        return this.expect(typeof value === 'number' || typeof value === 'string', 'a timestamp', value, path);
      default:
        return undefined;
    }
  }

  private expect(ok: boolean, what: string, value: unknown, path: string): void {
    if (!ok) {
      this.serialization.push(`Value ${describe(value)} at '${path}' must be ${what}`);
    }
  }

  private violation(value: unknown, path: string, rule: string): void {
    this.constraints.push(`Value ${describe(value)} at '${path}' failed to satisfy constraint: Member must ${rule}`);
  }

  private checkStructure(shape: ModelShape, value: unknown, path: string): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.expect(false, 'an object', value, path || 'input');
    }
    const input = value as { [member: string]: unknown };
    const prefix = path ? `${path}.` : '';
    for (const member of shape.required ?? []) {
      if (input[member] === undefined || input[member] === null) {
        this.violation(null, `${prefix}${member}`, 'not be null');
      }
    }
    const present = Object.entries(shape.members ?? {}).filter(([member]) => input[member] !== undefined && input[member] !== null);
    if (shape.union && present.length !== 1) {
      this.constraints.push(`Value at '${path || 'input'}' failed to satisfy constraint: Member must have exactly one member set, ` +
        `one of: [${Object.keys(shape.members ?? {}).join(', ')}]${present.length ? `; got: [${present.map(([m]) => m).join(', ')}]` : ''}`);
    }
    for (const [member, ref] of present) {
      this.check(ref.shape, input[member], `${prefix}${member}`);
    }
  }

  private checkLength(shape: ModelShape, length: number, value: unknown, path: string): void {
    if (shape.min !== undefined && length < shape.min) {
      this.violation(value, path, `have length greater than or equal to ${shape.min}`);
    }
    if (shape.max !== undefined && length > shape.max) {
      this.violation(value, path, `have length less than or equal to ${shape.max}`);
    }
  }

  private checkList(shape: ModelShape, value: unknown, path: string): void {
    if (!Array.isArray(value)) {
      return this.expect(false, 'a list', value, path);
    }
    this.checkLength(shape, value.length, value, path);
    value.forEach((item, index) => this.check(shape.member!, item, `${path}.${index + 1}.member`));
  }

  private checkMap(shape: ModelShape, value: unknown, path: string): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.expect(false, 'a map', value, path);
    }
    const entries = Object.entries(value);
    this.checkLength(shape, entries.length, value, path);
    for (const [key, item] of entries) {
      this.check(shape.key!, key, `${path}.${key}.key`);
      this.check(shape.value!, item, `${path}.${key}.value`);
    }
  }

  private checkString(shape: ModelShape, value: unknown, path: string): void {
    if (typeof value !== 'string') {
      return this.expect(false, 'a string', value, path);
    }
    this.checkLength(shape, [...value].length, value, path);
    if (shape.pattern !== undefined && !patternOf(shape.pattern).test(value)) {
      this.violation(value, path, `satisfy regular expression pattern: ${shape.pattern}`);
    }
    if (shape.enum && !shape.enum.includes(value)) {
      this.violation(value, path, `satisfy enum value set: [${shape.enum.join(', ')}]`);
    }
  }

  private checkNumber(shape: ModelShape, value: unknown, path: string, ok: boolean): void {
    if (!ok) {
      return this.expect(false, shape.type === 'integer' || shape.type === 'long' ? 'an integer' : 'a number', value, path);
    }
    const number = value as number;
    if (shape.min !== undefined && number < shape.min) {
      this.violation(value, path, `have value greater than or equal to ${shape.min}`);
    }
    if (shape.max !== undefined && number > shape.max) {
      this.violation(value, path, `have value less than or equal to ${shape.max}`);
    }
  }
}

/** Whether the model defines the operation. */
export function isModelledOperation(operation: string, model: ServiceModel = protonModel): boolean {
  return Object.prototype.hasOwnProperty.call(model.operations, operation);
}

export function checkInput(operation: string, input: unknown, model: ServiceModel = protonModel): InputProblems {
  const checker = new InputChecker(model);
  checker.check(model.operations[operation], input, '');
  return { serialization: checker.serialization, constraints: checker.constraints };
}

/** AWS's summary line for constraint violations. */
export function validationMessage(constraints: readonly string[]): string {
  const count = constraints.length;
  return `${count} validation error${count === 1 ? '' : 's'} detected: ${constraints.join('; ')}`;
}
