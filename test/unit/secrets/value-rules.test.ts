import { describe, expect, it } from 'vitest';
import { ExitCode, KeyproxyError } from '../../../src/errors.js';
import { assertInjectableValue, injectionProblem, MAX_VALUE_BYTES } from '../../../src/secrets/value-rules.js';

describe('injectionProblem', () => {
  it('accepts what an environment variable carries intact: any text, newlines, emoji, up to the limit', () => {
    for (const value of [
      'sk-live-0123456789',
      'line one\nline two',
      '-----BEGIN KEY-----\r\nabc\r\n',
      'ключ-🔑',
      'k'.repeat(MAX_VALUE_BYTES),
    ])
      expect(injectionProblem(value)).toBeUndefined();
  });

  it('refuses a NUL byte, a lone surrogate, and a value over the limit (counted in UTF-8 bytes)', () => {
    expect(injectionProblem('abc\u0000def')).toContain('NUL byte');
    expect(injectionProblem('abc\uD800def')).toContain('lone UTF-16 surrogate');
    expect(injectionProblem('abc\uDC00')).toContain('lone UTF-16 surrogate');
    expect(injectionProblem('k'.repeat(MAX_VALUE_BYTES + 1))).toContain(`${MAX_VALUE_BYTES + 1} bytes long`);
    expect(injectionProblem('é'.repeat(MAX_VALUE_BYTES / 2 + 1))).toContain('bytes long');
  });

  it('says what is wrong with SECRET_INVALID (exit code 2), naming the secret and never the value', () => {
    let caught: unknown;
    try {
      assertInjectableValue('TOKEN', 'ghp_visible-part\u0000rest');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KeyproxyError);
    expect((caught as KeyproxyError).exitCode).toBe(ExitCode.usage);
    expect((caught as Error).message).toBe(
      'The value for TOKEN cannot be passed to a server: it contains a NUL byte, which no environment variable can hold. Nothing was stored.',
    );
  });
});
