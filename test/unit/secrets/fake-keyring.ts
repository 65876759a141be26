import type { KeyringBackend, KeyringEntry } from '../../../src/secrets/keyring-backend.js';

/** A keychain call KeyringStore makes on one entry. */
export type Op = 'get' | 'set' | 'delete';

/** One change to the fake keychain, in the order it happened. */
export interface Mutation {
  op: 'set' | 'delete';
  key: string;
  value?: string;
}

/** An in-memory stand-in for @napi-rs/keyring with failure injection and a log of every change. */
export class FakeKeyring implements KeyringBackend {
  readonly name = 'fake';
  readonly items: Map<string, string>;
  readonly mutations: Mutation[] = [];
  entriesOpened = 0;
  finds = 0;
  /** How many times KeyringStore ended the calls it gave up on. */
  abandoned = 0;
  /** Return an Error to make that call reject, 'hang' to make it never settle. */
  failOn: (op: Op, account: string, value?: string) => Error | 'hang' | undefined = () => undefined;
  throwOnOpen: Error | undefined;
  /** Awaited before every call settles, so tests can interleave two writers (e.g. `() => setImmediate`). */
  pause: () => Promise<void> = async () => undefined;

  constructor(items: ReadonlyMap<string, string> = new Map()) {
    this.items = new Map(items);
  }

  entry(service: string, account: string): KeyringEntry {
    if (this.throwOnOpen) throw this.throwOnOpen;
    this.entriesOpened += 1;
    const key = `${service}|${account}`;
    const guard = async (op: Op, value?: string): Promise<void> => {
      await this.pause();
      const failure = this.failOn(op, account, value);
      if (failure === 'hang') await new Promise(() => undefined);
      if (failure) throw failure;
    };
    return {
      getPassword: async () => (await guard('get'), this.items.get(key) ?? null),
      setPassword: async (value) => {
        await guard('set', value);
        this.items.set(key, value);
        this.mutations.push({ op: 'set', key, value });
      },
      deleteCredential: async () => {
        await guard('delete');
        this.mutations.push({ op: 'delete', key });
        return this.items.delete(key);
      },
    };
  }

  async findCredentials(service: string): Promise<Array<{ account: string; password: string }>> {
    this.finds += 1;
    await this.pause();
    return [...this.items]
      .filter(([key]) => key.startsWith(`${service}|`))
      .map(([key, password]) => ({ account: key.slice(service.length + 1), password }));
  }

  abandon(): void {
    this.abandoned += 1;
  }

  /** The accounts stored for a server, sorted, with each chunk generation shown as `<g>`. */
  accounts(server: string): string[] {
    return [...this.items.keys()]
      .filter((k) => k.startsWith(`mcp-keyproxy/${server}|`))
      .map((k) => (k.split('|')[1] ?? '').replace(/#[0-9a-f]{12}\./, '#<g>.'))
      .sort();
  }
}

/** An error as @napi-rs/keyring throws it. */
export const napi = (message: string): Error => Object.assign(new Error(message), { code: 'GenericFailure' });

/** A value of `n` characters made of `seed`. */
export const long = (seed: string, n = 2500): string => seed.repeat(Math.ceil(n / seed.length)).slice(0, n);
