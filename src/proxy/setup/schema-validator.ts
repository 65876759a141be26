import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation';

/**
 * The JSON Schema validator of our one SDK `Server`, the setup server, built at its first use. The SDK's default
 * builds an Ajv instance in the `Server` constructor (about 5 ms of CPU, in every start that shows a setup tool); the
 * setup server needs it only to check a form elicitation's answer, which most starts never ask for.
 */
export function lazySchemaValidator(): jsonSchemaValidator {
  let ajv: AjvJsonSchemaValidator | undefined;
  return { getValidator: (schema) => (ajv ??= new AjvJsonSchemaValidator()).getValidator(schema) };
}
