import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation';

/**
 * The JSON Schema validator of our SDK `Server`s (the setup server and the aggregate's own), built at its first use.
 * The SDK's default builds an Ajv instance in the `Server` constructor (about 5 ms of CPU, in every aggregate start);
 * our servers need it only to check a form elicitation's answer, which most starts never ask for.
 */
export function lazySchemaValidator(): jsonSchemaValidator {
  let ajv: AjvJsonSchemaValidator | undefined;
  return { getValidator: (schema) => (ajv ??= new AjvJsonSchemaValidator()).getValidator(schema) };
}
