import { describe, expect, it } from 'vitest';
import { newVerificationCode } from '../../../src/dialog/verification-code.js';

// Four and four characters, without 0/O, 1/I/L.
const CODE = /^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/;

describe('newVerificationCode', () => {
  it('is XXXX-XXXX over the unambiguous alphabet', () => {
    for (let i = 0; i < 1000; i++) {
      const code = newVerificationCode();
      expect(code).toMatch(CODE);
      expect(code).not.toMatch(/[01OIL]/);
    }
  });

  it('uses every character about equally often and rarely repeats a code', () => {
    const counts = new Map<string, number>();
    const codes = new Set<string>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const code = newVerificationCode();
      codes.add(code);
      for (const c of code.replace('-', '')) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.size).toBe(31);
    const expected = (n * 8) / 31;
    // Chi-square with 30 degrees of freedom: 59.7 is the 0.1% critical value.
    const chi2 = [...counts.values()].reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(59.7);
    expect(codes.size).toBeGreaterThan(n - 5); // 31^8 ≈ 8.5e11 codes
  });

  it('drops bytes that would bias the modulo (rejection sampling)', () => {
    // 248..255 would map to the first 8 characters a second time: they must be skipped, not wrapped.
    let calls = 0;
    const random = (size: number) => {
      calls++;
      return calls === 1 ? new Uint8Array(size).fill(250) : new Uint8Array(size).fill(30);
    };
    expect(newVerificationCode(random)).toBe('ZZZZ-ZZZZ');
    expect(calls).toBe(2);
  });
});
