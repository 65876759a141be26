import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  assertAccountName,
  chunkGeneration,
  isChunkAccount,
  isChunkAccountOf,
  isIncompleteRead,
  joinFromStorage,
  MAX_CHUNK_UNITS,
  newGeneration,
  splitForStorage,
} from './chunking.js';
import { napiKeyringBackend, type KeyringBackend, type KeyringEntry } from './keyring-backend.js';
import { mapKeyringError } from './keyring-errors.js';
import { claimPrefetchedRead } from './keychain-prefetch.js';
import { CACHE_ITEM_ACCOUNT, keychainService, type ProbeResult, type SecretStore } from './store.js';
import { trackKeychainCall } from './calls-in-flight.js';
import { assertInjectableValue, assertStoredValueUsable } from './value-rules.js';
import { KEYCHAIN_TIMEOUT_MS, withTimeout } from './with-timeout.js';
import { fileWriteLock, type SecretWriteLock } from './write-lock.js';

/** Options of KeyringStore. */
export interface KeyringStoreOptions {
  /** The keychain library calls; defaults to @napi-rs/keyring. */
  backend?: KeyringBackend;
  /** Timeout of every keychain call in milliseconds; defaults to 5000. */
  timeoutMs?: number;
  /** Serialises writes of one secret across processes; defaults to a proper-lockfile lock in the runtime dir. */
  writeLock?: SecretWriteLock;
  /**
   * The keychain service of a server's entries; defaults to `mcp-keyproxy/<server>`. The source cache and OAuth
   * state (`mcp-keyproxy-oauth/<server>`, src/oauth/) use their own.
   */
  service?: (server: string) => string;
  /** The credential profile of those entries, named in the fix of a value that cannot be read. */
  profile?: string;
}

/** Service under which `probe` reads and writes its throwaway entry (outside `mcp-keyproxy/<server>`). */
export const PROBE_SERVICE = 'mcp-keyproxy-probe';

/** How many times a read is tried when a write in another process replaced the chunks it was reading. */
const READ_ATTEMPTS = 4;
const READ_RETRY_MS = 25;
/** Tries of a call the library reports as NoReply: it reports it after 2 s, so three fit in the 5 s timeout. */
const NO_REPLY_TRIES = 3;

/**
 * True when a keychain call failed because an item it had found was deleted before it could be read: the Secret
 * Service answers `UnknownMethod` / `UnknownObject` for the vanished object path. Reading again sees the new state.
 */
function isVanishedItem(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error && /UnknownMethod|UnknownObject|Object does not exist/.test(cause.message);
}

/**
 * True for the library's "Did not receive a reply" (D-Bus NoReply): its own per-call D-Bus timeout (a couple of
 * seconds) ran out, seen when gnome-keyring was slow on a loaded machine. Every call this store makes may be made
 * again (a write replaces the same item, a delete of a missing item is no error, reads change nothing), so such a
 * call is made again, up to {@link NO_REPLY_TRIES} tries in all, while the store's own timeout has not given up on it.
 */
function isNoReply(error: unknown): boolean {
  return error instanceof Error && /Did not receive a reply|Error\.NoReply/.test(error.message);
}

/**
 * Throws SECRET_INVALID for an account no secret can have, or a secret's value no server could be given. The source
 * cache's own account holds JSON of many such values (JSON escapes NUL and lone surrogates), so it has no size limit.
 */
function assertStorable(name: string, value: string): void {
  assertAccountName(name);
  if (name !== CACHE_ITEM_ACCOUNT) assertInjectableValue(name, value);
}

/** The OS keychain (Secret Service, macOS Keychain, Windows Credential Manager) through @napi-rs/keyring. */
export class KeyringStore implements SecretStore {
  readonly backend: string;
  readonly #lib: KeyringBackend;
  readonly #timeoutMs: number;
  readonly #writeLock: SecretWriteLock;
  readonly #service: (server: string) => string;
  readonly #entries = new Map<string, KeyringEntry>();
  readonly #profile: string | undefined;

  constructor(options: KeyringStoreOptions = {}) {
    this.#lib = options.backend ?? napiKeyringBackend();
    this.#timeoutMs = options.timeoutMs ?? KEYCHAIN_TIMEOUT_MS;
    this.#writeLock = options.writeLock ?? fileWriteLock();
    this.#service = options.service ?? keychainService;
    this.#profile = options.profile;
    this.backend = this.#lib.name;
  }

  /** The value of one secret (joined from its chunks when long), or null when absent. */
  async get(server: string, name: string): Promise<string | null> {
    const service = this.#service(server);
    const value = await this.#retryRead(async () => {
      const stored = await this.#call(() => this.#entry(service, name).getPassword());
      return joinFromStorage(name, stored, (account) => this.#call(() => this.#entry(service, account).getPassword()), {
        server,
        profile: this.#profile,
      });
    });
    if (value !== null) assertStoredValueUsable(server, name, value, this.#profile);
    return value;
  }

  /** Every secret of one server, from a single findCredentials call (more only while another process writes). */
  async getAll(server: string): Promise<Map<string, string>> {
    return this.#retryRead(async () => this.#joined(server, await this.#findAll(server)));
  }

  /** Stores or replaces one secret under its cross-process write lock (see #replace). */
  async set(server: string, name: string, value: string): Promise<void> {
    assertStorable(name, value);
    await this.#locked(server, [name], async () => this.#replace(this.#service(server), await this.#findAll(server), name, value));
  }

  /** See SecretStore.update: under the secret's write lock, one search gives both what `next` reads and what #replace needs. */
  async update(server: string, name: string, next: (stored: ReadonlyMap<string, string>) => string | Promise<string>): Promise<void> {
    await this.#locked(server, [name], async () => {
      const [before, stored] = await this.#retryRead(async () => {
        const found = await this.#findAll(server);
        return [found, await this.#joined(server, found)] as const;
      });
      const value = await next(stored);
      assertStorable(name, value);
      await this.#replace(this.#service(server), before, name, value);
    });
  }

  /** The secrets in what one search found (`#findAll`), by name, each joined from its chunks. */
  async #joined(server: string, stored: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    for (const [account, value] of stored) {
      if (isChunkAccount(account)) continue;
      const joined = await joinFromStorage(account, value, (chunk) => stored.get(chunk) ?? null, { server, profile: this.#profile });
      if (joined === null) continue;
      assertStoredValueUsable(server, account, joined, this.#profile);
      result.set(account, joined);
    }
    return result;
  }

  /**
   * Writes the chunks of `name` under a fresh generation, then the header that names it, then deletes every older
   * chunk; `before` is what the server's service held (searched under the secret's write lock). A failure (or a
   * crash) at any step leaves the old or the new value readable, never a mix; a failed write removes the chunks it
   * wrote.
   */
  async #replace(service: string, before: ReadonlyMap<string, string>, name: string, value: string): Promise<void> {
    const items = splitForStorage(name, value, MAX_CHUNK_UNITS, this.#unusedGeneration(before, name));
    const header = items.at(-1);
    const chunks = items.slice(0, -1);
    const redact = [value, ...items.map((item) => item.value)];
    const written: string[] = [];
    try {
      for (const chunk of chunks) {
        written.push(chunk.account);
        await this.#call(() => this.#entry(service, chunk.account).setPassword(chunk.value), redact);
      }
    } catch (error) {
      await this.#forget(service, written);
      throw mapKeyringError(error, redact);
    }
    if (header) {
      const outcome = await this.#write(service, header.account, header.value, redact);
      if (outcome.error) {
        // A header write that timed out may still land: its chunks must then be there for it.
        if (!outcome.unanswered) await this.#forget(service, written);
        throw outcome.error;
      }
    }
    const stale = [...before.keys()].filter((account) => isChunkAccountOf(account, name));
    // The new header no longer points at these; a failed cleanup only leaves hidden leftovers that the next set
    // or delete removes, so it must not turn a successful set into an error.
    await this.#forget(service, stale);
  }

  /** Removes one secret and its chunks (under its write lock); resolves false when it was not there. */
  async delete(server: string, name: string): Promise<boolean> {
    assertAccountName(name);
    return this.#locked(server, [name], async () => {
      const service = this.#service(server);
      const before = await this.#findAll(server);
      // The main account goes first so the secret disappears at once even if a chunk deletion fails.
      const existed = await this.#call(() => this.#entry(service, name).deleteCredential());
      const chunks = [...before.keys()].filter((account) => isChunkAccountOf(account, name));
      for (const account of chunks) await this.#call(() => this.#entry(service, account).deleteCredential());
      return existed;
    });
  }

  /** Names of the secrets stored for one server, sorted, without chunk accounts. */
  async list(server: string): Promise<string[]> {
    const stored = await this.#findAll(server);
    return [...stored.keys()].filter((account) => !isChunkAccount(account)).sort();
  }

  /**
   * Proves the keychain is reachable and unlocked for `doctor`: reads a missing entry, then writes, reads back
   * and deletes a throwaway one (a locked Secret Service answers reads of missing items without unlocking).
   */
  async probe(options: { write?: boolean } = {}): Promise<ProbeResult> {
    const started = performance.now();
    const account = `probe-${randomBytes(6).toString('hex')}`;
    const entry = (): KeyringEntry => this.#entry(PROBE_SERVICE, account);
    await this.#call(() => entry().getPassword());
    if (options.write ?? true) {
      const token = randomBytes(8).toString('hex');
      try {
        await this.#call(() => entry().setPassword(token));
        const back = await this.#call(() => entry().getPassword());
        if (back !== token) throw new Error('probe entry read back a different value');
      } finally {
        await this.#call(() => entry().deleteCredential()).catch(() => false);
        this.#entries.delete(`${PROBE_SERVICE}\u0000${account}`);
      }
    }
    return { backend: this.backend, ms: performance.now() - started };
  }

  #entry(service: string, account: string): KeyringEntry {
    const key = `${service}\u0000${account}`;
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = this.#lib.entry(service, account);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /**
   * Runs one keychain call under the timeout; any failure (also a synchronous throw) becomes a KeyproxyError. A
   * call that does not answer in time is ended (its connection broken), so it holds no thread and no value.
   */
  async #call<T>(run: () => Promise<T>, redact: readonly string[] = []): Promise<T> {
    let abandoned = false;
    const attempt = (tries: number): Promise<T> =>
      Promise.resolve()
        .then(run)
        .catch((error: unknown) => (isNoReply(error) && tries < NO_REPLY_TRIES && !abandoned ? attempt(tries + 1) : Promise.reject(error)));
    try {
      return await withTimeout(trackKeychainCall(attempt(1)), this.#timeoutMs, () => {
        abandoned = true;
        this.#lib.abandon?.();
      });
    } catch (error) {
      throw mapKeyringError(error, redact);
    }
  }

  /** One write under the timeout, telling a failure from a call that never answered (and may still land). */
  async #write(
    service: string,
    account: string,
    value: string,
    redact: readonly string[],
  ): Promise<{ error?: Error; unanswered?: boolean }> {
    // Whether the latest attempt answered (#call may make the call again).
    let answered = false;
    const attempt = (): Promise<void> => {
      answered = false;
      return Promise.resolve()
        .then(() => this.#entry(service, account).setPassword(value))
        .finally(() => {
          answered = true;
        });
    };
    try {
      await this.#call(attempt, redact);
      return {};
    } catch (error) {
      return { error: error as Error, unanswered: !answered };
    }
  }

  /** Runs `run` holding the cross-process write lock of each of `names` (taken in the order given). */
  async #locked<T>(server: string, names: readonly string[], run: () => Promise<T>): Promise<T> {
    // A read begun early (keychain-prefetch.ts) would not see this write: it is dropped, and a later read asks.
    void claimPrefetchedRead(this.#service(server));
    const releases: Array<() => Promise<void>> = [];
    try {
      for (const name of names) releases.push(await this.#writeLock(server, name));
      return await run();
    } finally {
      // A lock that cannot be removed is judged stale by the next writer; the write itself is done.
      for (const release of releases.reverse()) await release().catch(() => undefined);
    }
  }

  async #retryRead<T>(read: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await read();
      } catch (error) {
        if (attempt >= READ_ATTEMPTS || !(isIncompleteRead(error) || isVanishedItem(error))) throw error;
        await sleep(READ_RETRY_MS);
      }
    }
  }

  /** A generation no chunk of `name` uses yet. */
  #unusedGeneration(before: ReadonlyMap<string, string>, name: string): string {
    const used = new Set([...before.keys()].filter((account) => isChunkAccountOf(account, name)).map(chunkGeneration));
    let generation = newGeneration();
    while (used.has(generation)) generation = newGeneration();
    return generation;
  }

  async #findAll(server: string): Promise<Map<string, string>> {
    // An item deleted by another process between the search and the read of its value fails the whole call
    // ("Object does not exist"): read again, as getAll does, so writes and deletes of other secrets of the same
    // server (in other processes) do not fail a list, set or delete.
    const service = this.#service(server);
    // The read bin/ began for a client's start (keychain-prefetch.ts) answers the first attempt; any other is asked.
    let early = claimPrefetchedRead(service);
    return this.#retryRead(async () => {
      const credentials = await this.#call(() => {
        const read = early ?? this.#lib.findCredentials(service);
        early = undefined;
        return read;
      });
      return new Map(credentials.map((c) => [c.account, c.password]));
    });
  }

  /** Deletes accounts nothing points at, best effort: the caller's own outcome is what matters. */
  async #forget(service: string, accounts: readonly string[]): Promise<void> {
    await Promise.allSettled(accounts.map((account) => this.#call(() => this.#entry(service, account).deleteCredential())));
  }
}
