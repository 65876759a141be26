import { KeyproxyError } from '../errors.js';
import { formatDuration } from './duration.js';
import { isCacheable, type CachePolicy } from './cache-policy.js';
import { readSourcesSettled, type SourceDeps, type SourceRequest } from './read-sources.js';
import type { CacheEntry, SourceCache } from './source-cache.js';
import { describeSource, type SecretSource } from './source.js';

/** What one read of one secret found; `value` is never logged. */
export interface SecretOutcome {
  secret: string;
  source: SecretSource;
  /** read: from its source now; fresh: from the cache, unexpired; stale: from the cache after the source failed. */
  how: 'read' | 'fresh' | 'stale' | 'failed';
  value?: string;
  /** When the value used was read from its source. */
  fetchedAt?: number;
  /** Read now and different from the value cached before (or nothing was cached). */
  changed?: boolean;
  /** Why the source gave no value (a `SOURCE_FAILED` message: names and fixes, never a value). */
  error?: KeyproxyError;
}

/** What reading with the cache needs beside the readers' own dependencies. */
export interface CachedReadDeps extends SourceDeps {
  /** The keychain cache; absent (or unreachable) means every value is read from its source. */
  cache?: SourceCache;
  now: () => number;
  /** The cache could not be read or written (the keychain is down): said at debug level, never fatal. */
  onCacheProblem?: (what: string, error: unknown) => void;
  /** Runs the cache write of a read that is not forced, perhaps later (a proxy's start: HeldWrites); default: at once. */
  holdWrite?: (write: () => Promise<void>) => Promise<void>;
}

/** The outcomes of one read, and the cache writes it started (awaited by `secrets refresh`, not by a start). */
export interface CachedRead {
  outcomes: SecretOutcome[];
  written: Promise<void>;
}

/**
 * Reads a server's sources through the cache: a fresh entry is used without running anything; an expired or
 * missing one (or every one, with `force`) is read from its source and cached. When a source fails and an entry
 * exists, the policy decides: "fail" → failed, "warn" and "use" → the cached value (stale). An entry of another
 * `"from"` is never used. Never throws for a source: each outcome says what happened.
 */
export async function readWithCache(
  server: string,
  requests: readonly SourceRequest[],
  policy: CachePolicy,
  deps: CachedReadDeps,
  options: { force?: boolean } = {},
): Promise<CachedRead> {
  const cached = policy.ttlMs > 0 && deps.cache !== undefined && requests.some(({ source }) => isCacheable(source));
  const cacheRead = cached
    ? deps.cache!.entries(server).catch((error: unknown) => {
        deps.onCacheProblem?.('read', error);
        return new Map<string, CacheEntry>();
      })
    : Promise.resolve(new Map<string, CacheEntry>());
  // A forced read runs every source anyway: the cache (for what changed, and for the stale policy) is read meanwhile.
  let entries = options.force ? new Map<string, CacheEntry>() : await cacheRead;
  const now = deps.now();
  const entryOf = ({ secret, source }: SourceRequest): CacheEntry | undefined => {
    if (!cached || !isCacheable(source)) return undefined;
    const entry = entries.get(secret);
    return entry?.source === describeSource(source) ? entry : undefined;
  };
  const outcomes = new Map<string, SecretOutcome>();
  const toRead: SourceRequest[] = [];
  for (const request of requests) {
    const entry = entryOf(request);
    if (
      !options.force &&
      entry?.value !== undefined &&
      entry.fetchedAt !== undefined &&
      now - entry.fetchedAt < policy.ttlMs &&
      now >= entry.fetchedAt
    ) {
      outcomes.set(request.secret, { ...request, how: 'fresh', value: entry.value, fetchedAt: entry.fetchedAt });
    } else {
      toRead.push(request);
    }
  }

  // A forced read (secrets refresh) waits for its cache write: the item's lock is taken and the item read while the
  // sources run, so that only the write is left once they answer.
  let handOver: ((entries: ReadonlyMap<string, CacheEntry>) => void) | undefined;
  const earlyWrite =
    options.force && cached
      ? deps
          .cache!.putMany(server, new Promise<ReadonlyMap<string, CacheEntry>>((resolve) => (handOver = resolve)))
          .catch((error: unknown) => deps.onCacheProblem?.('write', error))
      : undefined;
  const toCache = new Map<string, CacheEntry>();
  const write = (): Promise<void> => deps.cache!.putMany(server, toCache).catch((error: unknown) => deps.onCacheProblem?.('write', error));
  try {
    const settled = await readSourcesSettled(server, toRead, deps);
    if (options.force) entries = await cacheRead;
    const put = (secret: string, entry: CacheEntry): void => void toCache.set(secret, entry);
    const readAt = deps.now();
    toRead.forEach((request, index) => {
      const result = settled[index]!;
      const cacheable = cached && isCacheable(request.source);
      const source = describeSource(request.source);
      if (result.status === 'fulfilled') {
        const before = entryOf(request)?.value;
        outcomes.set(request.secret, { ...request, how: 'read', value: result.value, fetchedAt: readAt, changed: before !== result.value });
        if (cacheable) put(request.secret, { source, value: result.value, fetchedAt: readAt });
        return;
      }
      const error = asSourceError(result.reason);
      const entry = entryOf(request);
      if (cacheable) put(request.secret, { ...(entry ?? { source }), error: error.message, errorAt: readAt });
      if (entry?.value === undefined || entry.fetchedAt === undefined) {
        const note = cacheable ? ' Nothing is cached for it yet: once its source answers, its value is cached.' : '';
        outcomes.set(request.secret, { ...request, how: 'failed', error: withNote(error, note) });
      } else if (policy.stale === 'fail') {
        const note = ` A value read ${formatDuration(readAt - entry.fetchedAt)} ago is cached, but "cache": {"stale": "fail"} refuses an expired value; fix the source, or set "stale": "warn".`;
        outcomes.set(request.secret, { ...request, how: 'failed', error: withNote(error, note), fetchedAt: entry.fetchedAt });
      } else {
        outcomes.set(request.secret, { ...request, how: 'stale', value: entry.value, fetchedAt: entry.fetchedAt, error });
      }
    });
  } finally {
    // Whatever happened, the early write gets what there is (and lets go of the item's lock).
    handOver?.(toCache);
  }
  return {
    outcomes: requests.map((request) => outcomes.get(request.secret)!),
    written: earlyWrite ?? (toCache.size === 0 ? Promise.resolve() : deps.holdWrite ? deps.holdWrite(write) : write()),
  };
}

function asSourceError(reason: unknown): KeyproxyError {
  if (reason instanceof KeyproxyError) return reason;
  return new KeyproxyError('SOURCE_FAILED', reason instanceof Error ? reason.message : String(reason), { cause: reason });
}

function withNote(error: KeyproxyError, note: string): KeyproxyError {
  return note === '' ? error : new KeyproxyError(error.code, `${error.message}${note}`, { cause: error });
}
