import { describe, expect, it, vi } from 'vitest';
import { ExitCode, KeyproxyError } from '../../../src/errors.js';
import { KeyringStore } from '../../../src/secrets/keyring-store.js';
import type { SecretWriteLock } from '../../../src/secrets/write-lock.js';
import { FakeKeyring, long, napi } from './fake-keyring.js';

const SERVICE = 'mcp-keyproxy/s';
const noLock: SecretWriteLock = async () => async () => undefined;
const storeOn = (fake: FakeKeyring, writeLock: SecretWriteLock = noLock): KeyringStore => new KeyringStore({ backend: fake, writeLock });

/** The keychain after the first `steps` changes of a write: what a crash at that moment leaves behind. */
function crashedAfter(before: ReadonlyMap<string, string>, write: FakeKeyring, steps: number): FakeKeyring {
  const fake = new FakeKeyring(before);
  for (const change of write.mutations.slice(0, steps)) {
    if (change.op === 'set') fake.items.set(change.key, change.value ?? '');
    else fake.items.delete(change.key);
  }
  return fake;
}

describe('KeyringStore generations: a reader sees the old value or the new one, whole', () => {
  const transitions: Record<string, [string, string]> = {
    'long over long': [long('old-', 3500), long('new-', 2500)],
    'long over short': ['short-old-value', long('new-', 4200)],
    'short over long': [long('old-', 3100), 'short-new-value'],
    'long over long of the same length': [long('a', 3000), long('b', 3000)],
  };

  for (const [label, [oldValue, newValue]] of Object.entries(transitions)) {
    it(`a crash after any step of a write (${label}) leaves one whole value, and the next write cleans up`, async () => {
      const setup = new FakeKeyring();
      await storeOn(setup).set('s', 'K', oldValue);
      await storeOn(setup).set('s', 'OTHER', long('x', 1800));
      const before = new Map(setup.items);
      const write = new FakeKeyring(before);
      await storeOn(write).set('s', 'K', newValue);
      expect(write.mutations.length).toBeGreaterThan(1);

      for (let steps = 0; steps <= write.mutations.length; steps += 1) {
        const crashed = crashedAfter(before, write, steps);
        const reader = storeOn(crashed);
        const read = await reader.get('s', 'K');
        expect([oldValue, newValue], `after ${steps} of ${write.mutations.length} steps`).toContain(read);
        const all = await reader.getAll('s');
        expect(all.get('K')).toBe(read);
        expect(all.get('OTHER')).toBe(long('x', 1800));
        // Once the header is written the new value is what everyone reads.
        if (steps === write.mutations.length) expect(read).toBe(newValue);

        // Recovery: the next write leaves exactly its own accounts, and the other secret untouched.
        const next = long('z', 2200);
        await reader.set('s', 'K', next);
        expect(await reader.get('s', 'K')).toBe(next);
        expect(crashed.accounts('s').filter((a) => a.startsWith('K'))).toEqual(['K', 'K#<g>.1', 'K#<g>.2', 'K#<g>.3']);
        expect(await reader.get('s', 'OTHER')).toBe(long('x', 1800));
      }
    });
  }

  it('two writers that overlap step by step (no lock at all) never let a reader see a mix', async () => {
    const fake = new FakeKeyring();
    const first = long('old-', 3000);
    await storeOn(fake).set('s', 'K', first);
    const values = [long('A', 3000), long('B', 3000), long('C', 2100), long('D', 4000)];
    const seen: Array<string | null> = [];
    let writing = true;
    // Every keychain call yields, so the writers' steps interleave with each other and with the reader.
    fake.pause = () => new Promise((resolve) => setImmediate(resolve));
    const reader = (async () => {
      const store = storeOn(fake);
      while (writing) seen.push(await store.get('s', 'K'), (await store.getAll('s')).get('K') ?? null);
    })();
    await Promise.all(values.map((value) => storeOn(fake).set('s', 'K', value)));
    writing = false;
    await reader;
    expect(seen.length).toBeGreaterThan(4);
    for (const value of seen) expect([first, ...values]).toContain(value);
    expect(values).toContain(await storeOn(fake).get('s', 'K'));
  });

  it('get reads again when a write replaced the chunks between its header read and its chunk reads', async () => {
    const fake = new FakeKeyring();
    await storeOn(fake).set('s', 'K', long('old', 3000));
    const replaced = new FakeKeyring();
    await storeOn(replaced).set('s', 'K', long('new', 3000));
    let swapped = false;
    fake.failOn = (op, account) => {
      // Right after the reader has taken the old header, a writer swaps the value (new header, old chunks gone).
      if (op === 'get' && account !== 'K' && !swapped) {
        swapped = true;
        fake.items.clear();
        for (const [key, value] of replaced.items) fake.items.set(key, value);
      }
      return undefined;
    };
    expect(await storeOn(fake).get('s', 'K')).toBe(long('new', 3000));
    expect(swapped).toBe(true);
  });

  it('reads again when an item it found was deleted (by a writer) before its secret could be fetched', async () => {
    const fake = new FakeKeyring();
    await storeOn(fake).set('s', 'K', long('v', 2500));
    const find = fake.findCredentials.bind(fake);
    let calls = 0;
    fake.findCredentials = async (service) => {
      calls += 1;
      if (calls === 1) {
        // What the Secret Service answers when findCredentials reaches an item deleted since its search.
        throw napi(
          'zbus error: org.freedesktop.DBus.Error.UnknownMethod: Object does not exist at path “/org/freedesktop/secrets/collection/login/3”',
        );
      }
      return find(service);
    };
    expect((await storeOn(fake).getAll('s')).get('K')).toBe(long('v', 2500));
    expect(calls).toBe(2);
  });

  it('list, set and delete read again too when another process deleted an item of the same server meanwhile', async () => {
    const fake = new FakeKeyring();
    await storeOn(fake).set('s', 'K', long('v', 2500));
    const find = fake.findCredentials.bind(fake);
    let vanish = 0;
    fake.findCredentials = async (service) => {
      if (vanish > 0) {
        vanish -= 1;
        throw napi('zbus error: org.freedesktop.DBus.Error.UnknownMethod: Object does not exist at path “/x/4”');
      }
      return find(service);
    };
    vanish = 1;
    expect(await storeOn(fake).list('s')).toEqual(['K']);
    vanish = 1;
    await storeOn(fake).set('s', 'OTHER', 'other-value-1');
    vanish = 1;
    expect(await storeOn(fake).delete('s', 'K')).toBe(true);
    expect(await storeOn(fake).list('s')).toEqual(['OTHER']);
  });

  it('gives up with a clear error when a value stays incomplete (four reads)', async () => {
    const fake = new FakeKeyring();
    await storeOn(fake).set('s', 'K', long('v', 2500));
    const chunk = [...fake.items.keys()].find((key) => key.endsWith('.2')) ?? '';
    fake.items.delete(chunk);
    fake.finds = 0;
    const error = await storeOn(fake)
      .getAll('s')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEYCHAIN_FAILED', message: expect.stringContaining('chunk 2 of 3 is missing') });
    expect(fake.finds).toBe(4);
  });

  it('a header write that never answers keeps its chunks (it may still land); one that fails removes them', async () => {
    vi.useFakeTimers();
    try {
      const fake = new FakeKeyring();
      const store = new KeyringStore({ backend: fake, writeLock: noLock, timeoutMs: 1000 });
      await store.set('s', 'K', 'previous');
      fake.failOn = (op, account) => (op === 'set' && account === 'K' ? 'hang' : undefined);
      const pending = store.set('s', 'K', long('n', 2100)).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(1000);
      expect(await pending).toMatchObject({ code: 'KEYCHAIN_LOCKED' });
      expect(fake.accounts('s')).toEqual(['K', 'K#<g>.1', 'K#<g>.2', 'K#<g>.3']);
      expect(fake.items.get(`${SERVICE}|K`)).toBe('previous');
    } finally {
      vi.useRealTimers();
    }
  });

  it('set and delete change the keychain only while holding the write lock of that secret', async () => {
    const fake = new FakeKeyring();
    const events: string[] = [];
    const writeLock: SecretWriteLock = async (server, name) => {
      events.push(`lock ${server}/${name} at ${fake.mutations.length}`);
      return async () => {
        events.push(`unlock ${server}/${name} at ${fake.mutations.length}`);
      };
    };
    const store = storeOn(fake, writeLock);
    await store.set('s', 'K', long('v', 2500));
    await store.delete('s', 'K');
    expect(events).toEqual(['lock s/K at 0', 'unlock s/K at 4', 'lock s/K at 4', 'unlock s/K at 8']);
    await store.get('s', 'K');
    await store.getAll('s');
    expect(events).toHaveLength(4);
  });

  it('update reads every secret and writes one under its lock with one search; a failed write keeps the old value', async () => {
    const fake = new FakeKeyring();
    const events: string[] = [];
    const writeLock: SecretWriteLock = async (server, name) => {
      events.push(`lock ${name} at ${fake.mutations.length}`);
      return async () => {
        events.push(`unlock ${name} at ${fake.mutations.length}`);
      };
    };
    const store = storeOn(fake, writeLock);
    await store.set('s', 'A', 'a-1');
    await store.set('s', 'B', long('b', 2500));
    events.length = 0;
    fake.finds = 0;
    const before = fake.mutations.length;
    const seen: Array<Map<string, string>> = [];
    await store.update('s', 'A', (stored) => {
      seen.push(new Map(stored));
      return `${stored.get('A')}+${stored.get('B')!.length}`;
    });
    expect(seen).toEqual([
      new Map([
        ['A', 'a-1'],
        ['B', long('b', 2500)],
      ]),
    ]);
    expect(fake.finds, 'one search gives what next reads and what the write needs').toBe(1);
    expect(events).toEqual([`lock A at ${before}`, `unlock A at ${fake.mutations.length}`]);
    expect(await store.get('s', 'A')).toBe(`a-1+${long('b', 2500).length}`);

    // Over a chunked value, the old chunks go as they do with set; a failing write leaves the old value.
    await store.update('s', 'B', () => 'short-b');
    expect(fake.accounts('s')).toEqual(['A', 'B']);
    fake.failOn = (op, account) => (op === 'set' && account === 'B' ? napi('boom') : undefined);
    const error = await store.update('s', 'B', () => 'new-b').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEYCHAIN_FAILED' });
    expect((error as Error).message).not.toContain('new-b');
    fake.failOn = () => undefined;
    expect(await store.get('s', 'B')).toBe('short-b');
  });
});

describe('KeyringStore refuses values no server could be given', () => {
  it('refuses a NUL byte at store time (exit code 2), writes nothing and never echoes the value', async () => {
    const fake = new FakeKeyring();
    const error = await storeOn(fake)
      .set('s', 'K', 'secret-before\u0000secret-after')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyproxyError);
    expect(error).toMatchObject({ code: 'SECRET_INVALID', message: expect.stringContaining('NUL byte') });
    expect((error as KeyproxyError).exitCode).toBe(ExitCode.usage);
    expect((error as Error).message).not.toContain('secret-before');
    expect(fake.mutations).toEqual([]);
  });

  it('reports a NUL byte already in the keychain by name, not by value', async () => {
    const fake = new FakeKeyring(new Map([[`${SERVICE}|K`, 'stored-by-an-old-version\u0000tail']]));
    for (const read of [() => storeOn(fake).getAll('s'), () => storeOn(fake).get('s', 'K')]) {
      const error = await read().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'KEYCHAIN_FAILED', message: expect.stringContaining('mcp-keyproxy secrets set s K') });
      expect((error as Error).message).not.toContain('stored-by-an-old-version');
    }
  });
});
