import { describe, expect, it } from 'vitest';
import {
  CHUNK_HEADER_PREFIX,
  MAX_CHUNK_UNITS,
  isChunkAccount,
  isChunkAccountOf,
  joinFromStorage,
  parseChunkHeader,
  splitForStorage,
} from '../../../src/secrets/chunking.js';
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

  it('writes chunks NAME#1..n first and the header last', () => {
    const items = splitForStorage('TOKEN', 'q'.repeat(2500));
    expect(items.map((item) => item.account)).toEqual(['TOKEN#1', 'TOKEN#2', 'TOKEN#3', 'TOKEN']);
    const header = parseChunkHeader(items.at(-1)?.value ?? '');
    expect(header).toEqual({ count: 3, digest: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  it('stores a short value that looks like a header as one chunk plus a real header', () => {
    const value = `${CHUNK_HEADER_PREFIX}1:0000000000000000`;
    const items = splitForStorage('TOKEN', value);
    expect(items.map((item) => item.account)).toEqual(['TOKEN#1', 'TOKEN']);
    expect(items[0]?.value).toBe(value);
  });

  it('never splits a surrogate pair', () => {
    const value = 'a'.repeat(9) + '😀' + 'b';
    const items = splitForStorage('K', value, 10);
    expect(items.slice(0, -1).map((item) => item.value)).toEqual(['a'.repeat(9), '😀b']);
  });

  it('rejects a missing chunk and a checksum mismatch with KEYCHAIN_FAILED', async () => {
    const items = splitForStorage('K', 'v'.repeat(2500));
    const stored = new Map(items.map((item) => [item.account, item.value]));
    const header = stored.get('K') ?? null;
    stored.delete('K#2');
    await expect(joinFromStorage('K', header, (a) => stored.get(a) ?? null)).rejects.toMatchObject({
      code: 'KEYCHAIN_FAILED',
      message: expect.stringContaining('chunk 2 of 3 is missing'),
    });
    stored.set('K#2', 'w'.repeat(1000));
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
