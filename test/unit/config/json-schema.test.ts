import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildJsonSchema, jsonSchemaPath, renderJsonSchema } from '../../../src/config/write-json-schema.js';

describe('shipped JSON Schema', () => {
  it('is up to date with the zod schema (run `npm run build` to regenerate)', async () => {
    expect(await readFile(jsonSchemaPath, 'utf8')).toBe(renderJsonSchema());
  });

  it('describes the input side: fields with defaults are optional', () => {
    const schema = buildJsonSchema() as {
      $defs: { server: { anyOf: Array<{ required?: string[]; properties: Record<string, unknown> }> } };
    };
    const [local, remote] = schema.$defs.server.anyOf;
    expect(local?.required).toEqual(['command']);
    expect(remote?.required).toEqual(['url']);
    expect(local?.properties).toHaveProperty('secrets');
  });

  it('is referenced by the example config', async () => {
    const example = JSON.parse(await readFile(new URL('../../../proxy.config.example.json', import.meta.url), 'utf8')) as {
      $schema: string;
    };
    expect(example.$schema).toBe('./schema/proxy.config.schema.json');
  });
});
