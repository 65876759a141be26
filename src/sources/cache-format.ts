import { isSecretName, isServerName } from '../config/names.js';
import { CACHE_ITEM_ACCOUNT } from '../secrets/store.js';

// The JSON of the source cache (see SourceCache), apart from it so the CLI's scrubber can read values without
// loading the cache itself at every start.

/**
 * One cached source value, as kept in the server's cache item. `source` is the `"from"` it was read from, so a
 * changed reference never gets an old value. `error` is the last failed read (scrubbed, never a value), kept for
 * `secrets status`.
 */
export interface CacheEntry {
  source: string;
  value?: string;
  /** When the value was read (ms since the epoch). */
  fetchedAt?: number;
  error?: string;
  errorAt?: number;
}

/**
 * The formats of the cache item: 2, one item for every server of a profile (`{"version": 2, "servers": {SERVER:
 * {NAME: entry}}}`); 1, an item per server (`{"version": 1, "entries": {NAME: entry}}`), read where a server is not
 * yet in the profile's item. An item of another version is treated as absent (and replaced).
 */
const SERVER_ITEM_VERSION = 1;
const PROFILE_ITEM_VERSION = 2;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One entry as parsed JSON holds it, or undefined when it is not one. */
export function entryOf(parsed: unknown): CacheEntry | undefined {
  if (!isObject(parsed) || typeof parsed.source !== 'string') return undefined;
  const entry: CacheEntry = { source: parsed.source };
  if (typeof parsed.value === 'string' && typeof parsed.fetchedAt === 'number' && Number.isFinite(parsed.fetchedAt)) {
    entry.value = parsed.value;
    entry.fetchedAt = parsed.fetchedAt;
  }
  if (typeof parsed.error === 'string') entry.error = parsed.error;
  if (typeof parsed.errorAt === 'number') entry.errorAt = parsed.errorAt;
  return entry;
}

/** `text` parsed, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The readable entries of one server's `{NAME: entry}` object. */
function entriesOf(parsed: Record<string, unknown>): Map<string, CacheEntry> {
  const entries = new Map<string, CacheEntry>();
  for (const [name, value] of Object.entries(parsed)) {
    const entry = entryOf(value);
    if (entry && isSecretName(name)) entries.set(name, entry);
  }
  return entries;
}

/** The entries of a server's own item (format 1, kept before the profile's item), or undefined when unreadable. */
export function parseServerItem(text: string): Map<string, CacheEntry> | undefined {
  const parsed = parseJson(text);
  if (!isObject(parsed) || parsed.version !== SERVER_ITEM_VERSION || !isObject(parsed.entries)) return undefined;
  return entriesOf(parsed.entries);
}

/** The entries of every server in the profile's item, by server; undefined when it cannot be read. */
export function parseProfileItem(text: string): Map<string, Map<string, CacheEntry>> | undefined {
  const parsed = parseJson(text);
  if (!isObject(parsed) || parsed.version !== PROFILE_ITEM_VERSION || !isObject(parsed.servers)) return undefined;
  const servers = new Map<string, Map<string, CacheEntry>>();
  for (const [server, entries] of Object.entries(parsed.servers)) {
    if (isServerName(server) && isObject(entries)) servers.set(server, entriesOf(entries));
  }
  return servers;
}

/** The profile's item's JSON for `servers`. */
export function profileItemText(servers: ReadonlyMap<string, ReadonlyMap<string, CacheEntry>>): string {
  const json = Object.fromEntries([...servers].map(([server, entries]) => [server, Object.fromEntries(entries)]));
  return JSON.stringify({ version: PROFILE_ITEM_VERSION, servers: json });
}

/**
 * Every value in what one account of a cache service holds, as [server, secret name, value], read leniently (for
 * the CLI's scrubber, which must hide even a value the cache would not use): the profile's item (`server` is then
 * the profile item's, ""), a server's own item, or an entry kept as its own account.
 */
export function cachedValues(server: string, account: string, text: string): Array<[string, string, string]> {
  const parsed = parseJson(text);
  if (!isObject(parsed)) return [];
  const values = (owner: string, entries: unknown): Array<[string, string, string]> =>
    isObject(entries)
      ? Object.entries(entries).flatMap(([name, entry]) =>
          isObject(entry) && typeof entry.value === 'string' ? [[owner, name, entry.value] as [string, string, string]] : [],
        )
      : [];
  if (account !== CACHE_ITEM_ACCOUNT) return values(server, { [account]: parsed });
  if (isObject(parsed.servers)) return Object.entries(parsed.servers).flatMap(([owner, entries]) => values(owner, entries));
  return values(server, parsed.entries);
}
