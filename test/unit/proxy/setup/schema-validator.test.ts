import { describe, expect, it, vi } from 'vitest';

// Counts the Ajv instances built, to see that none is built before the first validation.
const built = vi.hoisted(() => ({ count: 0 }));
vi.mock('@modelcontextprotocol/sdk/validation/ajv', async (original) => {
  const { AjvJsonSchemaValidator } = await original<typeof import('@modelcontextprotocol/sdk/validation/ajv')>();
  return {
    AjvJsonSchemaValidator: class extends AjvJsonSchemaValidator {
      constructor() {
        super();
        built.count += 1;
      }
    },
  };
});

const { lazySchemaValidator } = await import('../../../../src/proxy/setup/schema-validator.js');

describe('the JSON Schema validator of our SDK servers', () => {
  it('builds Ajv at its first use, once, and validates as Ajv does', () => {
    const validator = lazySchemaValidator();
    expect(built.count).toBe(0);
    const check = validator.getValidator({
      type: 'object',
      properties: { answer: { type: 'string', enum: ['yes', 'no'] } },
      required: ['answer'],
    });
    expect(check({ answer: 'yes' })).toMatchObject({ valid: true });
    expect(check({ answer: 'maybe' })).toMatchObject({ valid: false });
    expect(check({})).toMatchObject({ valid: false });
    validator.getValidator({ type: 'object' });
    expect(built.count).toBe(1);
  });
});
