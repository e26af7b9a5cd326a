/**
 * Decoding of custom-resource properties. CloudFormation delivers every scalar as a string, so booleans arrive as
 * 'true' / 'false' and lists or maps as JSON strings. The decoder also accepts the native JSON types (the local
 * deploy engine and older shapes may send them), ignores properties it does not know (ServiceToken, and names added
 * by newer constructs), and gives every optional property a default: old stacks send old shapes on rollback and
 * delete, and the handler must keep accepting them.
 */
import type { ResourceProperties } from './types';

/** A property that is missing or malformed; the message names the resource type, the property and the value. */
export class PropertyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertyError';
  }
}

/** Properties that carry spec inputs (Custom::ProtonEnvironment Spec, Custom::ProtonService Instances and PipelineSpec). */
const SPEC_PROPERTIES = new Set(['Spec', 'Instances', 'PipelineSpec']);

export class PropertyReader {
  constructor(private readonly properties: ResourceProperties | undefined, private readonly resourceType: string) {}

  /** A required non-empty string. */
  public string(name: string): string {
    const value = this.optionalString(name);
    if (value === undefined || value === '') {
      throw this.error(name, value, 'a non-empty string is required');
    }
    return value;
  }

  public optionalString(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined || value === null) {
      return undefined;
    }
    if (typeof value === 'string') {
      return value;
    }
    if (typeof value === 'number' || typeof value === 'boolean') {
      return String(value);
    }
    throw this.error(name, value, 'a string is required');
  }

  /** 'true' or 'false' (case-insensitive), or a JSON boolean; absent gives the default. */
  public boolean(name: string, defaultValue: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined || value === null || value === '') {
      return defaultValue;
    }
    if (typeof value === 'boolean') {
      return value;
    }
    if (typeof value === 'string' && /^(true|false)$/i.test(value)) {
      return value.toLowerCase() === 'true';
    }
    throw this.error(name, value, "'true' or 'false' is required");
  }

  /** A JSON document (a JSON string, or the value itself when it already arrived parsed); absent gives undefined. */
  public json(name: string): unknown {
    const value = this.raw(name);
    if (value === undefined || value === null || value === '') {
      return undefined;
    }
    if (typeof value !== 'string') {
      return value;
    }
    try {
      return JSON.parse(value);
    } catch (e) {
      // The parser's message may quote the text: not for specs.
      throw this.error(name, value, SPEC_PROPERTIES.has(name) ? 'a JSON document is required' : `a JSON document is required (${(e as Error).message})`);
    }
  }

  /** A JSON list of strings; absent gives undefined. */
  public stringList(name: string): string[] | undefined {
    const value = this.json(name);
    if (value === undefined) {
      return undefined;
    }
    if (!Array.isArray(value) || value.some(item => typeof item !== 'string')) {
      throw this.error(name, value, 'a JSON list of strings is required');
    }
    return value;
  }

  /** A JSON list of objects whose listed fields are strings; absent gives undefined. */
  public objectList<K extends string>(name: string, fields: readonly K[]): Array<{ [key in K]: string }> | undefined {
    const value = this.json(name);
    if (value === undefined) {
      return undefined;
    }
    const isEntry = (item: unknown) => !!item && typeof item === 'object' && !Array.isArray(item)
      && fields.every(field => typeof (item as any)[field] === 'string');
    if (!Array.isArray(value) || !value.every(isEntry)) {
      throw this.error(name, value, `a JSON list of objects with string fields ${fields.join(', ')} is required`);
    }
    return value.map(item => Object.fromEntries(fields.map(field => [field, item[field]]))) as Array<{ [key in K]: string }>;
  }

  private raw(name: string): unknown {
    return this.properties?.[name];
  }

  private error(name: string, value: unknown, allowed: string): PropertyError {
    // Specs may hold secrets: their values never reach a message (and so never a log or CloudFormation's status reason).
    const shown = value === undefined ? 'missing'
      : SPEC_PROPERTIES.has(name) ? `got a ${typeof value} of ${JSON.stringify(value).length} characters (not shown: specs may hold secrets)`
        : `got ${JSON.stringify(value)}`;
    return new PropertyError(`${this.resourceType} property ${name}: ${allowed}, ${shown}`);
  }
}
