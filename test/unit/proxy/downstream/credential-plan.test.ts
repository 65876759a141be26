import { describe, expect, it } from 'vitest';
import { localServerSchema } from '../../../../src/config/schema.js';
import { withoutAbsent, missingSecretsError, planCredentials } from '../../../../src/proxy/downstream/credential-plan.js';

const server = localServerSchema.parse({
  command: 'srv',
  env: { A: '${secret:A}', B: 'prefix-${secret:B}', C: '${secret:C}', D: '${secret:D}', PLAIN: 'x' },
  secrets: { A: {}, B: { required: false }, C: { default: 'fallback' }, D: {} },
});

describe('planCredentials', () => {
  it('uses stored values, then defaults; reports required ones missing and optional ones absent', () => {
    const plan = planCredentials(server, new Map([['A', 'stored-a']]));
    expect(plan.values).toEqual(
      new Map([
        ['A', 'stored-a'],
        ['C', 'fallback'],
      ]),
    );
    expect(plan.missing).toEqual(['D']);
    expect(plan.absentOptional).toEqual(new Set(['B']));
  });

  it('leaves out env entries that use an absent optional secret', () => {
    expect(Object.keys(withoutAbsent(server.env, new Set(['B'])))).toEqual(['A', 'C', 'D', 'PLAIN']);
  });

  it('names every missing secret and the command that stores it', () => {
    const error = missingSecretsError('github', ['TOKEN', 'ORG'], undefined);
    expect(error.code).toBe('SECRET_MISSING');
    expect(error.exitCode).toBe(78);
    expect(error.message).toContain('mcp-keyproxy secrets set github TOKEN\n');
    expect(error.message).toContain('mcp-keyproxy secrets set github ORG');
    // The profile it was given, and no other process-wide one, is named.
    expect(missingSecretsError('github', ['TOKEN'], 'work').message).toContain('mcp-keyproxy secrets set github TOKEN --profile work');
  });
});
