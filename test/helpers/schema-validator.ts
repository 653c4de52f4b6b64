/**
 * A JSON Schema (draft 2020-12) validator for tests: ajv, strict, with every error collected.
 */
import Ajv2020Module from 'ajv/dist/2020.js';

type Ajv2020Class = typeof Ajv2020Module;
const Ajv2020 = ((Ajv2020Module as unknown as { default?: Ajv2020Class }).default ?? Ajv2020Module) as Ajv2020Class;

export interface SchemaCheck {
  (value: unknown): string[];
}

/** A function that returns the schema's complaints about a value ([] when it is valid). */
export function schemaValidator(schema: object): SchemaCheck {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`));
}
