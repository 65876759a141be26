import type { KeyproxyError } from '../errors.js';
import { assertAccountName } from './chunking.js';
import type { ProbeResult, SecretStore } from './store.js';

/** The SecretStore methods, as named in MemoryStore's failure hook. */
export type SecretStoreOperation = 'get' | 'getAll' | 'set' | 'delete' | 'list' | 'probe';

/** Options of MemoryStore, to test how callers cope with a slow or failing keychain. */
export interface MemoryStoreOptions {
  /** Initial contents: server → name → value. */
  initial?: Record<string, Record<string, string>>;
  /** Delay before every call settles, in milliseconds (works with fake timers). */
  delayMs?: number;
  /** Called before every operation; an error it returns is thrown instead (the store is left unchanged). */
  fail?: (operation: SecretStoreOperation, server: string, name?: string) => KeyproxyError | undefined;
}

/** A SecretStore in process memory, for tests. */
export class MemoryStore implements SecretStore {
  readonly backend = 'memory';
  readonly #servers = new Map<string, Map<string, string>>();
  readonly #options: MemoryStoreOptions;
  /** Every call made, in order, as `operation server[/name]` (never values). */
  readonly calls: string[] = [];

  constructor(options: MemoryStoreOptions = {}) {
    this.#options = options;
    for (const [server, secrets] of Object.entries(options.initial ?? {})) {
      this.#servers.set(server, new Map(Object.entries(secrets)));
    }
  }

  /** The value of one secret, or null when absent. */
  async get(server: string, name: string): Promise<string | null> {
    await this.#enter('get', server, name);
    return this.#servers.get(server)?.get(name) ?? null;
  }

  /** A copy of every secret of one server. */
  async getAll(server: string): Promise<Map<string, string>> {
    await this.#enter('getAll', server);
    return new Map(this.#servers.get(server));
  }

  /** Stores or replaces one secret. */
  async set(server: string, name: string, value: string): Promise<void> {
    assertAccountName(name);
    await this.#enter('set', server, name);
    let secrets = this.#servers.get(server);
    if (!secrets) {
      secrets = new Map();
      this.#servers.set(server, secrets);
    }
    secrets.set(name, value);
  }
  /** `set` of what `next` makes of `getAll` (in one process nothing comes between them). */
  async update(server: string, name: string, next: (stored: ReadonlyMap<string, string>) => string | Promise<string>): Promise<void> {
    await this.set(server, name, await next(await this.getAll(server)));
  }

  /** Removes one secret; resolves false when it was not there. */
  async delete(server: string, name: string): Promise<boolean> {
    await this.#enter('delete', server, name);
    const secrets = this.#servers.get(server);
    const existed = secrets?.delete(name) ?? false;
    if (secrets?.size === 0) this.#servers.delete(server);
    return existed;
  }

  /** Sorted names of the secrets of one server. */
  async list(server: string): Promise<string[]> {
    await this.#enter('list', server);
    return [...(this.#servers.get(server)?.keys() ?? [])].sort();
  }

  /** Always reachable, unless the failure hook says otherwise. */
  async probe(): Promise<ProbeResult> {
    await this.#enter('probe', 'doctor');
    return { backend: this.backend, ms: 0 };
  }

  async #enter(operation: SecretStoreOperation, server: string, name?: string): Promise<void> {
    this.calls.push(name === undefined ? `${operation} ${server}` : `${operation} ${server}/${name}`);
    const delay = this.#options.delayMs ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const error = this.#options.fail?.(operation, server, name);
    if (error) throw error;
  }
}
