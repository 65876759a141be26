import { describe, expect, it } from 'vitest';
import { KeyproxyError } from '../../../src/errors.js';
import { KeyringStore } from '../../../src/secrets/keyring-store.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';
import { clearStoredSecrets } from '../../../src/secrets/storage-clear.js';
import { CACHE_ITEM_ACCOUNT, cacheService } from '../../../src/secrets/store.js';
import { cachedValues } from '../../../src/sources/cache-format.js';
import { SourceCache, type CacheEntry } from '../../../src/sources/source-cache.js';
import { FakeKeyring } from '../secrets/fake-keyring.js';

const entry = (n: number, fetchedAt = 1_000): CacheEntry => ({ source: `op://Agents/Item/f${n}`, value: `value-${n}`, fetchedAt });
const entries = (...ns: number[]): Map<string, CacheEntry> => new Map(ns.map((n) => [`S${n}`, entry(n)]));
/** A keychain cache over a fake Secret Service, with a write lock that needs no runtime dir. */
function keyringCache(fake = new FakeKeyring()) {
  const store = new KeyringStore({
    backend: fake,
    service: (server) => cacheService(server),
    writeLock: async () => async () => undefined,
  });
  return { fake, store, cache: new SourceCache(store) };
}

describe('SourceCache: one keychain item per server', () => {
  it('writes N entries as one item (one keychain write), readable back by secret name', async () => {
    const { fake, cache } = keyringCache();
    await cache.putMany('srv', entries(1, 2, 3, 4));
    expect(fake.mutations.map((m) => [m.op, m.key])).toEqual([['set', `mcp-keyproxy-cache/srv|${CACHE_ITEM_ACCOUNT}`]]);
    expect(await cache.entries('srv')).toEqual(entries(1, 2, 3, 4));
    const item = JSON.parse(fake.items.get(`mcp-keyproxy-cache/srv|${CACHE_ITEM_ACCOUNT}`)!) as Record<string, unknown>;
    expect(item).toEqual({ version: 1, entries: Object.fromEntries(entries(1, 2, 3, 4)) });
    // Another server's item is its own.
    expect(await cache.entries('other')).toEqual(new Map());
  });

  it('the item is an account no secret name can be, and it may hold more than one value may (chunked)', async () => {
    const { fake, store, cache } = keyringCache();
    await expect(store.set('srv', 'A:B', 'x')).rejects.toBeInstanceOf(KeyproxyError);
    const big = new Map([...Array(5).keys()].map((n) => [`S${n}`, { ...entry(n), value: `${n}`.repeat(20_000) }]));
    await cache.putMany('srv', big);
    expect(await cache.entries('srv')).toEqual(big);
    expect(fake.mutations.filter((m) => m.op === 'set').length).toBeGreaterThan(100);
    expect((await cache.contents('srv')).names).toEqual(['S0', 'S1', 'S2', 'S3', 'S4']);
  });

  it('a write merges into the item: entries of secrets it did not touch are kept, the ones it names replaced', async () => {
    const store = new MemoryStore();
    const cache = new SourceCache(store);
    await cache.putMany('srv', entries(1, 2, 3));
    const newer = { ...entry(2), value: 'value-2b', fetchedAt: 5_000 };
    await cache.putMany('srv', new Map([['S2', newer]]));
    expect(await cache.entries('srv')).toEqual(new Map([...entries(1, 3), ['S2', newer]]));
    // An entry can still carry only the last error, beside its value or without one.
    const failed = { source: 'op://Agents/Item/f4', error: 'could not be reached', errorAt: 6_000 };
    await cache.putMany('srv', new Map([['S4', failed]]));
    expect((await cache.entries('srv')).get('S4')).toEqual(failed);
    expect(await store.list('srv')).toEqual([CACHE_ITEM_ACCOUNT]);
  });

  it('entries kept the old way (one item per secret) are read where the item lacks them, and removed by the first write', async () => {
    const old = { S1: JSON.stringify(entry(1)), S2: JSON.stringify(entry(2)), S3: 'not json {' };
    const { fake, store, cache } = keyringCache(
      new FakeKeyring(new Map(Object.entries(old).map(([name, text]) => [`mcp-keyproxy-cache/srv|${name}`, text]))),
    );
    // Upgraded while 1Password is down: the old values are still there to serve stale.
    expect(await cache.entries('srv')).toEqual(entries(1, 2));
    expect(await cache.contents('srv')).toEqual({ names: ['S1', 'S2', 'S3'], any: true });

    const fresh = { ...entry(2), value: 'value-2b', fetchedAt: 9_000 };
    await cache.putMany('srv', new Map([['S2', fresh]]));
    expect(await store.list('srv')).toEqual([CACHE_ITEM_ACCOUNT]);
    // S1 was carried into the item before its old item went; S2 is the new one; S3 could not be read.
    expect(await cache.entries('srv')).toEqual(new Map([...entries(1), ['S2', fresh]]));
    // The item is written first, then the old items are deleted.
    expect(fake.mutations.map((m) => m.op)).toEqual(['set', 'delete', 'delete', 'delete']);
  });

  it('an item that cannot be read counts as absent (its old entries still read); the next write replaces it', async () => {
    for (const text of ['not json {', '{"version":99,"entries":{}}', '[]', '{"version":1,"entries":[1]}']) {
      const store = new MemoryStore({ initial: { srv: { [CACHE_ITEM_ACCOUNT]: text, S1: JSON.stringify(entry(1)) } } });
      const cache = new SourceCache(store);
      expect(await cache.entries('srv')).toEqual(entries(1));
      expect(await cache.contents('srv')).toEqual({ names: ['S1'], any: true });
      await cache.putMany('srv', entries(2));
      expect(await cache.entries('srv')).toEqual(entries(1, 2));
      expect(await store.list('srv')).toEqual([CACHE_ITEM_ACCOUNT]);
    }
    // A damaged entry inside a readable item is skipped alone.
    const mixed = JSON.stringify({ version: 1, entries: { S1: entry(1), S2: { value: 'no source' }, 'NOT A NAME': entry(3) } });
    const cache = new SourceCache(new MemoryStore({ initial: { srv: { [CACHE_ITEM_ACCOUNT]: mixed } } }));
    expect(await cache.entries('srv')).toEqual(entries(1));
  });

  it('a cache the store cannot read is written again from what the write has, so it can be repaired', async () => {
    let broken = true;
    const store = new MemoryStore({
      initial: { srv: { S9: JSON.stringify(entry(9)) } },
      fail: (operation) => (broken && operation === 'getAll' ? new KeyproxyError('KEYCHAIN_FAILED', 'cannot join') : undefined),
    });
    const cache = new SourceCache(store);
    await expect(cache.entries('srv')).rejects.toThrow('cannot join');
    await cache.putMany('srv', entries(1));
    broken = false;
    expect(await cache.entries('srv')).toEqual(entries(1));
    expect(await store.list('srv')).toEqual([CACHE_ITEM_ACCOUNT]);
  });

  it('a keychain that is down or silent when the cache is written is not asked again', async () => {
    for (const code of ['KEYCHAIN_UNAVAILABLE', 'KEYCHAIN_LOCKED'] as const) {
      const operations: string[] = [];
      const store = new MemoryStore({
        fail: (operation) => {
          operations.push(operation);
          return operation === 'getAll' ? new KeyproxyError(code, 'down') : undefined;
        },
      });
      await expect(new SourceCache(store).putMany('srv', entries(1))).rejects.toMatchObject({ code });
      expect(operations).toEqual(['getAll']);
    }
  });

  it('clear removes the item and old entries, naming secrets (never the account); an unreadable item is still removed', async () => {
    const store = new MemoryStore({ initial: { srv: { S3: JSON.stringify(entry(3)) } } });
    const cache = new SourceCache(store);
    await store.set('srv', CACHE_ITEM_ACCOUNT, JSON.stringify({ version: 1, entries: Object.fromEntries(entries(1, 2)) }));
    expect(await cache.contents('srv')).toEqual({ names: ['S1', 'S2', 'S3'], any: true });
    expect(await cache.clear('srv')).toEqual({ names: ['S1', 'S2', 'S3'], any: true });
    expect(await store.list('srv')).toEqual([]);
    expect(await cache.clear('srv')).toEqual({ names: [], any: false });

    await store.set('srv', CACHE_ITEM_ACCOUNT, 'not json {');
    expect(await cache.contents('srv')).toEqual({ names: [], any: true });
    expect(await cache.clear('srv')).toEqual({ names: [], any: true });
    expect(await store.list('srv')).toEqual([]);
  });

  it('SECRETS_STORAGE_CLEAR clears both forms of the cache through SourceCache', async () => {
    const store = new MemoryStore({ initial: { a: { KEY: 'secret-value-1' } } });
    const cacheStore = new MemoryStore({ initial: { b: { OLD: JSON.stringify(entry(1)) } } });
    await new SourceCache(cacheStore).putMany('c', entries(2));
    const deleted: string[] = [];
    const cleared = await clearStoredSecrets(
      ['a', 'b', 'c', 'd'],
      { store, cacheStore },
      { secretDeleted: (s, n) => void deleted.push(`${s}/${n}`) },
      () => {
        throw new Error('no problem expected');
      },
    );
    expect(cleared.sort()).toEqual(['a', 'b', 'c']);
    expect(deleted).toEqual(['a/KEY']);
    for (const server of ['b', 'c']) expect(await cacheStore.list(server)).toEqual([]);
  });

  it('cachedValues finds every value of an item or an old entry, for the CLI scrubber', () => {
    const item = JSON.stringify({ version: 1, entries: { S1: entry(1), S2: { source: 'x', value: 'no-time' }, S3: { source: 'y' } } });
    expect(cachedValues(CACHE_ITEM_ACCOUNT, item)).toEqual([
      ['S1', 'value-1'],
      ['S2', 'no-time'],
    ]);
    expect(cachedValues('S1', JSON.stringify(entry(1)))).toEqual([['S1', 'value-1']]);
    expect(cachedValues(CACHE_ITEM_ACCOUNT, 'not json {')).toEqual([]);
  });
});
