import { describe, expect, it } from 'vitest';
import {
  CHUNK_HEADER_PREFIX,
  MAX_CHUNK_UNITS,
  isChunkAccount,
  chunkGeneration,
  isChunkAccountOf,
  isIncompleteRead,
  joinFromStorage,
  parseChunkHeader,
  splitForStorage,
} from '../../../src/secrets/chunking.js';

const GEN = '0123456789ab';
import { SECRET_NAME_RULE } from '../../../src/config/names.js';

/** Round-trips through a fake keychain the way KeyringStore does: main account first, chunks on demand. */
async function roundTrip(name: string, value: string, maxUnits?: number): Promise<string | null> {
  const items = splitForStorage(name, value, maxUnits);
  const stored = new Map(items.map((item) => [item.account, item.value]));
  return joinFromStorage(name, stored.get(name) ?? null, (account) => stored.get(account) ?? null);
}

function expectWindowsSized(name: string, value: string): void {
  for (const item of splitForStorage(name, value)) {
    expect(Buffer.byteLength(item.value, 'utf16le')).toBeLessThanOrEqual(2560);
    // A lone surrogate would not survive UTF-8 or UTF-16 re-encoding by the keychain.
    expect(Buffer.from(item.value, 'utf8').toString('utf8')).toBe(item.value);
  }
}

describe('splitForStorage / joinFromStorage', () => {
  const cases: Record<string, string> = {
    empty: '',
    ascii: 'sk-live-abcdef0123456789',
    'exactly at the limit': 'a'.repeat(MAX_CHUNK_UNITS),
    'one past the limit': 'b'.repeat(MAX_CHUNK_UNITS + 1),
    'two chunks exactly': 'c'.repeat(MAX_CHUNK_UNITS * 2),
    long: 'x'.repeat(10_000),
    '100 KB': Array.from({ length: 100 * 1024 }, (_, i) => String.fromCharCode(33 + (i % 90))).join(''),
    'emoji across boundaries': 'a' + '😀'.repeat(3000),
    'emoji at the limit': 'a'.repeat(MAX_CHUNK_UNITS - 1) + '😀' + 'tail',
    'multi-byte (UTF-8) text': 'ключ-秘密-🔑'.repeat(400),
    'starts with the header prefix': `${CHUNK_HEADER_PREFIX}2:0123456789abcdef`,
    'exactly the prefix': CHUNK_HEADER_PREFIX,
    'long value starting with the prefix': CHUNK_HEADER_PREFIX + 'z'.repeat(5000),
  };

  for (const [label, value] of Object.entries(cases)) {
    it(`round-trips: ${label}`, async () => {
      expect(await roundTrip('API_KEY', value)).toBe(value);
      expectWindowsSized('API_KEY', value);
    });
  }

  it('keeps a short value in the main account alone', () => {
    expect(splitForStorage('TOKEN', 'abc')).toEqual([{ account: 'TOKEN', value: 'abc' }]);
  });

  it('writes chunks NAME#<generation>.1..n first and the header, which names the generation, last', () => {
    const items = splitForStorage('TOKEN', 'q'.repeat(2500), undefined, GEN);
    expect(items.map((item) => item.account)).toEqual([`TOKEN#${GEN}.1`, `TOKEN#${GEN}.2`, `TOKEN#${GEN}.3`, 'TOKEN']);
    expect(items.at(-1)?.value).toMatch(new RegExp(`^mcp-keyproxy:chunked:v2:${GEN}:3:[0-9a-f]{16}$`));
    const header = parseChunkHeader(items.at(-1)?.value ?? '');
    expect(header).toEqual({ generation: GEN, count: 3, digest: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  it('puts every write of a long value under a fresh generation', () => {
    const generations = new Set(
      Array.from({ length: 50 }, () => chunkGeneration(splitForStorage('T', 'q'.repeat(2500))[0]?.account ?? '')),
    );
    expect(generations.size).toBe(50);
    for (const generation of generations) expect(generation).toMatch(/^[0-9a-f]{12}$/);
  });

  it('stores a short value that looks like a header as one chunk plus a real header', () => {
    const value = `${CHUNK_HEADER_PREFIX}v2:${GEN}:1:0000000000000000`;
    const items = splitForStorage('TOKEN', value, undefined, GEN);
    expect(items.map((item) => item.account)).toEqual([`TOKEN#${GEN}.1`, 'TOKEN']);
    expect(items[0]?.value).toBe(value);
  });

  it('still reads the v1 format (chunks NAME#1..n, no generation) that earlier versions wrote', async () => {
    const value = 'v1-'.repeat(1000);
    const v2 = splitForStorage('K', value, undefined, GEN);
    const digest = parseChunkHeader(v2.at(-1)?.value ?? '')?.digest;
    const stored = new Map(v2.slice(0, -1).map((item, i) => [`K#${i + 1}`, item.value]));
    const header = `mcp-keyproxy:chunked:v1:${stored.size}:${digest}`;
    expect(parseChunkHeader(header)).toEqual({ generation: null, count: 3, digest });
    expect(await joinFromStorage('K', header, (a) => stored.get(a) ?? null)).toBe(value);
  });

  it("reads only the header's generation: chunks of another write are never joined in", async () => {
    const old = splitForStorage('K', 'o'.repeat(2500), undefined, GEN);
    const next = splitForStorage('K', 'n'.repeat(2500), undefined, 'ba9876543210');
    // Every chunk of both writes is present: the new header must take only its own.
    const stored = new Map([...old, ...next].map((item) => [item.account, item.value]));
    const header = next.at(-1)?.value ?? null;
    expect(await joinFromStorage('K', header, (a) => stored.get(a) ?? null)).toBe('n'.repeat(2500));
    // The new header before its chunks exist (as a reader racing a writer would see it): incomplete, not a mix.
    for (const item of next.slice(0, -1)) stored.delete(item.account);
    const error = await joinFromStorage('K', header, (a) => stored.get(a) ?? null).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEYCHAIN_FAILED', message: expect.stringContaining('chunk 1 of 3 is missing') });
    expect(isIncompleteRead(error)).toBe(true);
  });

  it('never splits a surrogate pair', () => {
    const value = 'a'.repeat(9) + '😀' + 'b';
    const items = splitForStorage('K', value, 10);
    expect(items.slice(0, -1).map((item) => item.value)).toEqual(['a'.repeat(9), '😀b']);
  });

  it('rejects a missing chunk and a checksum mismatch with KEYCHAIN_FAILED', async () => {
    const items = splitForStorage('K', 'v'.repeat(2500), undefined, GEN);
    const stored = new Map(items.map((item) => [item.account, item.value]));
    const header = stored.get('K') ?? null;
    stored.delete(`K#${GEN}.2`);
    await expect(joinFromStorage('K', header, (a) => stored.get(a) ?? null)).rejects.toMatchObject({
      code: 'KEYCHAIN_FAILED',
      message: expect.stringContaining('chunk 2 of 3 is missing'),
    });
    stored.set(`K#${GEN}.2`, 'w'.repeat(1000));
    await expect(joinFromStorage('K', header, (a) => stored.get(a) ?? null)).rejects.toMatchObject({
      code: 'KEYCHAIN_FAILED',
      message: expect.stringContaining('checksum mismatch'),
    });
  });

  it('returns null for an absent secret', async () => {
    expect(await joinFromStorage('K', null, () => null)).toBeNull();
  });

  it('refuses names that could collide with chunk accounts', () => {
    expect(() => splitForStorage('A#1', 'v')).toThrow(expect.objectContaining({ code: 'SECRET_INVALID' }));
    expect(() => splitForStorage('', 'v')).toThrow(expect.objectContaining({ code: 'SECRET_INVALID' }));
  });
});

describe('chunk accounts', () => {
  it('tells chunk accounts from secret names', () => {
    expect(isChunkAccount('API_KEY#1')).toBe(true);
    expect(isChunkAccount('API_KEY#12')).toBe(true);
    expect(isChunkAccount('API_KEY')).toBe(false);
    expect(isChunkAccount('a.b-c_d')).toBe(false);
    expect(isChunkAccountOf('API_KEY#3', 'API_KEY')).toBe(true);
    expect(isChunkAccountOf('API_KEY2#3', 'API_KEY')).toBe(false);
    expect(isChunkAccountOf('API#3', 'API_KEY')).toBe(false);
    expect(isChunkAccount(`API_KEY#${GEN}.1`)).toBe(true);
    expect(isChunkAccountOf(`API_KEY#${GEN}.12`, 'API_KEY')).toBe(true);
    expect(chunkGeneration(`API_KEY#${GEN}.12`)).toBe(GEN);
    expect(chunkGeneration('API_KEY#12')).toBeNull();
    expect(chunkGeneration('API_KEY')).toBeUndefined();
    for (const account of [`API_KEY#${GEN}.0`, `API_KEY#${GEN}.`, `API_KEY#${GEN}`, 'API_KEY#ABCDEF012345.1', 'API_KEY#abc.1'])
      expect(isChunkAccount(account)).toBe(false);
  });

  it('takes an account as a chunk only when its name part is a valid secret name (the rule of config/names.ts)', () => {
    for (const account of ['#1', '1KEY#1', 'API KEY#1', 'API_KEY#0', 'API_KEY#', 'API_KEY#1x', 'A#1#2', `A${'b'.repeat(128)}#1`])
      expect(isChunkAccount(account)).toBe(false);
    expect(isChunkAccount(`A${'b'.repeat(127)}#1`)).toBe(true);
  });

  it('words an invalid name as the config does', () => {
    expect(() => splitForStorage('1KEY', 'v')).toThrow(`Invalid secret name "1KEY": ${SECRET_NAME_RULE}.`);
  });
});
