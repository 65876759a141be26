import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../../src/proxy/aggregate/cursors.js';
import { PrefixedNames } from '../../../../src/proxy/aggregate/names.js';
import { HEALTHY_AFTER_MS, RestartBackoff } from '../../../../src/proxy/aggregate/restart.js';
import { toolPredicate } from '../../../../src/proxy/aggregate/tool-filter.js';

describe('PrefixedNames', () => {
  it('prefixes and splits at the longest matching server name', () => {
    const names = new PrefixedNames(['a', 'a__b', 'github'], '__');
    expect(names.prefix('github', 'create_issue')).toBe('github__create_issue');
    expect(names.parse('github__create_issue')).toEqual({ server: 'github', name: 'create_issue' });
    expect(names.parse('a__b__tool')).toEqual({ server: 'a__b', name: 'tool' });
    expect(names.parse('a__tool')).toEqual({ server: 'a', name: 'tool' });
    expect(names.parse('unknown__tool')).toBeUndefined();
    expect(names.parse('github__')).toBeUndefined();
  });

  it('uses the configured separator', () => {
    const names = new PrefixedNames(['fs'], '.');
    expect(names.prefix('fs', 'read')).toBe('fs.read');
    expect(names.parse('fs.read')).toEqual({ server: 'fs', name: 'read' });
    expect(names.parse('fs__read')).toBeUndefined();
  });
});

describe('cursors', () => {
  it('round-trips the servers still to follow, with or without their own cursor', () => {
    const cursor = encodeCursor(
      'tools/list',
      new Map([
        ['a', 'page-2'],
        ['b', undefined],
      ]),
    );
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor('tools/list', cursor!)).toEqual(
      new Map([
        ['a', 'page-2'],
        ['b', undefined],
      ]),
    );
  });

  it('has no cursor when nothing is left', () => {
    expect(encodeCursor('tools/list', new Map())).toBeUndefined();
  });

  it('refuses a cursor of another list or one it did not issue', () => {
    const cursor = encodeCursor('prompts/list', new Map([['a', 'x']]))!;
    expect(() => decodeCursor('tools/list', cursor)).toThrow(/Invalid cursor/);
    expect(() => decodeCursor('tools/list', 'not-a-cursor')).toThrow(/Invalid cursor/);
    expect(() => decodeCursor('tools/list', Buffer.from('{"m":"tools/list","s":{"a":1}}').toString('base64url'))).toThrow(/Invalid cursor/);
  });
});

describe('toolPredicate', () => {
  it('allows everything without a filter', () => {
    expect(toolPredicate(undefined)('anything')).toBe(true);
  });

  it('applies allow globs, then deny globs', () => {
    const allowed = toolPredicate({ allow: ['read_*', 'list?'], deny: ['read_secret*'] });
    expect(allowed('read_file')).toBe(true);
    expect(allowed('lists')).toBe(true);
    expect(allowed('list')).toBe(false);
    expect(allowed('write_file')).toBe(false);
    expect(allowed('read_secret_key')).toBe(false);
  });

  it('treats regular-expression characters literally', () => {
    const allowed = toolPredicate({ deny: ['a.b', 'x+'] });
    expect(allowed('a.b')).toBe(false);
    expect(allowed('axb')).toBe(true);
    expect(allowed('xx')).toBe(true);
  });
});

describe('RestartBackoff', () => {
  it('doubles from 1 s up to 60 s, and starts over after 60 s of health', () => {
    let now = 0;
    const backoff = new RestartBackoff(() => now);
    const delays = Array.from({ length: 8 }, () => backoff.nextDelay());
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    backoff.up();
    now += HEALTHY_AFTER_MS - 1;
    expect(backoff.nextDelay()).toBe(60_000);
    backoff.up();
    now += HEALTHY_AFTER_MS;
    expect(backoff.nextDelay()).toBe(1000);
  });
});
