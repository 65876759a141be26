import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../../src/proxy/aggregate/cursors.js';
import { PrefixedNames } from '../../../../src/proxy/aggregate/names.js';
import {
  HEALTHY_AFTER_MS,
  IMMEDIATE_FAILURE_MS,
  RestartBackoff,
  START_FAILURES_BEFORE_GIVING_UP,
} from '../../../../src/proxy/aggregate/restart.js';
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
  /** A server that comes up and crashes after `ms`, as often as asked: the delays it gets. */
  const crashesAfter = (backoff: RestartBackoff, clock: { now: number }, ms: number, times: number) =>
    Array.from({ length: times }, () => {
      backoff.up();
      clock.now += ms;
      return backoff.nextDelay();
    });

  it('doubles from 1 s up to 60 s, and starts over after 60 s of health', () => {
    const clock = { now: 0 };
    const backoff = new RestartBackoff(() => clock.now);
    // Each run lasts past the start-up window, so it is a crash, not a start-up failure.
    const delays = crashesAfter(backoff, clock, IMMEDIATE_FAILURE_MS, 8);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    expect(crashesAfter(backoff, clock, HEALTHY_AFTER_MS - 1, 1)).toEqual([60_000]);
    expect(crashesAfter(backoff, clock, HEALTHY_AFTER_MS, 1)).toEqual([1000]);
  });

  it('gives up after five start-up failures in a row (never up, or ended within the start-up window)', () => {
    const clock = { now: 0 };
    const backoff = new RestartBackoff(() => clock.now);
    expect([backoff.nextDelay(), backoff.nextDelay()]).toEqual([1000, 2000]); // never came up
    expect(crashesAfter(backoff, clock, IMMEDIATE_FAILURE_MS - 1, 2)).toEqual([4000, 8000]);
    expect(backoff.failuresInARow).toBe(START_FAILURES_BEFORE_GIVING_UP - 1);
    expect(backoff.nextDelay()).toBeUndefined();
  });

  it('counts only failures in a row: a run past the start-up window starts the count again', () => {
    const clock = { now: 0 };
    const backoff = new RestartBackoff(() => clock.now);
    for (let i = 0; i < START_FAILURES_BEFORE_GIVING_UP - 1; i++) expect(backoff.nextDelay()).toBeDefined();
    expect(crashesAfter(backoff, clock, IMMEDIATE_FAILURE_MS, 1)[0]).toBeDefined();
    expect(backoff.failuresInARow).toBe(0);
    for (let i = 0; i < START_FAILURES_BEFORE_GIVING_UP - 1; i++) expect(backoff.nextDelay()).toBeDefined();
    expect(backoff.nextDelay()).toBeUndefined();
  });
});
