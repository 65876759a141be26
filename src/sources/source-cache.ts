import type { SecretStore } from '../secrets/store.js';

/**
 * One cached source value as kept in the keychain (service `mcp-keyproxy-cache/<server>`, account = the secret
 * name), as JSON. `source` is the `"from"` it was read from, so a changed reference never gets an old value.
 * `error` is the last failed read (scrubbed, never a value), kept for `secrets status`.
 */
export interface CacheEntry {
  source: string;
  value?: string;
  /** When the value was read (ms since the epoch). */
  fetchedAt?: number;
  error?: string;
  errorAt?: number;
}

function parseEntry(text: string): CacheEntry | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<CacheEntry> | null;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.source !== 'string') return undefined;
    const entry: CacheEntry = { source: parsed.source };
    if (typeof parsed.value === 'string' && typeof parsed.fetchedAt === 'number' && Number.isFinite(parsed.fetchedAt)) {
      entry.value = parsed.value;
      entry.fetchedAt = parsed.fetchedAt;
    }
    if (typeof parsed.error === 'string') entry.error = parsed.error;
    if (typeof parsed.errorAt === 'number') entry.errorAt = parsed.errorAt;
    return entry;
  } catch {
    return undefined;
  }
}

/**
 * The keychain cache of values read from op:// and command sources, over a SecretStore whose service is
 * `mcp-keyproxy-cache/<server>` (so every call has the store's timeout). An entry that cannot be read is treated as
 * absent: its source is read again and the entry replaced.
 */
export class SourceCache {
  constructor(private readonly store: SecretStore) {}

  /** Every readable entry of a server, by secret name. Rejects only when the keychain cannot be reached. */
  async entries(server: string): Promise<Map<string, CacheEntry>> {
    const stored = await this.store.getAll(server);
    const entries = new Map<string, CacheEntry>();
    for (const [name, text] of stored) {
      const entry = parseEntry(text);
      if (entry) entries.set(name, entry);
    }
    return entries;
  }

  /** Stores (replaces) entries of one server, by secret name, in one go (one search, each entry all-or-nothing). */
  putMany(server: string, entries: ReadonlyMap<string, CacheEntry>): Promise<void> {
    return this.store.setMany(server, new Map([...entries].map(([secret, entry]) => [secret, JSON.stringify(entry)])));
  }

  /** Removes every entry of a server; resolves with the names removed. */
  async clear(server: string): Promise<string[]> {
    const names = await this.store.list(server);
    const removed: string[] = [];
    for (const name of names) if (await this.store.delete(server, name)) removed.push(name);
    return removed;
  }
}
