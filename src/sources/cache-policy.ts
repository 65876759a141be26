import type { SourceCacheConfig } from '../config/schema.js';
import { durationMs } from './duration.js';
import type { SecretSource } from './source.js';

/** How a server's op:// and command values are cached, resolved from its `"cache"`. */
export interface CachePolicy {
  /** 0: no cache. */
  ttlMs: number;
  stale: 'fail' | 'warn' | 'use';
}

/** Defaults of `"cache"`: 4 hours, and an expired value is used with a warning when the source is down. */
export const DEFAULT_CACHE: SourceCacheConfig = { ttl: '4h', stale: 'warn' };

/** The policy of a server's `"cache"` (or the defaults). */
export function cachePolicy(cache: SourceCacheConfig | undefined): CachePolicy {
  const { ttl, stale } = cache ?? DEFAULT_CACHE;
  return { ttlMs: durationMs(ttl), stale };
}

/** True for the sources whose values are cached: those that are slow or remote (op://, a program). */
export function isCacheable(source: SecretSource): boolean {
  return source.kind === 'op' || source.kind === 'command';
}
