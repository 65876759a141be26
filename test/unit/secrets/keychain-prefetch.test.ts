import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { beginKeychainPrefetch, claimPrefetchedRead, noteKeychainUse } from '../../../src/secrets/keychain-prefetch.js';
import { KeyringStore } from '../../../src/secrets/keyring-store.js';
import { keychainService } from '../../../src/secrets/store.js';
import { FakeKeyring } from './fake-keyring.js';

const state = mkdtempSync(join(tmpdir(), 'keyproxy-prefetch-'));
const runtime = mkdtempSync(join(tmpdir(), 'keyproxy-prefetch-run-'));
afterAll(() => {
  rmSync(state, { recursive: true, force: true });
  rmSync(runtime, { recursive: true, force: true });
});
const env = { MCP_KEYPROXY_STATE_DIR: state, MCP_KEYPROXY_RUNTIME_DIR: runtime };
const hint = (profile: string, server: string) => join(state, 'keychain-prefetch', profile, server);

/** A findCredentials that counts its calls and answers what `fake` holds. */
function countingBackend(fake: FakeKeyring) {
  const calls: string[] = [];
  return {
    calls,
    findCredentials: (service: string) => {
      calls.push(service);
      return fake.findCredentials(service);
    },
  };
}

// Each test uses servers of its own: the early reads are kept per process, by keychain service.
describe('the keychain read begun before the CLI loads', () => {
  // The store's write lock lives in the runtime dir.
  beforeEach(() => vi.stubEnv('MCP_KEYPROXY_RUNTIME_DIR', runtime));
  afterEach(() => vi.unstubAllEnvs());

  it('is begun only for a server whose last start read the keychain, and answers the store once', async () => {
    const fake = new FakeKeyring();
    const backend = countingBackend(fake);
    const store = new KeyringStore({ backend: fake });
    await store.set('gh', 'TOKEN', 'v1');

    beginKeychainPrefetch('gh', 'default', env, backend);
    expect(backend.calls, 'no hint yet: the keychain is not touched').toEqual([]);

    noteKeychainUse('gh', 'default', env, true);
    expect(statSync(hint('default', 'gh')).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, 'keychain-prefetch')).mode & 0o777).toBe(0o700);

    beginKeychainPrefetch('gh', 'default', env, backend);
    expect(backend.calls).toEqual(['mcp-keyproxy/gh']);
    fake.finds = 0;
    expect(await store.getAll('gh')).toEqual(new Map([['TOKEN', 'v1']]));
    expect(fake.finds, 'the store took the early answer').toBe(0);
    expect(await store.getAll('gh')).toEqual(new Map([['TOKEN', 'v1']]));
    expect(fake.finds, 'a second read asks the keychain itself').toBe(1);
  });

  it('is dropped when the store writes that server first (it would not see the write)', async () => {
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake });
    await store.set('linear', 'KEY', 'old');
    noteKeychainUse('linear', 'default', env, true);
    beginKeychainPrefetch('linear', 'default', env, countingBackend(fake));
    await store.delete('linear', 'KEY');
    await store.set('linear', 'KEY', 'new');
    expect(await store.getAll('linear')).toEqual(new Map([['KEY', 'new']]));
  });

  it('keeps profiles apart and ignores a hint that others can write or that is not a file', async () => {
    const fake = new FakeKeyring();
    const backend = countingBackend(fake);
    noteKeychainUse('slack', 'work', env, true);
    expect(existsSync(hint('work', 'slack'))).toBe(true);
    beginKeychainPrefetch('slack', 'default', env, backend);
    expect(backend.calls).toEqual([]);
    beginKeychainPrefetch('slack', 'work', env, backend);
    expect(backend.calls).toEqual([keychainService('slack', 'work')]);
    expect(claimPrefetchedRead(keychainService('slack', 'work'))).toBeDefined();

    mkdirSync(join(state, 'keychain-prefetch', 'default'), { recursive: true });
    writeFileSync(hint('default', 'shared'), '');
    chmodSync(hint('default', 'shared'), 0o666);
    mkdirSync(hint('default', 'folder'));
    beginKeychainPrefetch('shared', 'default', env, backend);
    beginKeychainPrefetch('folder', 'default', env, backend);
    expect(backend.calls).toHaveLength(1);
  });

  it('removes the hint when a start no longer reads the keychain, and drops what was read early', async () => {
    const fake = new FakeKeyring();
    const backend = countingBackend(fake);
    noteKeychainUse('envonly', 'default', env, true);
    beginKeychainPrefetch('envonly', 'default', env, backend);
    expect(backend.calls).toHaveLength(1);
    noteKeychainUse('envonly', 'default', env, false);
    expect(existsSync(hint('default', 'envonly'))).toBe(false);
    expect(claimPrefetchedRead(keychainService('envonly'))).toBeUndefined();
  });

  it('leaves a failed early read to the store, which asks again and reports its own outcome', async () => {
    const fake = new FakeKeyring();
    const store = new KeyringStore({ backend: fake });
    await store.set('jira', 'TOKEN', 'v');
    noteKeychainUse('jira', 'default', env, true);
    const failing = { findCredentials: () => Promise.reject(new Error('Did not receive a reply')) };
    beginKeychainPrefetch('jira', 'default', env, failing);
    fake.finds = 0;
    // The store's NoReply retry makes the call itself: the early answer is used for the first attempt only.
    expect(await store.getAll('jira')).toEqual(new Map([['TOKEN', 'v']]));
    expect(fake.finds).toBe(1);
    // An unclaimed failure is no unhandled rejection (vitest fails the run on one).
    beginKeychainPrefetch('jira', 'default', env, { findCredentials: () => Promise.reject(new Error('no bus')) });
    await new Promise((resolve) => setTimeout(resolve, 10));
  });
});
