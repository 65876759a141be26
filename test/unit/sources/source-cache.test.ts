import { describe, expect, it } from 'vitest';
import { KeyproxyError } from '../../../src/errors.js';
import { KeyringStore } from '../../../src/secrets/keyring-store.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';
import { clearStoredSecrets } from '../../../src/secrets/storage-clear.js';
import { CACHE_ITEM_ACCOUNT, CACHE_PROFILE_SERVER, cacheService } from '../../../src/secrets/store.js';
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

const ITEM = `mcp-keyproxy-cache|${CACHE_ITEM_ACCOUNT}`;
const serverItem = (ns: number[]) => JSON.stringify({ version: 1, entries: Object.fromEntries(entries(...ns)) });
const profileItem = (servers: Record<string, number[]>) =>
  JSON.stringify({
    version: 2,
    servers: Object.fromEntries(Object.entries(servers).map(([name, ns]) => [name, Object.fromEntries(entries(...ns))])),
  });

describe('SourceCache: one keychain item for every server of a profile', () => {
  it('writes the entries of several servers as one item (one keychain write), readable back by server and name', async () => {
    const { fake, cache } = keyringCache();
    await Promise.all([cache.putMany('srv', entries(1, 2, 3, 4)), new SourceCache(keyringCache(fake).store).putMany('other', entries(5))]);
    expect(cacheService(CACHE_PROFILE_SERVER)).toBe('mcp-keyproxy-cache');
    expect(cacheService(CACHE_PROFILE_SERVER, 'work')).toBe('mcp-keyproxy-cache@work');
    const sets = fake.mutations.filter((m) => m.op === 'set').map((m) => m.key);
    expect(sets.every((key) => key === ITEM)).toBe(true);
    expect(await cache.entries('srv')).toEqual(entries(1, 2, 3, 4));
    expect(await cache.entries('other')).toEqual(entries(5));
    expect(JSON.parse(fake.items.get(ITEM)!)).toEqual(JSON.parse(profileItem({ srv: [1, 2, 3, 4], other: [5] })));
    expect(await cache.entries('none')).toEqual(new Map());
  });

  it('writes made while one is under way are gathered into the next: 5 servers, at most 2 writes', async () => {
    const { fake, store } = keyringCache();
    await Promise.all([1, 2, 3, 4, 5].map((n) => new SourceCache(store).putMany(`s${n}`, entries(n))));
    expect(fake.mutations.filter((m) => m.op === 'set').length).toBeLessThanOrEqual(2);
    for (const n of [1, 2, 3, 4, 5]) expect(await new SourceCache(store).entries(`s${n}`)).toEqual(entries(n));
  });

  it('the members of an aggregate starting at once share one read of the item', async () => {
    const { fake, store } = keyringCache();
    await new SourceCache(store).putMany('a', entries(1));
    fake.finds = 0;
    const read = await Promise.all(['a', 'a', 'a'].map((server) => new SourceCache(store).entries(server)));
    expect(read).toEqual([entries(1), entries(1), entries(1)]);
    expect(fake.finds).toBe(1);
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

  it('a write merges into the item: entries it did not touch, and other servers, are kept', async () => {
    const store = new MemoryStore();
    const cache = new SourceCache(store);
    await cache.putMany('srv', entries(1, 2, 3));
    await cache.putMany('other', entries(9));
    const newer = { ...entry(2), value: 'value-2b', fetchedAt: 5_000 };
    await cache.putMany('srv', new Map([['S2', newer]]));
    expect(await cache.entries('srv')).toEqual(new Map([...entries(1, 3), ['S2', newer]]));
    expect(await cache.entries('other')).toEqual(entries(9));
    // An entry can still carry only the last error, beside its value or without one.
    const failed = { source: 'op://Agents/Item/f4', error: 'could not be reached', errorAt: 6_000 };
    await cache.putMany('srv', new Map([['S4', failed]]));
    expect((await cache.entries('srv')).get('S4')).toEqual(failed);
    expect(await store.list(CACHE_PROFILE_SERVER)).toEqual([CACHE_ITEM_ACCOUNT]);
    expect(await store.list('srv')).toEqual([]);
  });

  it('a server not yet in the item has its old cache read (an item per server, an entry per secret) and moved by its first write', async () => {
    const old = { [CACHE_ITEM_ACCOUNT]: serverItem([1]), S2: JSON.stringify(entry(2)), S3: 'not json {' };
    const { fake, store, cache } = keyringCache(
      new FakeKeyring(new Map(Object.entries(old).map(([name, text]) => [`mcp-keyproxy-cache/srv|${name}`, text]))),
    );
    // Upgraded while 1Password is down: the old values are still there to serve stale.
    expect(await cache.entries('srv')).toEqual(entries(1, 2));
    expect(await cache.contents('srv')).toEqual({ names: ['S1', 'S2', 'S3'], any: true });

    const fresh = { ...entry(2), value: 'value-2b', fetchedAt: 9_000 };
    await cache.putMany('srv', new Map([['S2', fresh]]));
    expect(await store.list('srv')).toEqual([]);
    // S1 was carried into the item before its old item went; S2 is the new one; S3 could not be read.
    expect(await new SourceCache(store).entries('srv')).toEqual(new Map([...entries(1), ['S2', fresh]]));
    // The item is written first, then the old accounts are deleted.
    expect(fake.mutations.map((m) => m.op)).toEqual(['set', 'delete', 'delete', 'delete']);
    // A write by a cache that did not read first still carries the old entries over.
    const other = new MemoryStore({ initial: { srv: { S5: JSON.stringify(entry(5)) } } });
    await new SourceCache(other).putMany('srv', entries(6));
    expect(await new SourceCache(other).entries('srv')).toEqual(entries(5, 6));
    expect(await other.list('srv')).toEqual([]);
  });

  it('an item that cannot be read counts as absent (old entries still read); the next write replaces it', async () => {
    for (const text of ['not json {', '{"version":99,"servers":{}}', '[]', '{"version":2,"servers":[1]}']) {
      const store = new MemoryStore({
        initial: { [CACHE_PROFILE_SERVER]: { [CACHE_ITEM_ACCOUNT]: text }, srv: { S1: JSON.stringify(entry(1)) } },
      });
      const cache = new SourceCache(store);
      expect(await cache.entries('srv')).toEqual(entries(1));
      await cache.putMany('srv', entries(2));
      expect(await new SourceCache(store).entries('srv')).toEqual(entries(1, 2));
      expect(await store.list('srv')).toEqual([]);
    }
    // A damaged entry inside a readable item is skipped alone; so is a server name no server can have.
    const mixed = JSON.stringify({
      version: 2,
      servers: { srv: { S1: entry(1), S2: { value: 'no source' }, 'NOT A NAME': entry(3) }, 'bad/name': { S4: entry(4) } },
    });
    const cache = new SourceCache(new MemoryStore({ initial: { [CACHE_PROFILE_SERVER]: { [CACHE_ITEM_ACCOUNT]: mixed } } }));
    expect(await cache.entries('srv')).toEqual(entries(1));
  });

  it('an item the store cannot read is written again from what the write has, so it can be repaired', async () => {
    let broken = true;
    const store = new MemoryStore({
      initial: { [CACHE_PROFILE_SERVER]: { [CACHE_ITEM_ACCOUNT]: profileItem({ srv: [9] }) } },
      fail: (operation, server) =>
        broken && operation === 'getAll' && server === CACHE_PROFILE_SERVER
          ? new KeyproxyError('KEYCHAIN_FAILED', 'cannot join')
          : undefined,
    });
    const cache = new SourceCache(store);
    await expect(cache.entries('srv')).rejects.toThrow('cannot join');
    await cache.putMany('srv', entries(1));
    broken = false;
    expect(await cache.entries('srv')).toEqual(entries(1));
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
      // The old cache's read failed (nothing to carry over), then the item's: no write was tried.
      expect(operations).toEqual(['getAll', 'getAll']);
    }
  });

  it('clear removes the server from the item and its old cache, naming secrets (never the account); other servers stay', async () => {
    const store = new MemoryStore({
      initial: {
        [CACHE_PROFILE_SERVER]: { [CACHE_ITEM_ACCOUNT]: profileItem({ srv: [1, 2], other: [7] }) },
        srv: { S3: JSON.stringify(entry(3)), [CACHE_ITEM_ACCOUNT]: 'not json {' },
      },
    });
    const cache = new SourceCache(store);
    expect(await cache.contents('srv')).toEqual({ names: ['S1', 'S2', 'S3'], any: true });
    expect(await cache.clear('srv')).toEqual({ names: ['S1', 'S2', 'S3'], any: true });
    expect(await store.list('srv')).toEqual([]);
    expect(await new SourceCache(store).entries('srv')).toEqual(new Map());
    expect(await new SourceCache(store).entries('other')).toEqual(entries(7));
    // The item still knows the server (with nothing cached): a start does not look for an old cache again.
    store.calls.length = 0;
    expect(await new SourceCache(store).entries('srv')).toEqual(new Map());
    expect(store.calls.filter((call) => call.startsWith('getAll'))).toHaveLength(1);
    expect(await cache.clear('srv')).toEqual({ names: [], any: false });
    expect(await cache.contents('srv')).toEqual({ names: [], any: false });
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

  it('cachedValues finds every value of the profile item, a server item or an old entry, for the CLI scrubber', () => {
    const item = JSON.stringify({ version: 1, entries: { S1: entry(1), S2: { source: 'x', value: 'no-time' }, S3: { source: 'y' } } });
    expect(cachedValues('srv', CACHE_ITEM_ACCOUNT, item)).toEqual([
      ['srv', 'S1', 'value-1'],
      ['srv', 'S2', 'no-time'],
    ]);
    expect(cachedValues(CACHE_PROFILE_SERVER, CACHE_ITEM_ACCOUNT, profileItem({ a: [1], b: [2] }))).toEqual([
      ['a', 'S1', 'value-1'],
      ['b', 'S2', 'value-2'],
    ]);
    expect(cachedValues('srv', 'S1', JSON.stringify(entry(1)))).toEqual([['srv', 'S1', 'value-1']]);
    expect(cachedValues('srv', CACHE_ITEM_ACCOUNT, 'not json {')).toEqual([]);
  });
});
