import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LiteralMatcher } from '../../../src/log/literal-matcher.js';

function naiveIndex(text: string, patterns: readonly string[], from = 0): number {
  const found = patterns.map((pattern) => text.indexOf(pattern, from)).filter((index) => index !== -1);
  return found.length === 0 ? -1 : Math.min(...found);
}

describe('LiteralMatcher', () => {
  it('finds the leftmost occurrence of any pattern', () => {
    const matcher = new LiteralMatcher(['secret-one', 'another-secret', 'zzzzzzzz']);
    expect(matcher.indexIn('nothing to see here, move along')).toBe(-1);
    expect(matcher.indexIn('xx another-secret yy secret-one')).toBe(3);
    expect(matcher.indexIn('secret-one at start')).toBe(0);
    expect(matcher.indexIn('ends with zzzzzzzz')).toBe(10);
    expect(matcher.indexIn('secret-one secret-one', 1)).toBe(11);
  });

  it('handles characters outside Latin-1 and patterns shorter than the text by one', () => {
    const matcher = new LiteralMatcher(['ключ-секрет', 'π≈3.14159']);
    expect(matcher.indexIn('значение: ключ-секрет!')).toBe(10);
    expect(matcher.indexIn('π≈3.14159')).toBe(0);
    expect(matcher.indexIn('π≈3.1415')).toBe(-1);
  });

  it('matches nothing with no patterns and refuses one-character patterns', () => {
    expect(new LiteralMatcher([]).indexIn('anything')).toBe(-1);
    expect(() => new LiteralMatcher(['a'])).toThrow(RangeError);
  });

  it('agrees with a naive search on random texts and patterns', () => {
    for (let round = 0; round < 150; round++) {
      const alphabet = 'abcAB+/=-_'.slice(0, randomInt(2, 10));
      const pick = (length: number) => Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
      const patterns = Array.from({ length: randomInt(1, 6) }, () => pick(randomInt(2, 12)));
      const text = pick(randomInt(0, 200)) + (round % 2 ? patterns[0] : '') + pick(randomInt(0, 50));
      const from = randomInt(0, 10);
      expect(new LiteralMatcher(patterns).indexIn(text, from), JSON.stringify({ patterns, text, from })).toBe(
        naiveIndex(text, patterns, from),
      );
    }
  });

  it('agrees with a naive search on realistic secrets in random base64', () => {
    const patterns = Array.from({ length: 20 }, () => randomBytes(24).toString('base64url'));
    const matcher = new LiteralMatcher(patterns);
    for (let round = 0; round < 50; round++) {
      const text =
        randomBytes(2000).toString('base64') + (round % 3 === 0 ? patterns[round % 20] : '') + randomBytes(100).toString('base64');
      expect(matcher.indexIn(text)).toBe(naiveIndex(text, patterns));
    }
  });
});
