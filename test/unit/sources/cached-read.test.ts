import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../src/secrets/memory-store.js';
import { readWithCache, type CachedReadDeps } from '../../../src/sources/cached-read.js';
import { cachePolicy } from '../../../src/sources/cache-policy.js';
import { durationMs } from '../../../src/sources/duration.js';
import { CACHE_ITEM_ACCOUNT } from '../../../src/secrets/store.js';
import { SourceCache, type CacheEntry } from '../../../src/sources/source-cache.js';
import type { SourceRequest } from '../../../src/sources/read-sources.js';

const opDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/op');
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const ref = 'op://Agents/Deploy/token';
const request: SourceRequest = { secret: 'TOKEN', source: { kind: 'op', reference: ref } };

/** A fixture-op world: its vault, a log of its calls, a cache in memory and a clock moved by hand. */
async function world(value = 'vault-value-1') {
  const dir = await mkdtemp(path.join(tmpdir(), 'keyproxy-cache-'));
  dirs.push(dir);
  const log = path.join(dir, 'op.log');
  const store = new MemoryStore();
  let now = 1_000_000;
  const env: NodeJS.ProcessEnv = {
    PATH: `${opDir}:${process.env.PATH ?? ''}`,
    OP_SERVICE_ACCOUNT_TOKEN: 'ops_fixture',
    OP_FIXTURE_ITEMS: JSON.stringify({ [ref]: value }),
    OP_FIXTURE_LOG: log,
  };
  const deps: CachedReadDeps = { env, cache: new SourceCache(store), now: () => now };
  return {
    store,
    deps,
    env,
    advance: (ms: number) => (now += ms),
    opCalls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).length,
  };
}

/** One secret's entry in the server's cache item, as stored. */
async function stored(store: MemoryStore, name: string): Promise<unknown> {
  const item = JSON.parse((await store.get('srv', CACHE_ITEM_ACCOUNT))!) as { entries: Record<string, CacheEntry> };
  return item.entries[name];
}

describe('the keychain cache of op:// and command values', () => {
  it('parses durations', () => {
    expect(durationMs('4h')).toBe(4 * 3_600_000);
    expect(durationMs('90s')).toBe(90_000);
    expect(durationMs('1.5m')).toBe(90_000);
    expect(durationMs('0')).toBe(0);
    expect(cachePolicy(undefined)).toEqual({ ttlMs: 4 * 3_600_000, stale: 'warn' });
  });

  it('hands the write of a start to holdWrite: nothing is cached until it runs the write', async () => {
    const w = await world();
    let held: (() => Promise<void>) | undefined;
    const read = await readWithCache('srv', [request], cachePolicy({ ttl: '1h', stale: 'warn' }), {
      ...w.deps,
      holdWrite: (write) => {
        held = write;
        return Promise.resolve();
      },
    });
    expect(read.outcomes[0]).toMatchObject({ how: 'read', value: 'vault-value-1' });
    await read.written;
    expect(await w.store.get('srv', CACHE_ITEM_ACCOUNT)).toBeNull();
    await held!();
    expect(await stored(w.store, 'TOKEN')).toMatchObject({ source: ref, value: 'vault-value-1' });
  });

  it('uses a fresh entry without running op, and reads an expired one again', async () => {
    const w = await world();
    const first = await readWithCache('srv', [request], cachePolicy({ ttl: '1h', stale: 'warn' }), w.deps);
    await first.written;
    expect(first.outcomes[0]).toMatchObject({ how: 'read', value: 'vault-value-1' });
    expect(await w.opCalls()).toBe(1);
    // The value is kept in the server's item under the secret's name, with the reference it came from.
    expect(await stored(w.store, 'TOKEN')).toMatchObject({ source: ref, value: 'vault-value-1' });

    w.advance(59 * 60_000);
    const second = await readWithCache('srv', [request], cachePolicy({ ttl: '1h', stale: 'warn' }), w.deps);
    expect(second.outcomes[0]).toMatchObject({ how: 'fresh', value: 'vault-value-1' });
    expect(await w.opCalls()).toBe(1);

    w.advance(2 * 60_000);
    w.env.OP_FIXTURE_ITEMS = JSON.stringify({ [ref]: 'vault-value-2' });
    const third = await readWithCache('srv', [request], cachePolicy({ ttl: '1h', stale: 'warn' }), w.deps);
    expect(third.outcomes[0]).toMatchObject({ how: 'read', value: 'vault-value-2' });
    expect(await w.opCalls()).toBe(2);
  });

  it('with the source down: an expired value is used ("warn", "use") or refused ("fail"); nothing cached is an error', async () => {
    const w = await world();
    await (
      await readWithCache('srv', [request], cachePolicy({ ttl: '10s', stale: 'warn' }), w.deps)
    ).written;
    w.advance(60_000);
    w.env.OP_FIXTURE_MODE = 'down';
    for (const stale of ['warn', 'use'] as const) {
      const read = await readWithCache('srv', [request], cachePolicy({ ttl: '10s', stale }), w.deps);
      expect(read.outcomes[0]).toMatchObject({ how: 'stale', value: 'vault-value-1' });
      expect(read.outcomes[0]!.error?.message).toContain('could not be reached');
    }
    const refused = await readWithCache('srv', [request], cachePolicy({ ttl: '10s', stale: 'fail' }), w.deps);
    await refused.written;
    expect(refused.outcomes[0]!.how).toBe('failed');
    expect(refused.outcomes[0]!.value).toBeUndefined();
    expect(refused.outcomes[0]!.error?.message).toContain('"stale": "fail"');
    expect(refused.outcomes[0]!.error?.message).not.toContain('vault-value-1');
    // The last error is kept beside the value for `secrets status`.
    expect(await stored(w.store, 'TOKEN')).toMatchObject({ value: 'vault-value-1', error: expect.stringContaining(ref) });

    const empty = await world();
    empty.env.OP_FIXTURE_MODE = 'down';
    const none = await readWithCache('srv', [request], cachePolicy(undefined), empty.deps);
    expect(none.outcomes[0]!.how).toBe('failed');
    expect(none.outcomes[0]!.error?.message).toContain('Nothing is cached for it yet');
  });

  it('reads again over an unreadable entry, or one cached for another reference; "ttl": "0" caches nothing', async () => {
    const w = await world();
    await w.store.set('srv', CACHE_ITEM_ACCOUNT, 'not json {');
    const read = await readWithCache('srv', [request], cachePolicy(undefined), w.deps);
    await read.written;
    expect(read.outcomes[0]!.how).toBe('read');
    expect(await stored(w.store, 'TOKEN')).toMatchObject({ value: 'vault-value-1' });

    await w.deps.cache!.putMany(
      'srv',
      new Map([['TOKEN', { source: 'op://Other/Item/field', value: 'other-value', fetchedAt: 1_000_000 }]]),
    );
    const other = await readWithCache('srv', [request], cachePolicy(undefined), w.deps);
    expect(other.outcomes[0]).toMatchObject({ how: 'read', value: 'vault-value-1' });

    const none = await world();
    const uncached = await readWithCache('srv', [request], cachePolicy({ ttl: '0', stale: 'warn' }), none.deps);
    await uncached.written;
    expect(none.store.calls).toEqual([]);
  });

  it('`force` reads every source again even with fresh entries', async () => {
    const w = await world();
    await (
      await readWithCache('srv', [request], cachePolicy(undefined), w.deps)
    ).written;
    const forced = await readWithCache('srv', [request], cachePolicy(undefined), w.deps, { force: true });
    expect(forced.outcomes[0]!.how).toBe('read');
    expect(await w.opCalls()).toBe(2);
  });

  it('`force` reads the cache item (under its lock) while the sources run, so only the write is left when they answer', async () => {
    const w = await world();
    const barrier = path.join(await mkdtemp(path.join(tmpdir(), 'keyproxy-barrier-')), 'go');
    dirs.push(path.dirname(barrier));
    // A command source that answers only once the test lets it.
    const slow: SourceRequest = {
      secret: 'SLOW',
      source: {
        kind: 'command',
        argv: ['sh', '-c', `while [ ! -e '${barrier}' ]; do sleep 0.02; done; printf slow-value-123`],
        firstLine: false,
      },
    };
    const reading = readWithCache('srv', [slow], cachePolicy(undefined), w.deps, { force: true });
    // Bounded poll: the item is read (twice: for the outcomes, and under the lock for the write) before the source answers.
    for (let i = 0; i < 500 && w.store.calls.filter((call) => call === 'getAll srv').length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(w.store.calls).toEqual(['getAll srv', 'getAll srv']);
    await writeFile(barrier, '');
    const read = await reading;
    await read.written;
    expect(read.outcomes[0]).toMatchObject({ how: 'read', value: 'slow-value-123' });
    expect(w.store.calls).toEqual(['getAll srv', 'getAll srv', `set srv/${CACHE_ITEM_ACCOUNT}`]);
    expect(await stored(w.store, 'SLOW')).toMatchObject({ value: 'slow-value-123' });
  });

  it('several expired references are read by one op inject, a fresh one from the cache, all cached in one item', async () => {
    const w = await world();
    const refs = ['op://Agents/Deploy/token', 'op://Agents/Db/password', 'op://Agents/Mail/key'];
    w.env.OP_FIXTURE_ITEMS = JSON.stringify(Object.fromEntries(refs.map((r, i) => [r, `vault-value-${i}`])));
    const requests: SourceRequest[] = refs.map((reference, i) => ({ secret: `S${i}`, source: { kind: 'op', reference } }));
    const first = await readWithCache('srv', requests, cachePolicy({ ttl: '1h', stale: 'warn' }), w.deps);
    await first.written;
    expect(first.outcomes.map((o) => [o.how, o.value])).toEqual(refs.map((_, i) => ['read', `vault-value-${i}`]));
    expect(await w.opCalls()).toBe(1);
    for (const [i, ref] of refs.entries()) {
      expect(await stored(w.store, `S${i}`)).toMatchObject({ source: ref, value: `vault-value-${i}` });
    }
    // One keychain write for the three.
    expect(w.store.calls.filter((call) => call.startsWith('set '))).toEqual([`set srv/${CACHE_ITEM_ACCOUNT}`]);
    // S1 read again later: fresh; S0 and S2 expired: read together.
    w.advance(30 * 60_000);
    await w.deps.cache!.putMany('srv', new Map([['S1', { source: refs[1]!, value: 'cached-1', fetchedAt: 1_000_000 + 30 * 60_000 }]]));
    w.advance(31 * 60_000);
    const second = await readWithCache('srv', requests, cachePolicy({ ttl: '1h', stale: 'warn' }), w.deps);
    expect(second.outcomes.map((o) => [o.how, o.value])).toEqual([
      ['read', 'vault-value-0'],
      ['fresh', 'cached-1'],
      ['read', 'vault-value-2'],
    ]);
    // The write of the two read again keeps the fresh one it did not touch.
    await second.written;
    expect(await stored(w.store, 'S1')).toMatchObject({ value: 'cached-1' });
    expect(await stored(w.store, 'S2')).toMatchObject({ value: 'vault-value-2', fetchedAt: 1_000_000 + 61 * 60_000 });
    expect((await readFile(path.join(path.dirname(w.env.OP_FIXTURE_LOG!), 'op.log'), 'utf8')).trim().split('\n')).toEqual([
      '["inject"]',
      '["inject"]',
    ]);
  });
});
