import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeyproxyError } from '../../src/errors.js';
import { KeyringStore, PROBE_SERVICE } from '../../src/secrets/keyring-store.js';
import {
  compileKeyringStoreForChild,
  keyringCallInChild,
  lockLoginCollection,
  requireKeyringSession,
  secretToolAccounts,
  secretToolSearch,
  setActivationEnv,
  startBareBus,
  startXvfb,
  uniqueServer,
  unlockLoginCollection,
} from '../helpers/keyring.js';

requireKeyringSession();

const store = new KeyringStore();
const used: string[] = [];
function server(): string {
  const name = uniqueServer();
  used.push(name);
  return name;
}

afterAll(async () => {
  for (const name of used) for (const secret of await store.list(name)) await store.delete(name, secret);
});

describe('KeyringStore against a real gnome-keyring', () => {
  it('is the Secret Service backend', () => {
    expect(store.backend).toBe('secret-service');
  });

  it('set / get / getAll / list / overwrite / delete', async () => {
    const s = server();
    expect(await store.get(s, 'API_KEY')).toBeNull();
    expect(await store.list(s)).toEqual([]);
    await store.set(s, 'API_KEY', 'sk-first');
    await store.set(s, 'OTHER.token', 'ü-🔑-"quoted"');
    expect(await store.get(s, 'API_KEY')).toBe('sk-first');
    await store.set(s, 'API_KEY', 'sk-second');
    expect(await store.get(s, 'API_KEY')).toBe('sk-second');
    expect(await store.getAll(s)).toEqual(
      new Map([
        ['API_KEY', 'sk-second'],
        ['OTHER.token', 'ü-🔑-"quoted"'],
      ]),
    );
    expect(await store.list(s)).toEqual(['API_KEY', 'OTHER.token']);
    expect(await store.delete(s, 'API_KEY')).toBe(true);
    expect(await store.delete(s, 'API_KEY')).toBe(false);
    expect(await store.get(s, 'API_KEY')).toBeNull();
    expect(await store.list(s)).toEqual(['OTHER.token']);
    // A second process (a fresh store) sees the same keychain.
    expect(await new KeyringStore().get(s, 'OTHER.token')).toBe('ü-🔑-"quoted"');
  });

  it('a 10 KB value round-trips in chunks that secret-tool shows and list hides', async () => {
    const s = server();
    const big = Array.from({ length: 10 * 1024 }, (_, i) => String.fromCharCode(48 + (i % 75))).join('');
    await store.set(s, 'BIG', big);
    expect(await store.get(s, 'BIG')).toBe(big);
    expect(await new KeyringStore().get(s, 'BIG')).toBe(big);
    expect((await store.getAll(s)).get('BIG')).toBe(big);
    expect(await store.list(s)).toEqual(['BIG']);
    const generation = /^secret = mcp-keyproxy:chunked:v2:([0-9a-f]{12}):11:[0-9a-f]{16}$/m.exec(await secretToolSearch(s))?.[1];
    expect(generation).toBeDefined();
    const chunks = Array.from({ length: 11 }, (_, i) => `BIG#${generation}.${i + 1}`);
    expect(await secretToolAccounts(s)).toEqual(['BIG', ...chunks].sort());

    await store.set(s, 'BIG', 'now short');
    expect(await store.get(s, 'BIG')).toBe('now short');
    expect(await secretToolAccounts(s)).toEqual(['BIG']);
    await store.set(s, 'BIG', big);
    expect(await store.delete(s, 'BIG')).toBe(true);
    expect(await secretToolAccounts(s)).toEqual([]);
  });

  it('probe proves the keychain reachable and writable, and leaves nothing behind', async () => {
    const result = await store.probe();
    expect(result.backend).toBe('secret-service');
    expect(await secretToolAccounts('', PROBE_SERVICE)).toEqual([]);
  });

  it('measures first get, cached get and getAll of 10 secrets', async () => {
    const s = server();
    for (let i = 0; i < 10; i++) await store.set(s, `KEY_${i}`, `value-${i}`);
    const fresh = new KeyringStore();
    let t = performance.now();
    await fresh.get(s, 'KEY_0');
    const first = performance.now() - t;
    const cached: number[] = [];
    for (let i = 0; i < 20; i++) {
      t = performance.now();
      await fresh.get(s, 'KEY_0');
      cached.push(performance.now() - t);
    }
    const all: number[] = [];
    for (let i = 0; i < 10; i++) {
      t = performance.now();
      expect((await fresh.getAll(s)).size).toBe(10);
      all.push(performance.now() - t);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    process.stderr.write(
      `[keyring timings] first get ${first.toFixed(1)} ms, cached get p50 ${median(cached).toFixed(2)} ms, ` +
        `getAll(10) p50 ${median(all).toFixed(1)} ms\n`,
    );
    expect(median(cached)).toBeLessThan(first);
  });

  describe('when the keychain is locked', () => {
    afterEach(async () => {
      await unlockLoginCollection();
    });

    it('fails with KEYCHAIN_LOCKED instead of hanging, then works again once unlocked', async () => {
      const s = server();
      await store.set(s, 'TOKEN', 'locked-away');
      await lockLoginCollection();
      // A short timeout: when the daemon has a display, the unlock prompt waits and the timeout answers.
      const locked = new KeyringStore({ timeoutMs: 2000 });
      for (const call of [() => locked.get(s, 'TOKEN'), () => locked.getAll(s), () => locked.set(s, 'NEW', 'v')]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(KeyproxyError);
        expect(error).toMatchObject({ code: 'KEYCHAIN_LOCKED', message: expect.stringContaining('Unlock it') });
        expect((error as Error).message).not.toContain('locked-away');
      }
      await unlockLoginCollection();
      expect(await new KeyringStore().get(s, 'TOKEN')).toBe('locked-away');
    });

    it('times out (the call would wait forever on the unlock prompt) and keeps serving', async () => {
      const s = server();
      await store.set(s, 'TOKEN', 'v');
      const xvfb = await startXvfb();
      await setActivationEnv('DISPLAY', xvfb.display);
      try {
        await lockLoginCollection();
        const hanging = new KeyringStore({ timeoutMs: 1000 });
        const started = performance.now();
        const error = await hanging.get(s, 'TOKEN').catch((e: unknown) => e);
        expect(performance.now() - started).toBeLessThan(3000);
        expect(error).toMatchObject({ code: 'KEYCHAIN_LOCKED', message: expect.stringContaining('no reply within 1 s') });
        // The store still answers calls that need no unlock while the abandoned one hangs.
        expect(await hanging.get(s, 'NOT_THERE')).toBeNull();
      } finally {
        await setActivationEnv('DISPLAY', process.env.DISPLAY ?? '');
        await xvfb.stop();
      }
    });
  });

  describe('without a Secret Service (in a child process: the library keeps its D-Bus connection per process)', () => {
    let moduleUrl = '';
    beforeAll(async () => {
      moduleUrl = await compileKeyringStoreForChild();
    });
    afterAll(async () => {
      if (moduleUrl) await rm(new URL('..', moduleUrl), { recursive: true, force: true });
    });

    it('the child harness itself works against the sandbox keyring', async () => {
      expect(await keyringCallInChild(moduleUrl, process.env, 'get')).toEqual({ ok: true, value: null });
    });

    it('no Secret Service on the bus: KEYCHAIN_UNAVAILABLE with the fix', async () => {
      const bus = await startBareBus();
      try {
        const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus.address };
        for (const call of ['get', 'list', 'probe'] as const) {
          const result = await keyringCallInChild(moduleUrl, env, call);
          expect(result).toMatchObject({ ok: false, code: 'KEYCHAIN_UNAVAILABLE' });
          expect(result.message).toContain('No Secret Service is running');
          expect(result.message).toContain('dbus-run-session');
        }
      } finally {
        await bus.stop();
      }
    });

    it('no D-Bus session at all: KEYCHAIN_UNAVAILABLE', async () => {
      for (const env of [
        { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
        { ...process.env, DBUS_SESSION_BUS_ADDRESS: undefined, DISPLAY: undefined },
      ]) {
        for (const call of ['get', 'list'] as const) {
          const result = await keyringCallInChild(moduleUrl, env, call);
          expect(result).toMatchObject({ ok: false, code: 'KEYCHAIN_UNAVAILABLE' });
          expect(result.message).toContain('No D-Bus session bus');
        }
      }
    });
  });
});
