import { isSecretName } from '../config/names.js';
import { KeyproxyError } from '../errors.js';
import { CACHE_ITEM_ACCOUNT, type SecretStore } from '../secrets/store.js';
import { entryOf, itemText, parseItem, parseJson, type CacheEntry } from './cache-format.js';

export type { CacheEntry } from './cache-format.js';

/** What the cache holds (or held) for one server: the secret names of its entries, and whether it holds anything. */
export interface CacheContents {
  names: string[];
  /** True also for an item that cannot be read, which names nothing. */
  any: boolean;
}

/** A server's cache as read: its item's entries (undefined when missing or unreadable) and the entries kept the old way. */
interface StoredCache {
  item: Map<string, CacheEntry> | undefined;
  /** Entries kept as one account per secret (before the item existed), by the account (= secret name). */
  legacy: Map<string, CacheEntry>;
  legacyAccounts: string[];
}

/**
 * The keychain cache of values read from op:// and command sources, over a SecretStore whose service is
 * `mcp-keyproxy-cache/<server>` (so every call has the store's timeout). All entries of a server are ONE keychain
 * item (account `CACHE_ITEM_ACCOUNT`), so a refresh of N secrets writes one item, not N (gnome-keyring rewrites its
 * file for each). Entries kept the old way (one account per secret name) are still read where the item has none,
 * and removed once the item is written. An item or entry that cannot be read is treated as absent: its sources are
 * read again and it is replaced.
 */
export class SourceCache {
  constructor(private readonly store: SecretStore) {}

  /** Every readable entry of a server, by secret name. Rejects only when the keychain cannot be read. */
  async entries(server: string): Promise<Map<string, CacheEntry>> {
    return merged(await this.#read(server));
  }

  /**
   * Stores (replaces) entries of one server, by secret name, keeping the entries of its other secrets: the item is
   * read, merged and written under its write lock (`SecretStore.update`: one search, and no other process's write
   * of the item in between), then the entries kept the old way are removed. `entries` may still be coming (a
   * refresh whose sources are being read): the lock is taken and the item read meanwhile, so only the write is left
   * once they are there; another writer of the item waits for it.
   */
  async putMany(server: string, entries: ReadonlyMap<string, CacheEntry> | Promise<ReadonlyMap<string, CacheEntry>>): Promise<void> {
    if (entries instanceof Map && entries.size === 0) return;
    let legacy: string[] | undefined;
    const write = async (stored: ReadonlyMap<string, string>): Promise<string> => {
      const cache = storedCache(stored);
      legacy = cache.legacyAccounts;
      return itemText(new Map([...merged(cache), ...(await entries)]));
    };
    await this.store.update(server, CACHE_ITEM_ACCOUNT, write).catch(async (error: unknown) => {
      // A cache that cannot be read (`write` never ran: an old entry that cannot be joined) is rewritten from what
      // this call has, or it could never be repaired; a keychain that is down, locked or silent is not asked again.
      if (legacy !== undefined || keychainDown(error)) throw error;
      return this.store.set(server, CACHE_ITEM_ACCOUNT, itemText(await entries));
    });
    legacy ??= (await this.store.list(server).catch(() => [])).filter(isSecretName);
    // Best effort: an old entry left behind is still shadowed by the item and removed by the next write.
    for (const account of legacy) await this.store.delete(server, account).catch(() => false);
  }

  /** What is cached for a server (both forms), without reading a value where it can be helped. */
  async contents(server: string): Promise<CacheContents> {
    const { accounts, itemNames } = await this.#accounts(server);
    const names = new Set([...itemNames, ...accounts.filter((account) => account !== CACHE_ITEM_ACCOUNT)]);
    return { names: [...names].sort(), any: accounts.length > 0 };
  }

  /** Removes every entry of a server (its item and entries kept the old way); resolves with what was removed. */
  async clear(server: string): Promise<CacheContents> {
    const { accounts, itemNames } = await this.#accounts(server);
    const names = new Set<string>();
    let any = false;
    for (const account of accounts) {
      if (!(await this.store.delete(server, account))) continue;
      any = true;
      for (const name of account === CACHE_ITEM_ACCOUNT ? itemNames : [account]) names.add(name);
    }
    return { names: [...names].sort(), any };
  }

  /** Both forms of a server's cache, from one search of its service. */
  async #read(server: string): Promise<StoredCache> {
    return storedCache(await this.store.getAll(server));
  }

  /** The cache's accounts of a server (listed, so an unreadable one is still found) and the names its item holds. */
  async #accounts(server: string): Promise<{ accounts: string[]; itemNames: string[] }> {
    const accounts = (await this.store.list(server)).filter((account) => account === CACHE_ITEM_ACCOUNT || isSecretName(account));
    if (!accounts.includes(CACHE_ITEM_ACCOUNT)) return { accounts, itemNames: [] };
    const text = await this.store.get(server, CACHE_ITEM_ACCOUNT).catch(() => null);
    const item = text === null ? undefined : parseItem(text);
    return { accounts, itemNames: [...(item?.keys() ?? [])] };
  }
}

/** The item's entries over those kept the old way (the item is newer). */
function merged(stored: StoredCache): Map<string, CacheEntry> {
  return new Map([...stored.legacy, ...(stored.item ?? [])]);
}

/** Both forms of a server's cache in what its service holds (by account). */
function storedCache(stored: ReadonlyMap<string, string>): StoredCache {
  const item = stored.has(CACHE_ITEM_ACCOUNT) ? parseItem(stored.get(CACHE_ITEM_ACCOUNT)!) : undefined;
  const legacy = new Map<string, CacheEntry>();
  const legacyAccounts: string[] = [];
  for (const [account, text] of stored) {
    if (!isSecretName(account)) continue;
    legacyAccounts.push(account);
    const entry = entryOf(parseJson(text));
    if (entry) legacy.set(account, entry);
  }
  return { item, legacy, legacyAccounts };
}

function keychainDown(error: unknown): boolean {
  return error instanceof KeyproxyError && (error.code === 'KEYCHAIN_UNAVAILABLE' || error.code === 'KEYCHAIN_LOCKED');
}
