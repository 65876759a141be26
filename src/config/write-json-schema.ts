import { writeFile, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { packageRoot } from '../package-root.js';
import { proxyConfigSchema } from './schema.js';

type JsonObject = Record<string, unknown>;

/** Where the shipped JSON Schema lives: `<package root>/schema/`. */
export const jsonSchemaPath = path.join(packageRoot, 'schema', 'proxy.config.schema.json');

/** The JSON Schema of proxy.config.json (input side: fields with defaults are optional). */
export function buildJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(proxyConfigSchema, { io: 'input', target: 'draft-2020-12' }) as JsonObject;
  const properties = schema.properties as Record<'servers' | 'mcpServers', JsonObject>;
  // `servers` and `mcpServers` share one server definition instead of two inlined copies.
  const server = properties.servers.additionalProperties;
  properties.servers.additionalProperties = { $ref: '#/$defs/server' };
  properties.mcpServers.additionalProperties = { $ref: '#/$defs/server' };
  // Exactly one of the two spellings; the loader says the same in words.
  return { ...schema, oneOf: [{ required: ['servers'] }, { required: ['mcpServers'] }], $defs: { server } };
}

/** The file content written to `jsonSchemaPath` (stable formatting, trailing newline). */
export function renderJsonSchema(): string {
  return `${JSON.stringify(buildJsonSchema(), null, 2)}\n`;
}

/** Writes the JSON Schema file; returns its path. */
async function writeJsonSchema(target: string = jsonSchemaPath): Promise<string> {
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, renderJsonSchema());
  return target;
}

// Run as a script by `npm run build`; importing the module (tests) writes nothing.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeJsonSchema();
}
