import { isDeepStrictEqual } from 'node:util';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';

/**
 * A template's `schema/schema.yaml`, parsed and checked: the names of its input types and the OpenAPI 3.0 data models as written.
 */
export interface TemplateSchema {
  readonly environmentInputType?: string;
  readonly serviceInputType?: string;
  readonly pipelineInputType?: string;
  /** OpenAPI 3.0 data models as written, by type name. */
  readonly types: { [name: string]: any };
}

/** A schema file that Proton would refuse; the message names the file and the rule. */
export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

/** One problem with a spec's inputs, in plain words. */
export interface InputError {
  /** The input's path: `port`, `subnets[1]`, `database.name`; empty for the inputs as a whole. */
  readonly input: string;
  readonly value?: unknown;
  readonly message: string;
}

/** The inputs with defaults applied, and every problem found. */
export interface InputValidation {
  readonly inputs: { [name: string]: unknown };
  readonly errors: InputError[];
}

const DEFAULT_SCHEMA_FILE = 'schema/schema.yaml';
const INPUT_TYPE_KEYS = {
  environmentInputType: 'environment_input_type',
  serviceInputType: 'service_input_type',
  pipelineInputType: 'pipeline_input_type',
} as const;
const TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object'];

/**
 * Parses a template's schema.yaml and checks the rules Proton applies at registration.
 * Every input type is compiled too, so a bad pattern or keyword is reported here rather than at deployment.
 *
 * @throws SchemaError naming the file and the rule
 */
export function parseTemplateSchema(text: string, fileName: string = DEFAULT_SCHEMA_FILE): TemplateSchema {
  const fail = (rule: string): never => {
    throw new SchemaError(`${fileName}: ${rule}`);
  };
  let document: unknown;
  try {
    // 'error' throws on errors without printing warnings (such as unknown tags) to the console.
    document = parseYaml(text, { logLevel: 'error' });
  } catch (e) {
    return fail(`not valid YAML: ${(e as Error).message}`);
  }
  if (!isMapping(document) || !('schema' in document)) {
    return fail('the "schema" root key is required');
  }
  const root = document.schema;
  if (!isMapping(root)) {
    return fail(`"schema" must be a mapping, got ${describe(root)}`);
  }
  const openapi = isMapping(root.format) ? root.format.openapi : undefined;
  if (openapi !== '3.0.0') {
    fail(`schema.format.openapi must be "3.0.0", got ${describe(openapi)}`);
  }
  const types = root.types;
  if (!isMapping(types) || Object.keys(types).length === 0) {
    return fail(`schema.types must be a non-empty mapping of type names to data models, got ${describe(types)}`);
  }

  const inputTypes: { -readonly [K in keyof typeof INPUT_TYPE_KEYS]?: string } = {};
  for (const [field, key] of Object.entries(INPUT_TYPE_KEYS) as Array<[keyof typeof INPUT_TYPE_KEYS, string]>) {
    const name = root[key];
    if (name === undefined) continue;
    if (typeof name !== 'string' || name === '') {
      return fail(`schema.${key} must be the name of a type, got ${describe(name)}`);
    }
    if (!Object.hasOwn(types, name)) {
      fail(`schema.${key} "${name}" is not defined in schema.types (types: ${Object.keys(types).join(', ')})`);
    }
    inputTypes[field] = name;
  }

  const schema: TemplateSchema = { ...inputTypes, types };
  for (const [name, model] of Object.entries(types)) {
    checkObjectType(model, `schema.types.${name}`, fail);
    try {
      compile(schema, name);
    } catch (e) {
      fail(`schema.types.${name} is not a valid data model: ${(e as Error).message}`);
    }
  }
  return schema;
}

function checkObjectType(model: unknown, where: string, fail: (rule: string) => never): void {
  if (!isMapping(model) || model.type !== 'object') {
    fail(`${where} must be an object type ("type: object"), got ${isMapping(model) ? `type ${describe(model.type)}` : describe(model)}`);
    return;
  }
  const properties = model.properties ?? {};
  if (!isMapping(properties)) {
    fail(`${where}.properties must be a mapping of input names to data models, got ${describe(properties)}`);
    return;
  }
  for (const [input, property] of Object.entries(properties)) {
    checkModel(property, `${where}.properties.${input}`, fail);
  }
  const required = model.required ?? [];
  if (!Array.isArray(required) || required.some(r => typeof r !== 'string')) {
    fail(`${where}.required must be a list of input names, got ${describe(required)}`);
    return;
  }
  for (const name of required) {
    if (!Object.hasOwn(properties, name)) {
      fail(`${where}.required lists "${name}", which is not one of its properties (${Object.keys(properties).join(', ')})`);
    }
  }
}

function checkModel(model: unknown, where: string, fail: (rule: string) => never): void {
  if (!isMapping(model)) {
    fail(`${where} must be a data model (a mapping), got ${describe(model)}`);
    return;
  }
  if (model.type !== undefined && !TYPES.includes(model.type as string)) {
    fail(`${where}.type ${describe(model.type)} is not one of ${TYPES.join(', ')}`);
  }
  if (model.type === 'object' && model.properties !== undefined) {
    checkObjectType(model, where, fail);
  }
  if (model.pattern !== undefined) {
    try {
      new RegExp(model.pattern as string);
    } catch (e) {
      fail(`${where}.pattern ${describe(model.pattern)} is not a valid regular expression: ${(e as Error).message}`);
    }
  }
  if (model.items !== undefined) {
    checkModel(model.items, `${where}.items`, fail);
  }
}

/** How strictly `validateInputs` treats the spec. */
export interface InputValidationOptions {
  /**
   * Accept inputs the type does not declare. proton-local sets it: Proton itself evidently accepts them (AWS's own
   * lambda-multi-svc sample spec passes `packaging_commands` to a schema that declares `packaging_command`). The
   * constructs leave it off, so a misspelt input is caught at synth time.
   * @default false
   */
  readonly allowUnknownInputs?: boolean;
}

/**
 * Validates a spec's inputs against `schema.types[typeName]`: applies defaults, reports every problem,
 * and (unless allowed) treats inputs the type does not declare as errors. Values are not coerced: a YAML string for
 * a number input is an error.
 */
export function validateInputs(schema: TemplateSchema, typeName: string, inputs: unknown,
  options: InputValidationOptions = {}): InputValidation {
  if (!Object.hasOwn(schema.types, typeName)) {
    throw new SchemaError(`the schema has no type "${typeName}" (types: ${Object.keys(schema.types).join(', ')})`);
  }
  const given = inputs ?? {};
  if (!isMapping(given)) {
    return {
      inputs: {},
      errors: [{ input: '', value: given, message: `inputs must be a mapping of input names to values, got ${describe(given)}` }],
    };
  }
  const data = structuredClone(given);
  const validate = compile(schema, typeName, options.allowUnknownInputs ?? false);
  if (validate(data)) {
    return { inputs: data, errors: [] };
  }
  return { inputs: data, errors: (validate.errors ?? []).map(e => toInputError(e, schema.types[typeName])) };
}

/**
 * Proton's best-effort check that a new minor version's schema accepts every spec the old one accepted.
 *
 * @returns a message naming each incompatible input, or undefined when compatible
 */
export function backwardIncompatibility(oldSchema: TemplateSchema, newSchema: TemplateSchema): string | undefined {
  const problems: string[] = [];
  for (const [field, key] of Object.entries(INPUT_TYPE_KEYS) as Array<[keyof typeof INPUT_TYPE_KEYS, string]>) {
    const oldName = oldSchema[field];
    if (oldName === undefined) continue;
    const newName = newSchema[field];
    if (newName === undefined) {
      problems.push(`${key} "${oldName}" was removed`);
      continue;
    }
    compareModels(oldSchema.types[oldName], newSchema.types[newName], '', problems);
  }
  return problems.length === 0 ? undefined : `the new schema is not backward compatible: ${problems.join('; ')}`;
}

function compareModels(oldModel: any, newModel: any, path: string, problems: string[]): void {
  const named = (input: string) => `input "${path}${input}"`;
  const oldProperties: { [name: string]: any } = oldModel?.properties ?? {};
  const newProperties: { [name: string]: any } = newModel?.properties ?? {};
  for (const [input, oldProperty] of Object.entries(oldProperties)) {
    const newProperty = newProperties[input];
    if (newProperty === undefined) {
      problems.push(`${named(input)} was removed`);
      continue;
    }
    // Every integer is a number: widening integer to number keeps old specs valid.
    if (oldProperty.type !== newProperty.type && !(oldProperty.type === 'integer' && newProperty.type === 'number')) {
      problems.push(`${named(input)} changed type from ${oldProperty.type ?? 'any'} to ${newProperty.type ?? 'any'}`);
      continue;
    }
    if (Array.isArray(newProperty.enum)) {
      const dropped = Array.isArray(oldProperty.enum)
        ? oldProperty.enum.filter((v: unknown) => !newProperty.enum.some((n: unknown) => isDeepStrictEqual(n, v)))
        : ['any other value'];
      if (dropped.length > 0) {
        problems.push(`${named(input)} no longer allows ${dropped.join(', ')}`);
      }
    }
    if (newProperty.type === 'object') {
      compareModels(oldProperty, newProperty, `${path}${input}.`, problems);
    }
  }
  const oldRequired = requiredWithoutDefault(oldModel);
  for (const input of requiredWithoutDefault(newModel)) {
    if (!oldRequired.includes(input)) {
      problems.push(`${named(input)} is newly required and has no default`);
    }
  }
}

function requiredWithoutDefault(model: any): string[] {
  const required: string[] = Array.isArray(model?.required) ? model.required : [];
  return required.filter(name => model.properties?.[name]?.default === undefined);
}

// One compiler for every schema: compiled validators are cached by the JSON Schema's text, so equal schemas
// parsed twice (proton-local reloading its state, say) share a validator.
const ajv = new Ajv({
  useDefaults: true,
  allErrors: true,
  verbose: true,
  // OpenAPI annotations (title, description, example...) are not JSON Schema keywords.
  strict: false,
  // Proton's patterns are not written for JavaScript's unicode mode, which rejects escapes such as "\-".
  unicodeRegExp: false,
});
const validators = new Map<string, ValidateFunction>();

function compile(schema: TemplateSchema, typeName: string, allowUnknownInputs = false): ValidateFunction {
  const jsonSchema = { ...toJsonSchema(schema.types[typeName]), additionalProperties: allowUnknownInputs };
  const key = JSON.stringify(jsonSchema);
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(jsonSchema);
    validators.set(key, validate);
  }
  return validate;
}

const SCHEMA_KEYWORDS = ['type', 'enum', 'default', 'pattern', 'minimum', 'maximum', 'minLength', 'maxLength',
  'minItems', 'maxItems', 'uniqueItems', 'multipleOf', 'required', 'minProperties', 'maxProperties'];
const SUBSCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf'];

/** Translates an OpenAPI 3.0 data model to JSON Schema (draft 7), keeping only validation keywords. */
function toJsonSchema(model: any): any {
  if (!isMapping(model)) return {};
  const json: { [key: string]: any } = {};
  for (const keyword of SCHEMA_KEYWORDS) {
    if (model[keyword] !== undefined) json[keyword] = model[keyword];
  }
  // OpenAPI 3.0 (like JSON Schema draft 4) writes exclusive bounds as booleans beside minimum/maximum.
  if (model.exclusiveMinimum === true && model.minimum !== undefined) {
    json.exclusiveMinimum = model.minimum;
    delete json.minimum;
  }
  if (model.exclusiveMaximum === true && model.maximum !== undefined) {
    json.exclusiveMaximum = model.maximum;
    delete json.maximum;
  }
  if (model.nullable === true && typeof model.type === 'string') {
    json.type = [model.type, 'null'];
  }
  if (model.items !== undefined) json.items = toJsonSchema(model.items);
  if (isMapping(model.properties)) {
    json.properties = Object.fromEntries(Object.entries(model.properties).map(([k, v]) => [k, toJsonSchema(v)]));
  }
  if (model.additionalProperties !== undefined) {
    json.additionalProperties = typeof model.additionalProperties === 'boolean'
      ? model.additionalProperties
      : toJsonSchema(model.additionalProperties);
  }
  for (const keyword of SUBSCHEMA_LIST_KEYWORDS) {
    if (Array.isArray(model[keyword])) json[keyword] = model[keyword].map(toJsonSchema);
  }
  if (model.not !== undefined) json.not = toJsonSchema(model.not);
  return json;
}

function toInputError(error: ErrorObject, model: any): InputError {
  const path = inputPath(error.instancePath);
  const value = error.data;
  const params: any = error.params;
  const at = (input: string, message: string): InputError => ({ input, value, message: `input "${input}": ${message}` });
  switch (error.keyword) {
    case 'required': {
      const input = joinPath(path, params.missingProperty);
      return { input, message: `input "${input}" is required` };
    }
    case 'additionalProperties': {
      const input = joinPath(path, params.additionalProperty);
      const allowed = Object.keys(path === '' ? model.properties ?? {} : error.parentSchema?.properties ?? {}).join(', ');
      const known = path === ''
        ? (allowed ? `the schema's inputs are ${allowed}` : 'the schema declares no inputs')
        : (allowed ? `"${path}" allows ${allowed}` : `"${path}" allows no properties`);
      const message = `unknown input "${input}": ${known}`;
      return { input, value: (value as any)?.[params.additionalProperty], message };
    }
    case 'type':
      return at(path, `${show(value)} is not ${article(params.type)}`);
    case 'enum':
      return at(path, `${show(value)} is not one of ${params.allowedValues.map(plain).join(', ')}`);
    case 'minimum':
      return at(path, `${show(value)} is less than the minimum ${params.limit}`);
    case 'maximum':
      return at(path, `${show(value)} is greater than the maximum ${params.limit}`);
    case 'exclusiveMinimum':
      return at(path, `${show(value)} must be greater than ${params.limit}`);
    case 'exclusiveMaximum':
      return at(path, `${show(value)} must be less than ${params.limit}`);
    case 'minLength':
      return at(path, `${show(value)} is shorter than the minimum length ${params.limit}`);
    case 'maxLength':
      return at(path, `${show(value)} is longer than the maximum length ${params.limit}`);
    case 'minItems':
      return at(path, `has ${(value as unknown[]).length} items, fewer than the minimum ${params.limit}`);
    case 'maxItems':
      return at(path, `has ${(value as unknown[]).length} items, more than the maximum ${params.limit}`);
    case 'pattern':
      return at(path, `${show(value)} does not match the pattern ${params.pattern}`);
    default:
      return at(path, `${show(value)} ${error.message}`);
  }
}

/** `/subnets/1/name` → `subnets[1].name` */
function inputPath(instancePath: string): string {
  return instancePath.split('/').slice(1).reduce((path, segment) => {
    const name = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(name) ? `${path}[${name}]` : joinPath(path, name);
  }, '');
}

function joinPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function article(type: string | string[]): string {
  const types = Array.isArray(type) ? type : type.split(',');
  return types.map(t => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`)).join(' or ');
}

function show(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

function plain(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function isMapping(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
