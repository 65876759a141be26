#!/usr/bin/env node
// Benchmark (not a test): reading all 10 secrets of a server from the keychain, in process, the way a proxy start
// does, against reading them one entry at a time. Run with `npm run bench:keychain` (inside a private keyring).
//
// Each round uses a fresh KeyringStore, as a fresh proxy process would: no entry (D-Bus connection) is reused.
// - one findCredentials: KeyringStore.getAll, one call over one connection for every account of the service;
// - 10 entries, one by one: KeyringStore.get per secret (each entry opens its own connection);
// - 10 entries at once: the same, started together.
// Two of the ten values are long enough to be stored in chunks, so the joined reads are part of the figure.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fmt, median, ratio, root } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const SECRETS = 10;

const { KeyringStore } = await import(pathToFileURL(join(root, 'dist/secrets/keyring-store.js')).href);

const server = `bench-read-${process.pid}`;
const names = Array.from({ length: SECRETS }, (_, i) => `KEY_${i}`);
const valueOf = (name, i) => `bench-secret-value-${name}-${(i < 2 ? 'y' : 'x').repeat(i < 2 ? 3000 : 24)}`;

const setup = new KeyringStore();
for (const [i, name] of names.entries()) await setup.set(server, name, valueOf(name, i));

const ways = {
  'one findCredentials (getAll)': async (store) => store.getAll(server),
  '10 entries, one by one (get)': async (store) => {
    const values = new Map();
    for (const name of names) values.set(name, await store.get(server, name));
    return values;
  },
  '10 entries at once (get)': async (store) => new Map(await Promise.all(names.map(async (n) => [n, await store.get(server, n)]))),
};

const times = Object.fromEntries(Object.keys(ways).map((way) => [way, []]));
try {
  // Interleaved, so a slow moment of the machine falls on every way alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const [way, read] of Object.entries(ways)) {
      const store = new KeyringStore();
      const started = performance.now();
      const values = await read(store);
      times[way].push(performance.now() - started);
      names.forEach((name, i) => {
        if (values.get(name) !== valueOf(name, i)) throw new Error(`${way}: ${name} read back wrong`);
      });
    }
  }
} finally {
  for (const name of names) await setup.delete(server, name);
}

const base = median(times['one findCredentials (getAll)']);
console.log(`Reading ${SECRETS} secrets (2 of them chunked), fresh store per round, median of ${ROUNDS} rounds:`);
for (const [way, ms] of Object.entries(times)) {
  console.log(`  ${way.padEnd(30)} ${fmt(median(ms), 1).padStart(7)} ms  ${ratio(median(ms), base)}`);
}
