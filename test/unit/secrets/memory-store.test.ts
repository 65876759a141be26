import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyproxyError } from '../../../src/errors.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';

describe('MemoryStore', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('implements get / set / getAll / list / delete per server', async () => {
    const store = new MemoryStore({ initial: { github: { TOKEN: 't1' } } });
    expect(store.backend).toBe('memory');
    expect(await store.get('github', 'TOKEN')).toBe('t1');
    expect(await store.get('github', 'OTHER')).toBeNull();
    await store.set('github', 'B_KEY', 'b');
    await store.set('github', 'TOKEN', 't2');
    await store.set('slack', 'TOKEN', 's');
    expect(await store.list('github')).toEqual(['B_KEY', 'TOKEN']);
    expect(await store.getAll('github')).toEqual(
      new Map([
        ['TOKEN', 't2'],
        ['B_KEY', 'b'],
      ]),
    );
    expect(await store.delete('github', 'TOKEN')).toBe(true);
    expect(await store.delete('github', 'TOKEN')).toBe(false);
    expect(await store.list('github')).toEqual(['B_KEY']);
    expect(await store.getAll('nobody')).toEqual(new Map());
    expect(await store.get('slack', 'TOKEN')).toBe('s');
  });

  it('hands out copies', async () => {
    const store = new MemoryStore({ initial: { s: { A: '1' } } });
    (await store.getAll('s')).set('B', '2');
    expect(await store.list('s')).toEqual(['A']);
  });

  it('records calls by name only', async () => {
    const store = new MemoryStore();
    await store.set('s', 'A', 'value-1');
    await store.get('s', 'A');
    await store.list('s');
    expect(store.calls).toEqual(['set s/A', 'get s/A', 'list s']);
    expect(store.calls.join()).not.toContain('value-1');
  });

  it('injects failures without changing the store', async () => {
    const locked = new KeyproxyError('KEYCHAIN_LOCKED', 'locked');
    const store = new MemoryStore({
      initial: { s: { A: 'old' } },
      fail: (operation) => (operation === 'set' ? locked : undefined),
    });
    await expect(store.set('s', 'A', 'new')).rejects.toBe(locked);
    expect(await store.get('s', 'A')).toBe('old');
  });

  it('injects a delay that fake timers control', async () => {
    vi.useFakeTimers();
    const store = new MemoryStore({ initial: { s: { A: 'v' } }, delayMs: 1000 });
    let value: string | null | undefined;
    const pending = store.get('s', 'A').then((v) => (value = v));
    await vi.advanceTimersByTimeAsync(999);
    expect(value).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(value).toBe('v');
  });

  it('probes like a keychain, including injected failures', async () => {
    expect(await new MemoryStore().probe()).toEqual({ backend: 'memory', ms: 0 });
    const locked = new KeyproxyError('KEYCHAIN_LOCKED', 'locked');
    await expect(new MemoryStore({ fail: () => locked }).probe()).rejects.toBe(locked);
  });

  it('rejects invalid secret names', async () => {
    await expect(new MemoryStore().set('s', 'bad name', 'v')).rejects.toMatchObject({ code: 'SECRET_INVALID' });
  });
});
