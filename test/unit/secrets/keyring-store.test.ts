import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyproxyError } from '../../../src/errors.js';
import { CHUNK_HEADER_PREFIX } from '../../../src/secrets/chunking.js';
import { backendNameFor } from '../../../src/secrets/keyring-backend.js';
import { KeyringStore } from '../../../src/secrets/keyring-store.js';
import { FakeKeyring, long, napi } from './fake-keyring.js';

// The write lock lives in the runtime dir: keep it out of the user's.
const runtime = mkdtempSync(join(tmpdir(), 'keyproxy-store-run-'));
afterAll(() => rmSync(runtime, { recursive: true, force: true }));

describe('KeyringStore', () => {
  beforeEach(() => {
    vi.stubEnv('MCP_KEYPROXY_RUNTIME_DIR', runtime);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it('stores under mcp-keyproxy/<server>, reuses entries, and round-trips short and chunked values', async () => {
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake });
    expect(store.backend).toBe('fake');
    await store.set('gh', 'TOKEN', 'short');
    await store.set('gh', 'BIG', long('abc'));
    expect(fake.accounts('gh')).toEqual(['BIG', 'BIG#<g>.1', 'BIG#<g>.2', 'BIG#<g>.3', 'TOKEN']);
    expect(fake.items.get('mcp-keyproxy/gh|TOKEN')).toBe('short');
    const opened = fake.entriesOpened;
    expect(await store.get('gh', 'TOKEN')).toBe('short');
    expect(await store.get('gh', 'BIG')).toBe(long('abc'));
    expect(await store.get('gh', 'TOKEN')).toBe('short');
    expect(fake.entriesOpened).toBe(opened);
    expect(await store.get('gh', 'NONE')).toBeNull();
  });

  it('getAll uses one findCredentials call and joins chunks; list hides chunk accounts', async () => {
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake });
    await store.set('s', 'A', 'a');
    await store.set('s', 'B', long('xyz', 5000));
    await store.set('s', 'C', `${CHUNK_HEADER_PREFIX}looks-like-a-header`);
    fake.finds = 0;
    expect(await store.getAll('s')).toEqual(
      new Map([
        ['A', 'a'],
        ['B', long('xyz', 5000)],
        ['C', `${CHUNK_HEADER_PREFIX}looks-like-a-header`],
      ]),
    );
    expect(fake.finds).toBe(1);
    expect(await store.list('s')).toEqual(['A', 'B', 'C']);
  });

  it('overwriting a chunked value with a shorter one removes stale chunks', async () => {
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake });
    await store.set('s', 'K', long('1', 3500));
    expect(fake.accounts('s')).toEqual(['K', 'K#<g>.1', 'K#<g>.2', 'K#<g>.3', 'K#<g>.4']);
    await store.set('s', 'K', long('2', 1500));
    expect(fake.accounts('s')).toEqual(['K', 'K#<g>.1', 'K#<g>.2']);
    await store.set('s', 'K', 'tiny');
    expect(fake.accounts('s')).toEqual(['K']);
    expect(await store.get('s', 'K')).toBe('tiny');
  });

  it('delete removes the chunks too (and orphans) and reports whether the secret existed', async () => {
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake });
    await store.set('s', 'K', long('z', 2200));
    await store.set('s', 'KEEP', 'v');
    expect(await store.delete('s', 'K')).toBe(true);
    expect(fake.accounts('s')).toEqual(['KEEP']);
    fake.items.set('mcp-keyproxy/s|K#7', 'orphan');
    expect(await store.delete('s', 'K')).toBe(false);
    expect(fake.accounts('s')).toEqual(['KEEP']);
  });

  it('set is all-or-nothing: a failed chunk write leaves the previous chunked value as it was', async () => {
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake });
    const previous = long('old', 2500);
    await store.set('s', 'K', previous);
    const snapshot = new Map(fake.items);
    fake.failOn = (op, account) =>
      op === 'set' && /^K#[0-9a-f]{12}\.3$/.test(account) ? napi('Secret Service: unlock prompt was dismissed') : undefined;
    await expect(store.set('s', 'K', long('new', 3500))).rejects.toMatchObject({ code: 'KEYCHAIN_LOCKED' });
    fake.failOn = () => undefined;
    expect(fake.items).toEqual(snapshot);
    expect(await store.get('s', 'K')).toBe(previous);
  });

  it('set is all-or-nothing: a failed header write removes new chunks and keeps the short previous value', async () => {
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake });
    await store.set('s', 'K', 'previous');
    fake.failOn = (op, account, value) =>
      op === 'set' && account === 'K' && value?.startsWith(CHUNK_HEADER_PREFIX) ? napi('boom') : undefined;
    const error = await store.set('s', 'K', long('n', 2100)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEYCHAIN_FAILED' });
    expect((error as Error).message).not.toContain('nnnn');
    fake.failOn = () => undefined;
    expect(fake.accounts('s')).toEqual(['K']);
    expect(await store.get('s', 'K')).toBe('previous');
  });

  it('makes a call again when D-Bus says it got no reply (a slow daemon), up to three tries, and fails after the third', async () => {
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake });
    const noReply = () =>
      napi('Platform failure: DBus error: Did not receive a reply. Possible causes include: the reply timeout expired.');
    let left = 2;
    fake.failOn = (op) => (op === 'set' && left-- > 0 ? noReply() : undefined);
    await store.set('s', 'K', 'value-one');
    expect(await store.get('s', 'K')).toBe('value-one');
    left = 1;
    fake.failOn = (op) => (op === 'get' && left-- > 0 ? noReply() : undefined);
    expect(await store.get('s', 'K')).toBe('value-one');
    let tries = 0;
    fake.failOn = (op) => {
      if (op !== 'set') return undefined;
      tries += 1;
      return noReply();
    };
    await expect(store.set('s', 'K', 'value-two')).rejects.toMatchObject({ code: 'KEYCHAIN_FAILED' });
    expect(tries).toBe(3);
    fake.failOn = () => undefined;
    expect(await store.get('s', 'K')).toBe('value-one');
  });

  it('a failed first write of a new secret leaves nothing behind', async () => {
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake });
    fake.failOn = (op) => (op === 'set' ? napi('Secret Service: no result found') : undefined);
    await expect(store.set('s', 'K', 'v')).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    fake.failOn = () => undefined;
    expect(fake.accounts('s')).toEqual([]);
  });

  it('scrubs the value from an unknown library error', async () => {
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake });
    fake.failOn = (op, _account, value) => (op === 'set' ? napi(`cannot store ${value ?? ''}`) : undefined);
    const error = await store.set('s', 'K', 'hunter2-secret').catch((e: unknown) => e);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('maps a synchronous throw while opening an entry (no D-Bus session)', async () => {
    const fake = new FakeKeyring();
    fake.throwOnOpen = napi(
      'Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead',
    );
    const store = new KeyringStore({ backend: fake });
    const error = await store.get('s', 'K').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyproxyError);
    expect(error).toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE', message: expect.stringContaining('dbus-run-session') });
  });

  it('times out a hanging call with KEYCHAIN_LOCKED and keeps answering other calls', async () => {
    vi.useFakeTimers();
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake, timeoutMs: 5000 });
    await store.set('s', 'OK', 'fine');
    fake.failOn = (op, account) => (op === 'get' && account === 'STUCK' ? 'hang' : undefined);
    const stuck = store.get('s', 'STUCK').catch((e: unknown) => e);
    expect(await store.get('s', 'OK')).toBe('fine');
    expect(fake.abandoned).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(await stuck).toMatchObject({ code: 'KEYCHAIN_LOCKED', message: expect.stringContaining('no reply within 5 s') });
    // The call given up is ended (its connection broken), so it holds no thread and no value.
    expect(fake.abandoned).toBe(1);
  });

  it('probe reads, writes and deletes a throwaway entry', async () => {
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake });
    const result = await store.probe();
    expect(result.backend).toBe('fake');
    expect(fake.items.size).toBe(0);
    fake.failOn = (op) => (op === 'set' ? napi('Secret Service: unlock prompt was dismissed') : undefined);
    await expect(store.probe()).rejects.toMatchObject({ code: 'KEYCHAIN_LOCKED' });
    await expect(store.probe({ write: false })).resolves.toMatchObject({ backend: 'fake' });
  });

  it('names the backend per platform', () => {
    expect(backendNameFor('linux')).toBe('secret-service');
    expect(backendNameFor('darwin')).toBe('macos-keychain');
    expect(backendNameFor('win32')).toBe('windows-credential-manager');
  });
});
