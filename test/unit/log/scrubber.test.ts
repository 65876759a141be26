import { describe, expect, it } from 'vitest';
import { Scrubber } from '../../../src/log/scrubber.js';

describe('Scrubber', () => {
  const value = 'sk-test/VALUE+with"quote\\and&more';
  const scrubber = new Scrubber();
  scrubber.add('github/TOKEN', value);

  it('replaces the raw value and says which secret it was', () => {
    expect(scrubber.scrub(`key=${value}; again ${value}`)).toBe('key=[REDACTED:github/TOKEN]; again [REDACTED:github/TOKEN]');
  });

  it.each([
    ['base64', Buffer.from(value).toString('base64')],
    ['base64 without padding', Buffer.from(value).toString('base64').replace(/=+$/, '')],
    ['base64url', Buffer.from(value).toString('base64url')],
    ['percent-encoded', encodeURIComponent(value)],
    ['JSON-escaped', JSON.stringify(value).slice(1, -1)],
  ])('replaces the %s form', (_form, encoded) => {
    expect(scrubber.scrub(`before ${encoded} after`)).toBe('before [REDACTED:github/TOKEN] after');
  });

  it('scrubs JSON messages and keeps them valid, returning the same object when nothing matched', () => {
    const clean = { result: { text: 'nothing here' } };
    expect(scrubber.scrubJson(clean)).toBe(clean);
    const leaked = scrubber.scrubJson({ result: { text: `token is ${value}` } });
    expect(leaked).toEqual({ result: { text: 'token is [REDACTED:github/TOKEN]' } });
  });

  it('ignores values shorter than 8 characters', () => {
    const short = new Scrubber();
    short.add('s/short', 'abc1234');
    expect(short.active).toBe(false);
    expect(short.scrub('abc1234')).toBe('abc1234');
  });

  it('prefers the longer of two overlapping secrets', () => {
    const overlapping = new Scrubber();
    overlapping.add('a/SHORT', 'secret-value');
    overlapping.add('a/LONG', 'secret-value-extended');
    expect(overlapping.scrub('x secret-value-extended y secret-value')).toBe('x [REDACTED:a/LONG] y [REDACTED:a/SHORT]');
  });
});
