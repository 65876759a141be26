import { describe, expect, it } from 'vitest';
import { jsonErrorOffset } from '../../../src/config/json-position.js';

describe('jsonErrorOffset', () => {
  it('returns undefined for valid JSON, as JSON.parse agrees', () => {
    for (const text of ['{}', ' [1, -2.5e3, "a\\u00e9\\n", true, false, null, {"k": []}] ', '"x"']) {
      expect(() => JSON.parse(text) as unknown).not.toThrow();
      expect(jsonErrorOffset(text)).toBeUndefined();
    }
  });

  it('points at the first offending character', () => {
    expect(jsonErrorOffset('{"a": 1,}')).toBe(8);
    expect(jsonErrorOffset('{"a": bad}')).toBe(6);
    expect(jsonErrorOffset('{"a" 1}')).toBe(5);
    expect(jsonErrorOffset('[1 2]')).toBe(3);
    expect(jsonErrorOffset('{} x')).toBe(3);
    expect(jsonErrorOffset('"a\\x"')).toBe(2);
    expect(jsonErrorOffset('// comment\n{}')).toBe(0);
  });

  it('points at the end for truncated input', () => {
    expect(jsonErrorOffset('{"a": [1')).toBe(8);
    expect(jsonErrorOffset('"open')).toBe(5);
  });
});
