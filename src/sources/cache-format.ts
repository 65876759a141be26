import { isSecretName } from '../config/names.js';
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

/** The format of the server's cache item; an item of another version is treated as absent (and replaced). */
const ITEM_VERSION = 1;

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

/** The entries of a server's cache item (`{"version": 1, "entries": {NAME: entry}}`), or undefined when unreadable. */
export function parseItem(text: string): Map<string, CacheEntry> | undefined {
  const parsed = parseJson(text);
  if (!isObject(parsed) || parsed.version !== ITEM_VERSION || !isObject(parsed.entries)) return undefined;
  const entries = new Map<string, CacheEntry>();
  for (const [name, value] of Object.entries(parsed.entries)) {
    const entry = entryOf(value);
    if (entry && isSecretName(name)) entries.set(name, entry);
  }
  return entries;
}

/** The item's JSON for `entries`. */
export function itemText(entries: ReadonlyMap<string, CacheEntry>): string {
  return JSON.stringify({ version: ITEM_VERSION, entries: Object.fromEntries(entries) });
}

/**
 * Every value in what one account of the cache service holds, by secret name, read leniently (for the CLI's
 * scrubber, which must hide even a value the cache would not use): the server's item, or an entry kept the old way.
 */
export function cachedValues(account: string, text: string): Array<[string, string]> {
  const parsed = parseJson(text);
  if (!isObject(parsed)) return [];
  const entries =
    account === CACHE_ITEM_ACCOUNT ? (isObject(parsed.entries) ? Object.entries(parsed.entries) : []) : [[account, parsed] as const];
  return entries.flatMap(([name, entry]) =>
    isObject(entry) && typeof entry.value === 'string' ? [[name, entry.value] as [string, string]] : [],
  );
}
