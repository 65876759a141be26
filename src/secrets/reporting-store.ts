import { Scrubber } from '../log/scrubber.js';
import type { ProbeResult, SecretStore } from './store.js';

/** `error` with every form of `value` replaced in its message and stack. */
function withoutValue(error: unknown, label: string, value: string): unknown {
  if (!(error instanceof Error)) return error;
  const scrubber = new Scrubber();
  try {
    scrubber.add(label, value);
  } catch {
    return error; // too short to find in text: nothing can be replaced
  }
  error.message = scrubber.scrub(error.message);
  if (error.stack) error.stack = scrubber.scrub(error.stack);
  return error;
}

/** Hears every value a store read or wrote: `server`, secret `name` and the value (never log it). */
export type ValueListener = (server: string, name: string, value: string) => void;

/**
 * A SecretStore that tells `onValue` every value passing through it, so the CLI can scrub them from whatever it
 * prints, even from an error no part of the proxy expected.
 */
export class ReportingStore implements SecretStore {
  readonly #store: SecretStore;
  readonly #onValue: ValueListener;

  constructor(store: SecretStore, onValue: ValueListener) {
    this.#store = store;
    this.#onValue = onValue;
  }

  /** The wrapped store's backend name. */
  get backend(): string {
    return this.#store.backend;
  }

  /** The wrapped store's value, reported. */
  async get(server: string, name: string): Promise<string | null> {
    const value = await this.#store.get(server, name);
    if (value !== null) this.#onValue(server, name, value);
    return value;
  }

  /** The wrapped store's values, each reported. */
  async getAll(server: string): Promise<Map<string, string>> {
    const values = await this.#store.getAll(server);
    for (const [name, value] of values) this.#onValue(server, name, value);
    return values;
  }

  /** Reports the value once it is stored; a failed write's error is cleaned of it here, as it is not kept. */
  async set(server: string, name: string, value: string): Promise<void> {
    try {
      await this.#store.set(server, name, value);
    } catch (error) {
      throw withoutValue(error, `${server}/${name}`, value);
    }
    this.#onValue(server, name, value);
  }
  /** The wrapped store's update; the stored values `next` is given and the value it makes are reported, as get and set report theirs. */
  async update(server: string, name: string, next: (stored: ReadonlyMap<string, string>) => string | Promise<string>): Promise<void> {
    let value: string | undefined;
    try {
      await this.#store.update(server, name, async (stored) => {
        for (const [other, text] of stored) this.#onValue(server, other, text);
        return (value = await next(stored));
      });
    } catch (error) {
      throw value === undefined ? error : withoutValue(error, `${server}/${name}`, value);
    }
    this.#onValue(server, name, value!);
  }

  /** Passes through. */
  delete(server: string, name: string): Promise<boolean> {
    return this.#store.delete(server, name);
  }

  /** Passes through. */
  list(server: string): Promise<string[]> {
    return this.#store.list(server);
  }

  /** Passes through. */
  probe(): Promise<ProbeResult> {
    return this.#store.probe();
  }
}
