import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KeyringStore } from '../../src/secrets/keyring-store.js';
import { requireKeyringSession, secretToolAccounts, uniqueServer } from '../helpers/keyring.js';
import { binPath, writeConfig } from '../helpers/proxy.js';

requireKeyringSession();

const WRITERS = 4;
const ROUNDS = 5;
const LENGTH = 3000;
const server = uniqueServer('e2e-concurrent');
let config: string;

beforeAll(async () => {
  // A config that does not declare the secret: `secrets set` then warns on stderr before it reads stdin, which
  // tells the test that every writer has started and is waiting for its value.
  config = await writeConfig({ [server]: { command: 'node', secrets: {} } });
});

afterAll(async () => {
  const store = new KeyringStore();
  for (const name of await store.list(server)) await store.delete(server, name);
});

/** A value of LENGTH characters that no other writer or round shares anywhere along its length. */
function distinctValue(round: number, writer: number): string {
  return `r${round}w${writer}-${randomBytes(LENGTH).toString('base64url')}`.slice(0, LENGTH);
}

/** Starts `secrets set` in WRITERS processes, waits until all wait on stdin, then hands every value over at once. */
async function setAtOnce(values: string[]): Promise<Array<{ code: number | null; stderr: string }>> {
  const children = values.map(() => {
    const child = spawn(process.execPath, [binPath, 'secrets', 'set', server, 'BIG', '--config', config], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    // 'close', not 'exit': its last stderr line may still be on its way when it has exited.
    const state = { stderr: '', exit: new Promise<number | null>((resolve) => child.once('close', resolve)) };
    child.stderr.on('data', (chunk: Buffer) => (state.stderr += chunk.toString()));
    return { child, state };
  });
  await vi.waitFor(() => expect(children.map(({ state }) => state.stderr.includes('warning:'))).not.toContain(false), {
    timeout: 20_000,
  });
  children.forEach(({ child }, i) => child.stdin.end(values[i]));
  return Promise.all(children.map(async ({ state }) => ({ code: await state.exit, stderr: state.stderr })));
}

describe('parallel `secrets set` of one long secret (chunked storage)', () => {
  it(`${ROUNDS} rounds of ${WRITERS} writers: each leaves exactly one written value, whole, and no leftover chunks`, async () => {
    let previous: string | undefined;
    for (let round = 1; round <= ROUNDS; round += 1) {
      const values = Array.from({ length: WRITERS }, (_, writer) => distinctValue(round, writer));
      // A reader in this process polls while the writers run: every value it gets must be a whole one. A read may
      // fail instead (gnome-keyring can answer a search with an item a writer deletes before it is fetched: the
      // store reads again a few times, then reports it); it must never return a mix.
      let writing = true;
      const seen: Array<string | undefined> = [];
      const reader = (async () => {
        const store = new KeyringStore();
        while (writing) {
          const all = await store.getAll(server).catch(() => undefined);
          if (all) seen.push(all.get('BIG'));
        }
      })();
      const results = await setAtOnce(values);
      writing = false;
      await reader;

      for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });
      const fresh = new KeyringStore();
      const stored = await fresh.get(server, 'BIG');
      expect(values, `round ${round}: the value read back is one of those written`).toContain(stored);
      expect((await fresh.getAll(server)).get('BIG')).toBe(stored);
      expect(seen.length, `round ${round}: reads that returned while writing`).toBeGreaterThan(0);
      for (const value of seen) expect([previous, ...values], `round ${round}: a concurrent read`).toContain(value);

      // The header and the chunks of one generation, nothing else: every writer cleaned up after the one before.
      const accounts = await secretToolAccounts(server);
      const generations = new Set(accounts.filter((a) => a !== 'BIG').map((a) => /^BIG#([0-9a-f]{12})\.[1-3]$/.exec(a)?.[1]));
      expect(accounts, `round ${round}`).toHaveLength(4);
      expect(accounts).toContain('BIG');
      expect(generations.size).toBe(1);
      expect(generations.has(undefined)).toBe(false);
      previous = stored ?? undefined;
    }
  }, 180_000);
});
