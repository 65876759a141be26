import { DEFAULT_PROFILE } from '../config/profile.js';

/**
 * Keychain service name under which the secrets of one server are stored: `mcp-keyproxy/<server>` in the default
 * profile (as before profiles existed, so nothing moves), `mcp-keyproxy@<profile>/<server>` in another.
 */
export function keychainService(server: string, profile: string = DEFAULT_PROFILE): string {
  return profile === DEFAULT_PROFILE ? `mcp-keyproxy/${server}` : `mcp-keyproxy@${profile}/${server}`;
}

/**
 * Keychain service under which the cached values of one server's op:// and command sources are kept (the profile's
 * own, as for `keychainService`).
 */
export function cacheService(server: string, profile: string = DEFAULT_PROFILE): string {
  return profile === DEFAULT_PROFILE ? `mcp-keyproxy-cache/${server}` : `mcp-keyproxy-cache@${profile}/${server}`;
}

/**
 * The one account of `cacheService(server)` that holds every cached source value of the server, as JSON (see
 * SourceCache). No secret name contains ":", so it never meets the per-secret accounts the cache used before.
 */
export const CACHE_ITEM_ACCOUNT = ':cached-values';

/** What `SecretStore.probe` found: the backend name and how long the round trip took. */
export interface ProbeResult {
  backend: string;
  ms: number;
}

/**
 * Where secret values live. One instance per process; implementations reuse their connections.
 * Every method rejects with a `KeyproxyError` (never a raw library error) and never puts a value in a message.
 */
export interface SecretStore {
  /** Human-readable backend name, e.g. `secret-service` or `memory`. */
  readonly backend: string;
  /** The value of one secret, or null when absent. */
  get(server: string, name: string): Promise<string | null>;
  /** Every secret of one server, by name, in as few keychain round trips as the backend allows. */
  getAll(server: string): Promise<Map<string, string>>;
  /** Store or replace one secret. All-or-nothing: a failure leaves the previous value in place. */
  set(server: string, name: string, value: string): Promise<void>;
  /**
   * Stores or replaces one secret with what `next` makes of every secret the server has stored (by name), with no
   * other writer of that secret (in any process) between the read and the write, and one search fewer than a
   * getAll and a set. All-or-nothing as `set`. `next` may take its time (the lock is held meanwhile, so another
   * writer of that secret waits); it must not throw.
   */
  update(server: string, name: string, next: (stored: ReadonlyMap<string, string>) => string | Promise<string>): Promise<void>;
  /** Remove one secret; resolves false when it was not there. */
  delete(server: string, name: string): Promise<boolean>;
  /** Names of the secrets stored for one server. */
  list(server: string): Promise<string[]>;
  /** For `doctor`: proves the store is reachable and unlocked (may write and delete a throwaway entry). */
  probe(): Promise<ProbeResult>;
}
