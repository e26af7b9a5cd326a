import { backwardIncompatibility, parseTemplateSchema, SchemaError, TemplateSchema, validateInputs } from '../src/private/schema';

/** A service schema with one input type, `In`, built from the given properties (YAML flow mappings). */
function serviceSchema(properties: string, extra = ''): TemplateSchema {
  return parseTemplateSchema([
    'schema:',
    '  format: { openapi: "3.0.0" }',
    '  service_input_type: In',
    '  types:',
    '    In:',
    '      type: object',
    '      properties:',
    ...properties.trim().split('\n').map(line => `        ${line.trim()}`),
    ...(extra ? [`      ${extra}`] : []),
  ].join('\n'));
}

function errorsOf(schema: TemplateSchema, inputs: unknown): string[] {
  return validateInputs(schema, 'In', inputs).errors.map(e => e.message);
}

describe('parseTemplateSchema', () => {
  const valid = [
    'schema:',
    '  format:',
    '    openapi: "3.0.0"',
    '  environment_input_type: EnvInput',
    '  types:',
    '    EnvInput:',
    '      type: object',
    '      properties:',
    '        vpc_cidr: { type: string, default: 10.0.0.0/16 }',
  ].join('\n');

  test('reads the input type names and the types as written', () => {
    const schema = parseTemplateSchema(valid);
    expect(schema.environmentInputType).toBe('EnvInput');
    expect(schema.serviceInputType).toBeUndefined();
    expect(schema.pipelineInputType).toBeUndefined();
    expect(schema.types.EnvInput.properties.vpc_cidr).toEqual({ type: 'string', default: '10.0.0.0/16' });
  });

  test('invalid YAML names the file', () => {
    expect(() => parseTemplateSchema('schema: [unclosed', 'v1/schema/schema.yaml')).toThrow(/^v1\/schema\/schema.yaml: not valid YAML/);
  });

  test('errors are SchemaErrors and name schema/schema.yaml by default', () => {
    expect(() => parseTemplateSchema('{}')).toThrow(SchemaError);
    expect(() => parseTemplateSchema('{}')).toThrow(/^schema\/schema.yaml: /);
  });

  test('the "schema" root key is required', () => {
    expect(() => parseTemplateSchema('format: { openapi: "3.0.0" }')).toThrow('schema/schema.yaml: the "schema" root key is required');
  });

  test('a key may appear once', () => {
    expect(() => parseTemplateSchema(`${valid}\n  types: {}`)).toThrow(/^schema\/schema.yaml: not valid YAML: Map keys must be unique/);
  });

  test('"schema" must be a mapping', () => {
    expect(() => parseTemplateSchema('schema: [1]')).toThrow('schema/schema.yaml: "schema" must be a mapping, got a list');
  });

  test('format.openapi must be "3.0.0"', () => {
    expect(() => parseTemplateSchema(valid.replace('"3.0.0"', '"3.1.0"')))
      .toThrow('schema/schema.yaml: schema.format.openapi must be "3.0.0", got string "3.1.0"');
    expect(() => parseTemplateSchema(valid.replace('  format:\n    openapi: "3.0.0"\n', '')))
      .toThrow('schema.format.openapi must be "3.0.0", got nothing');
  });

  test('types must be a non-empty mapping', () => {
    expect(() => parseTemplateSchema('schema:\n  format: { openapi: "3.0.0" }\n  types: {}'))
      .toThrow('schema/schema.yaml: schema.types must be a non-empty mapping of type names to data models, got a mapping');
  });

  test('a declared input type must be a type name', () => {
    expect(() => parseTemplateSchema(valid.replace('environment_input_type: EnvInput', 'environment_input_type: 3')))
      .toThrow('schema/schema.yaml: schema.environment_input_type must be the name of a type, got number 3');
  });

  test('a declared input type must exist in types', () => {
    expect(() => parseTemplateSchema(valid.replace('environment_input_type: EnvInput', 'environment_input_type: Missing')))
      .toThrow('schema/schema.yaml: schema.environment_input_type "Missing" is not defined in schema.types (types: EnvInput)');
  });

  test('each type must be an object type', () => {
    expect(() => parseTemplateSchema(valid.replace('      type: object', '      type: string')))
      .toThrow('schema/schema.yaml: schema.types.EnvInput must be an object type ("type: object"), got type string "string"');
  });

  test('properties must be a mapping', () => {
    expect(() => parseTemplateSchema(valid.replace(/properties:\n.*$/, 'properties: [vpc_cidr]')))
      .toThrow('schema.types.EnvInput.properties must be a mapping of input names to data models, got a list');
  });

  test('each property must be a data model', () => {
    expect(() => serviceSchema('port: 80')).toThrow('schema.types.In.properties.port must be a data model (a mapping), got number 80');
  });

  test('a property type must be a known type', () => {
    expect(() => serviceSchema('port: { type: float }'))
      .toThrow('schema.types.In.properties.port.type string "float" is not one of string, number, integer, boolean, array, object');
  });

  test('array items are checked too', () => {
    expect(() => serviceSchema('ports: { type: array, items: { type: int } }'))
      .toThrow('schema.types.In.properties.ports.items.type string "int" is not one of');
  });

  test('required must be a list of input names that are properties', () => {
    expect(() => serviceSchema('port: { type: number }', 'required: port'))
      .toThrow('schema.types.In.required must be a list of input names, got string "port"');
    expect(() => serviceSchema('port: { type: number }', 'required: [prot]'))
      .toThrow('schema.types.In.required lists "prot", which is not one of its properties (port)');
  });

  test('a pattern must be a valid regular expression', () => {
    expect(() => serviceSchema('name: { type: string, pattern: "([a-z" }'))
      .toThrow(/^schema\/schema.yaml: schema.types.In.properties.name.pattern string "\(\[a-z" is not a valid regular expression: /);
  });

  test('a data model the validator cannot compile is reported at parse time', () => {
    expect(() => serviceSchema('name: { type: string, minLength: -1 }'))
      .toThrow(/^schema\/schema.yaml: schema.types.In is not a valid data model: .*minLength/);
  });

  test('annotations such as title and description are accepted', () => {
    expect(() => serviceSchema('port: { type: number, title: Port, description: The port, example: 80 }')).not.toThrow();
  });
});

describe('validateInputs', () => {
  const schema = serviceSchema(`
    port: { type: number, default: 80, minimum: 0, maximum: 65535 }
    size: { type: string, enum: [small, large], default: small }
    vpc_cidr: { type: string, pattern: "^([0-9]{1,3}\\\\.){3}[0-9]{1,3}/(16|18|24)$" }
    name: { type: string, minLength: 3, maxLength: 8 }
    count: { type: integer, exclusiveMinimum: true, minimum: 0, exclusiveMaximum: true, maximum: 10 }
    enabled: { type: boolean }
    subnets: { type: array, items: { type: string, minLength: 3 }, minItems: 1, maxItems: 2 }
    database: { type: object, properties: { engine: { type: string } }, required: [engine] }
    tags: { type: object, properties: { team: { type: string } }, additionalProperties: false }
  `, 'required: [vpc_cidr]');
  const ok = { vpc_cidr: '10.0.0.0/16' };

  test('applies defaults and leaves the given inputs alone', () => {
    const given = { ...ok };
    const result = validateInputs(schema, 'In', given);
    expect(result.errors).toEqual([]);
    expect(result.inputs).toEqual({ vpc_cidr: '10.0.0.0/16', port: 80, size: 'small' });
    expect(given).toEqual(ok);
  });

  test('a required input without a default must be given', () => {
    expect(validateInputs(schema, 'In', {}).errors).toEqual([{ input: 'vpc_cidr', message: 'input "vpc_cidr" is required' }]);
  });

  test('a required input with a default may be omitted', () => {
    const withDefault = serviceSchema('ttl: { type: string, default: ttl }', 'required: [ttl]');
    expect(validateInputs(withDefault, 'In', undefined)).toEqual({ inputs: { ttl: 'ttl' }, errors: [] });
  });

  test('unknown inputs are errors that list the schema\'s inputs', () => {
    const onlyPort = serviceSchema('port: { type: number }\nsize: { type: string }');
    expect(validateInputs(onlyPort, 'In', { prot: 80 }).errors)
      .toEqual([{ input: 'prot', value: 80, message: 'unknown input "prot": the schema\'s inputs are port, size' }]);
  });

  test('allowUnknownInputs accepts undeclared inputs, keeps them, and still checks the declared ones', () => {
    const onlyPort = serviceSchema('port: { type: number, maximum: 100 }');
    expect(validateInputs(onlyPort, 'In', { prot: 80, port: 8 }, { allowUnknownInputs: true }))
      .toEqual({ inputs: { prot: 80, port: 8 }, errors: [] });
    expect(validateInputs(onlyPort, 'In', { prot: 80, port: 800 }, { allowUnknownInputs: true }).errors.map(e => e.message))
      .toEqual(['input "port": 800 is greater than the maximum 100']);
  });

  test('maximum and minimum', () => {
    expect(errorsOf(schema, { ...ok, port: 70000 })).toEqual(['input "port": 70000 is greater than the maximum 65535']);
    expect(errorsOf(schema, { ...ok, port: -1 })).toEqual(['input "port": -1 is less than the minimum 0']);
  });

  test('OpenAPI\'s boolean exclusiveMinimum and exclusiveMaximum', () => {
    expect(errorsOf(schema, { ...ok, count: 0 })).toEqual(['input "count": 0 must be greater than 0']);
    expect(errorsOf(schema, { ...ok, count: 10 })).toEqual(['input "count": 10 must be less than 10']);
    expect(errorsOf(schema, { ...ok, count: 5 })).toEqual([]);
  });

  test('enum', () => {
    expect(errorsOf(schema, { ...ok, size: 'huge' })).toEqual(['input "size": "huge" is not one of small, large']);
  });

  test('pattern', () => {
    expect(errorsOf(schema, { vpc_cidr: '10.0.0/16' })).toEqual(['input "vpc_cidr": "10.0.0/16" does not match the pattern ^([0-9]{1,3}\\.){3}[0-9]{1,3}/(16|18|24)$']);
  });

  test('minLength and maxLength', () => {
    expect(errorsOf(schema, { ...ok, name: 'ab' })).toEqual(['input "name": "ab" is shorter than the minimum length 3']);
    expect(errorsOf(schema, { ...ok, name: 'abcdefghi' })).toEqual(['input "name": "abcdefghi" is longer than the maximum length 8']);
  });

  test('minItems, maxItems and items, naming the element', () => {
    expect(errorsOf(schema, { ...ok, subnets: [] })).toEqual(['input "subnets": has 0 items, fewer than the minimum 1']);
    expect(errorsOf(schema, { ...ok, subnets: ['abc', 'de', 'fgh'] })).toEqual([
      'input "subnets": has 3 items, more than the maximum 2',
      'input "subnets[1]": "de" is shorter than the minimum length 3',
    ]);
  });

  test('nested object properties are named with a dot', () => {
    expect(validateInputs(schema, 'In', { ...ok, database: {} }).errors)
      .toEqual([{ input: 'database.engine', message: 'input "database.engine" is required' }]);
    expect(errorsOf(schema, { ...ok, tags: { team: 'a', owner: 'b' } })).toEqual(['unknown input "tags.owner": "tags" allows team']);
  });

  test('only the top level forbids unknown inputs: nested objects allow extra properties unless the schema says otherwise', () => {
    expect(errorsOf(schema, { ...ok, database: { engine: 'pg', size: 1 } })).toEqual([]);
  });

  test('types are not coerced: a string for a number, a number for a string, a string for a boolean', () => {
    expect(errorsOf(schema, { ...ok, port: '80' })).toEqual(['input "port": "80" is not a number']);
    expect(errorsOf(schema, { ...ok, name: 1234 })).toEqual(['input "name": 1234 is not a string']);
    expect(errorsOf(schema, { ...ok, enabled: 'yes' })).toEqual(['input "enabled": "yes" is not a boolean']);
    expect(errorsOf(schema, { ...ok, count: 1.5 })).toEqual(['input "count": 1.5 is not an integer']);
  });

  test('nullable inputs accept null; others do not', () => {
    const nullable = serviceSchema('note: { type: string, nullable: true }\nname: { type: string }');
    expect(errorsOf(nullable, { note: null })).toEqual([]);
    expect(errorsOf(nullable, { name: null })).toEqual(['input "name": null is not a string']);
  });

  test('other keywords keep the validator\'s words, still naming the input and the value', () => {
    const steps = serviceSchema('step: { type: number, multipleOf: 5 }');
    expect(errorsOf(steps, { step: 7 })).toEqual(['input "step": 7 must be multiple of 5']);
  });

  test('every problem is reported at once', () => {
    expect(errorsOf(schema, { port: 70000, size: 'huge', prot: 1 })).toHaveLength(4);
  });

  test('a type without properties declares no inputs', () => {
    const none = parseTemplateSchema('schema:\n  format: { openapi: "3.0.0" }\n  environment_input_type: In\n  types:\n    In: { type: object }');
    expect(errorsOf(none, { a: 1 })).toEqual(['unknown input "a": the schema declares no inputs']);
    expect(errorsOf(none, undefined)).toEqual([]);
  });

  test('inputs must be a mapping', () => {
    expect(validateInputs(schema, 'In', ['port']).errors)
      .toEqual([{ input: '', value: ['port'], message: 'inputs must be a mapping of input names to values, got a list' }]);
  });

  test('an unknown type name is a SchemaError naming the types', () => {
    expect(() => validateInputs(schema, 'Nope', {})).toThrow('the schema has no type "Nope" (types: In)');
  });

  test('equal schemas parsed twice validate alike', () => {
    const again = serviceSchema('port: { type: number, maximum: 10 }');
    const twice = serviceSchema('port: { type: number, maximum: 10 }');
    expect(errorsOf(again, { port: 11 })).toEqual(errorsOf(twice, { port: 11 }));
  });
});

describe('backwardIncompatibility', () => {
  const old = serviceSchema(`
    port: { type: number, default: 80 }
    size: { type: string, enum: [small, large] }
    name: { type: string }
  `);

  test('compatible changes: a new optional input, a widened enum, a new required input with a default', () => {
    const wider = serviceSchema(`
      port: { type: number, default: 80 }
      size: { type: string, enum: [small, medium, large] }
      name: { type: string }
      image: { type: string }
      region: { type: string, default: us-east-1 }
    `, 'required: [region]');
    expect(backwardIncompatibility(old, wider)).toBeUndefined();
    expect(backwardIncompatibility(old, old)).toBeUndefined();
  });

  test('a removed input', () => {
    const removed = serviceSchema('port: { type: number }\nsize: { type: string, enum: [small, large] }');
    expect(backwardIncompatibility(old, removed)).toBe('the new schema is not backward compatible: input "name" was removed');
  });

  test('integer widened to number is compatible; number narrowed to integer is not', () => {
    const integer = serviceSchema('count: { type: integer }');
    const number = serviceSchema('count: { type: number }');
    expect(backwardIncompatibility(integer, number)).toBeUndefined();
    expect(backwardIncompatibility(number, integer)).toBe('the new schema is not backward compatible: input "count" changed type from number to integer');
  });

  test('a changed type', () => {
    const changed = serviceSchema('port: { type: string }\nsize: { type: string, enum: [small, large] }\nname: { type: string }');
    expect(backwardIncompatibility(old, changed)).toMatch(/input "port" changed type from number to string/);
  });

  test('a narrowed enum, or an enum where there was none', () => {
    const narrowed = serviceSchema('port: { type: number }\nsize: { type: string, enum: [small] }\nname: { type: string, enum: [a] }');
    expect(backwardIncompatibility(old, narrowed)).toBe(
      'the new schema is not backward compatible: input "size" no longer allows large; input "name" no longer allows any other value');
  });

  test('a new required input without a default', () => {
    const required = serviceSchema('port: { type: number }\nsize: { type: string, enum: [small, large] }\nname: { type: string }\nimage: { type: string }',
      'required: [image, name]');
    expect(backwardIncompatibility(old, required)).toBe(
      'the new schema is not backward compatible: input "image" is newly required and has no default; input "name" is newly required and has no default');
  });

  test('nested object inputs are compared too', () => {
    const before = serviceSchema('database: { type: object, properties: { engine: { type: string }, size: { type: number } } }');
    const after = serviceSchema('database: { type: object, properties: { size: { type: number } } }');
    expect(backwardIncompatibility(before, after)).toBe('the new schema is not backward compatible: input "database.engine" was removed');
  });

  test('a removed pipeline input type', () => {
    const withPipeline = parseTemplateSchema([
      'schema:',
      '  format: { openapi: "3.0.0" }',
      '  service_input_type: In',
      '  pipeline_input_type: Pipe',
      '  types:',
      '    In: { type: object, properties: { port: { type: number } } }',
      '    Pipe: { type: object, properties: { dockerfile: { type: string } } }',
    ].join('\n'));
    const withoutPipeline = serviceSchema('port: { type: number }');
    expect(backwardIncompatibility(withPipeline, withoutPipeline)).toBe('the new schema is not backward compatible: pipeline_input_type "Pipe" was removed');
  });
});
