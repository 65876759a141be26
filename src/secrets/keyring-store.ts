import { randomBytes } from 'node:crypto';
import { isChunkAccount, isChunkAccountOf, joinFromStorage, splitForStorage, assertSecretName } from './chunking.js';
import { napiKeyringBackend, type KeyringBackend, type KeyringEntry } from './keyring-backend.js';
import { mapKeyringError } from './keyring-errors.js';
import { keychainService, type ProbeResult, type SecretStore } from './store.js';
import { KEYCHAIN_TIMEOUT_MS, withTimeout } from './with-timeout.js';

/** Options of KeyringStore. */
export interface KeyringStoreOptions {
  /** The keychain library calls; defaults to @napi-rs/keyring. */
  backend?: KeyringBackend;
  /** Timeout of every keychain call in milliseconds; defaults to 5000. */
  timeoutMs?: number;
}

/** Service under which `probe` reads and writes its throwaway entry (outside `mcp-keyproxy/<server>`). */
export const PROBE_SERVICE = 'mcp-keyproxy-probe';

/** The OS keychain (Secret Service, macOS Keychain, Windows Credential Manager) through @napi-rs/keyring. */
export class KeyringStore implements SecretStore {
  readonly backend: string;
  readonly #lib: KeyringBackend;
  readonly #timeoutMs: number;
  readonly #entries = new Map<string, KeyringEntry>();

  constructor(options: KeyringStoreOptions = {}) {
    this.#lib = options.backend ?? napiKeyringBackend();
    this.#timeoutMs = options.timeoutMs ?? KEYCHAIN_TIMEOUT_MS;
    this.backend = this.#lib.name;
  }

  /** The value of one secret (joined from its chunks when long), or null when absent. */
  async get(server: string, name: string): Promise<string | null> {
    const service = keychainService(server);
    const stored = await this.#call(() => this.#entry(service, name).getPassword());
    return joinFromStorage(name, stored, (account) => this.#call(() => this.#entry(service, account).getPassword()));
  }

  /** Every secret of one server, from a single findCredentials call. */
  async getAll(server: string): Promise<Map<string, string>> {
    const stored = await this.#findAll(server);
    const result = new Map<string, string>();
    for (const [account, value] of stored) {
      if (isChunkAccount(account)) continue;
      const joined = await joinFromStorage(account, value, (chunk) => stored.get(chunk) ?? null);
      if (joined !== null) result.set(account, joined);
    }
    return result;
  }

  /** Stores chunks first and the header last; on failure restores every credential it touched. */
  async set(server: string, name: string, value: string): Promise<void> {
    const service = keychainService(server);
    const items = splitForStorage(name, value);
    const redact = [value, ...items.map((item) => item.value)];
    const before = await this.#findAll(server);
    const written: string[] = [];
    try {
      for (const item of items) {
        written.push(item.account);
        await this.#call(() => this.#entry(service, item.account).setPassword(item.value), redact);
      }
    } catch (error) {
      await this.#restore(service, written.reverse(), before);
      throw mapKeyringError(error, redact);
    }
    const kept = new Set(items.map((item) => item.account));
    const stale = [...before.keys()].filter((account) => isChunkAccountOf(account, name) && !kept.has(account));
    // The new value is complete and its header no longer points at these; a failed cleanup only leaves hidden
    // leftovers that the next set or delete removes, so it must not turn a successful set into an error.
    await Promise.allSettled(stale.map((account) => this.#call(() => this.#entry(service, account).deleteCredential())));
  }

  /** Removes one secret and its chunks; resolves false when it was not there. */
  async delete(server: string, name: string): Promise<boolean> {
    assertSecretName(name);
    const service = keychainService(server);
    const before = await this.#findAll(server);
    // The main account goes first so the secret disappears at once even if a chunk deletion fails.
    const existed = await this.#call(() => this.#entry(service, name).deleteCredential());
    const chunks = [...before.keys()].filter((account) => isChunkAccountOf(account, name));
    for (const account of chunks) await this.#call(() => this.#entry(service, account).deleteCredential());
    return existed;
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

  /** Runs one keychain call under the timeout; any failure (also a synchronous throw) becomes a KeyproxyError. */
  async #call<T>(run: () => Promise<T>, redact: readonly string[] = []): Promise<T> {
    try {
      return await withTimeout(Promise.resolve().then(run), this.#timeoutMs);
    } catch (error) {
      throw mapKeyringError(error, redact);
    }
  }

  async #findAll(server: string): Promise<Map<string, string>> {
    const credentials = await this.#call(() => this.#lib.findCredentials(keychainService(server)));
    return new Map(credentials.map((c) => [c.account, c.password]));
  }

  async #restore(service: string, accounts: readonly string[], before: ReadonlyMap<string, string>): Promise<void> {
    for (const account of accounts) {
      const previous = before.get(account);
      const undo = (): Promise<unknown> =>
        previous === undefined ? this.#entry(service, account).deleteCredential() : this.#entry(service, account).setPassword(previous);
      // Best effort: the original error is what the caller needs; a failed undo of one item must not stop the rest.
      await this.#call(undo).catch(() => undefined);
    }
  }
}
