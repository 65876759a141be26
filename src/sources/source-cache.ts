import { isSecretName } from '../config/names.js';
import { KeyproxyError } from '../errors.js';
import { CACHE_ITEM_ACCOUNT, CACHE_PROFILE_SERVER, type SecretStore } from '../secrets/store.js';
import { entryOf, parseJson, parseProfileItem, parseServerItem, profileItemText, type CacheEntry } from './cache-format.js';

export type { CacheEntry } from './cache-format.js';

/** What the cache holds (or held) for one server: the secret names of its entries, and whether it holds anything. */
export interface CacheContents {
  names: string[];
  /** True also for an item that cannot be read, which names nothing. */
  any: boolean;
}

/** A server's cache as kept before the profile's item held it: in the server's own service. */
interface OldCache {
  entries: Map<string, CacheEntry>;
  /** The names each account held (an item several, an entry one, an unreadable one none): removed once moved. */
  accounts: Map<string, string[]>;
}

/** Entries waiting to be written to a store's profile item, by server, and when they will have been. */
interface Batch {
  servers: Map<string, Map<string, CacheEntry>>;
  old: Map<string, OldCache>;
  written: Promise<void>;
}

/** A read of a store's profile item under way: the members of an aggregate starting at once share it. */
const reading = new WeakMap<SecretStore, Promise<Map<string, string>>>();
/** The batch of each store that is still open to more entries (its write has not begun). */
const open = new WeakMap<SecretStore, Batch>();
/** The write of each store under way (a batch opened meanwhile waits for it, gathering entries). */
const writing = new WeakMap<SecretStore, Promise<void>>();

/**
 * The keychain cache of values read from op:// and command sources, over a SecretStore whose services are
 * `cacheService(server, profile)` (so every call has the store's timeout). The entries of every server of a
 * profile are ONE keychain item (service `mcp-keyproxy-cache[@profile]`, account `CACHE_ITEM_ACCOUNT`): a start of
 * an aggregate reads it with one search, and a refresh of many servers writes it once or twice rather than once per
 * server (gnome-keyring rewrites its file for each write). Writes merge into it under its write lock
 * (`SecretStore.update`), so no other process's write comes between; writes made while one is under way are
 * gathered into the next. A server not yet in the item has its entries read where they were kept before (its own
 * service: an item per server, or an entry per secret), and moved into the item by its first write. An item or
 * entry that cannot be read is treated as absent: its sources are read again and it is replaced.
 */
export class SourceCache {
  /** The servers `entries` found in the profile's item (their old entries, if any, were moved already). */
  readonly #inItem = new Set<string>();
  /** What the servers that `entries` did not find there kept the old way. */
  readonly #old = new Map<string, OldCache>();

  constructor(private readonly store: SecretStore) {}

  /** Every readable entry of a server, by secret name. Rejects only when the keychain cannot be read. */
  async entries(server: string): Promise<Map<string, CacheEntry>> {
    const held = parseProfileItem((await this.#readProfile()).get(CACHE_ITEM_ACCOUNT) ?? '')?.get(server);
    if (held) {
      this.#inItem.add(server);
      return new Map(held);
    }
    const old = await this.#readOld(server);
    this.#old.set(server, old);
    return new Map(old.entries);
  }

  /**
   * Stores (replaces) entries of one server, by secret name, keeping its other entries and every other server's;
   * resolves once they are written. The old entries of a server not yet in the profile's item are carried into it,
   * then removed.
   */
  async putMany(server: string, entries: ReadonlyMap<string, CacheEntry>): Promise<void> {
    if (entries.size === 0) return;
    const old = this.#inItem.has(server) ? undefined : (this.#old.get(server) ?? (await this.#readOld(server).catch(() => undefined)));
    let batch = open.get(this.store);
    if (!batch) {
      batch = { servers: new Map(), old: new Map(), written: Promise.resolve() };
      open.set(this.store, batch);
      batch.written = this.#writeWhenFree(batch);
    }
    batch.servers.set(server, new Map([...(batch.servers.get(server) ?? []), ...entries]));
    if (old) batch.old.set(server, old);
    await batch.written;
  }

  /** What is cached for a server (both forms), without a value leaving the cache. */
  async contents(server: string): Promise<CacheContents> {
    const held = parseProfileItem((await this.#readProfile()).get(CACHE_ITEM_ACCOUNT) ?? '')?.get(server);
    const old = await this.#readOld(server);
    const names = new Set([...(held?.keys() ?? []), ...[...old.accounts.values()].flat()]);
    return { names: [...names].sort(), any: (held?.size ?? 0) > 0 || old.accounts.size > 0 };
  }

  /**
   * Removes every entry of a server (from the profile's item, and where kept before); resolves with what was removed.
   * The item keeps the server with no entries: it is then known to have no old cache to look for.
   */
  async clear(server: string): Promise<CacheContents> {
    const names = new Set<string>();
    let any = false;
    if ((parseProfileItem((await this.store.getAll(CACHE_PROFILE_SERVER)).get(CACHE_ITEM_ACCOUNT) ?? '')?.get(server)?.size ?? 0) > 0) {
      await this.store.update(CACHE_PROFILE_SERVER, CACHE_ITEM_ACCOUNT, (stored) => {
        const servers = parseProfileItem(stored.get(CACHE_ITEM_ACCOUNT) ?? '') ?? new Map<string, Map<string, CacheEntry>>();
        for (const name of servers.get(server)?.keys() ?? []) names.add(name);
        servers.set(server, new Map());
        return profileItemText(servers);
      });
      any = true;
    }
    for (const [account, held] of (await this.#readOld(server)).accounts) {
      if (!(await this.store.delete(server, account))) continue;
      any = true;
      for (const name of held) names.add(name);
    }
    return { names: [...names].sort(), any };
  }

  #readProfile(): Promise<Map<string, string>> {
    let read = reading.get(this.store);
    if (!read) {
      read = this.store.getAll(CACHE_PROFILE_SERVER).finally(() => reading.delete(this.store));
      reading.set(this.store, read);
    }
    return read;
  }

  /** A server's cache where it was kept before the profile's item, from one search of its own service. */
  async #readOld(server: string): Promise<OldCache> {
    const stored = await this.store.getAll(server);
    const entries = new Map<string, CacheEntry>();
    const accounts = new Map<string, string[]>();
    for (const [account, text] of stored) {
      if (account === CACHE_ITEM_ACCOUNT) {
        const item = parseServerItem(text);
        accounts.set(account, [...(item?.keys() ?? [])]);
        for (const [name, entry] of item ?? []) entries.set(name, entry);
      } else if (isSecretName(account)) {
        const entry = entryOf(parseJson(text));
        accounts.set(account, [account]);
        // The server's item is newer than an entry kept as its own account.
        if (entry && !entries.has(account)) entries.set(account, entry);
      }
    }
    return { entries, accounts };
  }

  /** Writes `batch` once the store's write under way (if any) has ended; entries added until then go with it. */
  async #writeWhenFree(batch: Batch): Promise<void> {
    await writing.get(this.store)?.catch(() => undefined);
    // One turn of the event loop: entries of reads that end together join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    open.delete(this.store);
    const write = this.#write(batch);
    writing.set(this.store, write);
    try {
      await write;
    } finally {
      if (writing.get(this.store) === write) writing.delete(this.store);
    }
  }

  async #write(batch: Batch): Promise<void> {
    /** The batch merged into the item's text (an item that cannot be read starts afresh). */
    const merge = (item: string | undefined): string => {
      const servers = (item === undefined ? undefined : parseProfileItem(item)) ?? new Map<string, Map<string, CacheEntry>>();
      for (const [server, entries] of batch.servers) {
        const before = servers.get(server) ?? batch.old.get(server)?.entries ?? new Map<string, CacheEntry>();
        servers.set(server, new Map([...before, ...entries]));
      }
      return profileItemText(servers);
    };
    let read = false;
    await this.store
      .update(CACHE_PROFILE_SERVER, CACHE_ITEM_ACCOUNT, (stored) => {
        read = true;
        return merge(stored.get(CACHE_ITEM_ACCOUNT));
      })
      .catch((error: unknown) => {
        // A cache that cannot be read (an item whose pieces cannot be joined) is rewritten from what this batch
        // has, or it could never be repaired; a keychain that is down, locked or silent is not asked again.
        if (read || keychainDown(error)) throw error;
        return this.store.set(CACHE_PROFILE_SERVER, CACHE_ITEM_ACCOUNT, merge(undefined));
      });
    // Moved: the old entries go (best effort: one left behind is shadowed by the item and removed by a later write).
    for (const [server, old] of batch.old) {
      for (const account of old.accounts.keys()) await this.store.delete(server, account).catch(() => false);
    }
  }
}

function keychainDown(error: unknown): boolean {
  return error instanceof KeyproxyError && (error.code === 'KEYCHAIN_UNAVAILABLE' || error.code === 'KEYCHAIN_LOCKED');
}
