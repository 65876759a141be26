#!/usr/bin/env node
// Benchmark (not a test): 20 op:// references over 5 server-everything behind one `mcp-keyproxy run`, with the
// fixture `op` (test/fixtures/op, the 1Password CLI's contract) answering each read after 300 ms. Measured in the
// same run, interleaved, median of BENCH_STARTS:
// - baseline: the same aggregate with the 20 secrets in the keychain (spawn to every tool listed);
// - cold: the op:// aggregate with nothing cached (every reference read; target ≤ baseline + 1.5 × one read), and
//   the same with "ttl": "0" (no cache writes in the background of the start);
// - warm: the op:// aggregate with every value cached (target ≤ baseline + 30 ms);
// - `secrets refresh` of all 20 (target ≤ 1.5 × one read), beside `secrets status` (the same CLI start, no read)
//   and the same refresh with "ttl": "0" (the reads without the keychain cache: one item per server read and written);
// - one read: one `op read` of the fixture on its own (its process start and its 300 ms);
// - the reads alone, no proxy: 20 `op read` all at once and 8 at a time (the bound of the per-reference reads, what
//   a start did before `op inject` and does when an inject fails), and 5 `op inject` of 4 references at once (what
//   the aggregate's 5 members do now).
// Run with `npm run bench:vault`.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { bin, clearSecrets, everything, fmt, median, proxyTarget, ratio, root, sdkClient, serversWithSecrets, timed } from './lib.mjs';
import { SOURCE_CONCURRENCY } from '../dist/sources/read-sources.js';

const run = promisify(execFile);
const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const READ_MS = Number(process.env.BENCH_OP_DELAY_MS ?? 300);
const SERVERS = 5;
const PER_SERVER = 4;

const names = Array.from({ length: SERVERS }, (_, i) => `vault${i}`);
const keyNames = Array.from({ length: PER_SERVER }, (_, i) => `KEY_${i}`);
const items = {};
for (const server of names)
  for (const key of keyNames) items[`op://Bench/${server}/${key}`] = `bench-op-value-${server}-${key}-${'x'.repeat(24)}`;
const opEnv = {
  PATH: `${join(root, 'bench/fixtures')}:${process.env.PATH ?? ''}`,
  OP_SERVICE_ACCOUNT_TOKEN: 'ops_bench',
  OP_FIXTURE_ITEMS: JSON.stringify(items),
  OP_FIXTURE_DELAY_MS: String(READ_MS),
};

// Baseline: the same servers with their secrets in the keychain.
const baseline = serversWithSecrets(Object.fromEntries(names.map((name) => [`kc-${name}`, [everything, 'stdio']])), PER_SERVER);
// The op:// aggregate: each secret the RFC's shorthand "NAME": "op://…", cached for 4 hours.
const vaultConfig = baseline.configPath.replace(/proxy\.config\.json$/, 'vault.config.json');
writeFileSync(
  vaultConfig,
  JSON.stringify({
    cache: { ttl: '4h', stale: 'warn' },
    servers: Object.fromEntries(
      names.map((server) => [
        server,
        {
          command: process.execPath,
          args: [everything, 'stdio'],
          secrets: Object.fromEntries(keyNames.map((key) => [key, `op://Bench/${server}/${key}`])),
          confirm: false,
        },
      ]),
    ),
  }),
);

// The same aggregate with nothing cached ("ttl": "0"): its `secrets refresh` reads and writes no cache entry.
const uncachedConfig = baseline.configPath.replace(/proxy\.config\.json$/, 'vault-uncached.config.json');
writeFileSync(uncachedConfig, JSON.stringify({ ...JSON.parse(readFileSync(vaultConfig, 'utf8')), cache: { ttl: '0' } }));

const { connect, stdioTransport } = await sdkClient();

async function toolCount(client) {
  let count = 0;
  let cursor;
  do {
    const page = await client.listTools({ cursor });
    count += page.tools.length;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return count;
}

/** Spawn of an aggregate until `expected` tools are listed (waiting for list_changed as servers come up). */
async function aggregateStart(configPath, expected) {
  const started = performance.now();
  let changed;
  const { client } = await connect(stdioTransport(proxyTarget(configPath), opEnv), (c) =>
    c.setNotificationHandler(ToolListChangedNotificationSchema, () => changed?.()),
  );
  for (;;) {
    const next = new Promise((resolve) => (changed = resolve));
    if ((await toolCount(client)) >= expected) break;
    await next;
  }
  const ms = performance.now() - started;
  await client.close();
  return ms;
}

const cli = (...args) => run(process.execPath, [bin, ...args, '--config', vaultConfig], { env: { ...process.env, ...opEnv } });
const uncachedRefresh = () =>
  run(process.execPath, [bin, 'secrets', 'refresh', '--config', uncachedConfig], { env: { ...process.env, ...opEnv } });
const clearCache = () => names.forEach((server) => clearSecrets(server));
const readOf = (reference) =>
  run(join(root, 'bench/fixtures/op'), ['read', '--no-newline', reference], { env: { ...process.env, ...opEnv } });
const oneRead = () => readOf(`op://Bench/${names[0]}/KEY_0`);
const references = Object.keys(items);
/** All 20 reads launched by this process with at most `limit` running at once, no proxy: the floor of the reads. */
async function readsAtOnce(limit) {
  const queue = [...references];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let reference = queue.shift(); reference !== undefined; reference = queue.shift()) await readOf(reference);
    }),
  );
}

/** One `op inject` of `refs` (template on stdin, as the proxy writes it). */
function injectOf(refs) {
  return new Promise((resolve, reject) => {
    const child = spawn(join(root, 'bench/fixtures/op'), ['inject'], {
      env: { ...process.env, ...opEnv },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`op inject exited ${code}`))));
    child.stdin.end(refs.map((ref, i) => `<kp:bench:${i}>{{ ${ref} }}</kp:bench:${i}>`).join(''));
  });
}
/** What the aggregate's members do now: one inject of each member's 4 references, all 5 at once. */
const injectsAtOnce = () => Promise.all(names.map((server) => injectOf(references.filter((ref) => ref.includes(`/${server}/`)))));

// Every server's tools (server-everything lists the same count), plus keyproxy__status.
const { client: probe } = await connect(stdioTransport({ command: process.execPath, args: [everything, 'stdio'] }));
const expected = SERVERS * (await toolCount(probe)) + 1;
await probe.close();

const runs = {
  baseline: [],
  cold: [],
  coldUncached: [],
  warm: [],
  refresh: [],
  uncached: [],
  status: [],
  read: [],
  all: [],
  bounded: [],
  injects: [],
};
clearCache();
for (let i = 0; i < STARTS; i++) {
  runs.baseline.push(await aggregateStart(baseline.configPath, expected));
  clearCache();
  runs.cold.push(await aggregateStart(vaultConfig, expected));
  runs.coldUncached.push(await aggregateStart(uncachedConfig, expected));
  // The cold start cached the values in the background; a refresh makes sure all 20 are there.
  runs.refresh.push((await timed(() => cli('secrets', 'refresh'))).ms);
  runs.warm.push(await aggregateStart(vaultConfig, expected));
  runs.status.push((await timed(() => cli('secrets', 'status'))).ms);
  runs.uncached.push((await timed(uncachedRefresh)).ms);
  runs.read.push((await timed(oneRead)).ms);
  runs.all.push((await timed(() => readsAtOnce(references.length))).ms);
  runs.bounded.push((await timed(() => readsAtOnce(SOURCE_CONCURRENCY))).ms);
  runs.injects.push((await timed(injectsAtOnce)).ms);
}
clearCache();
for (const name of names) clearSecrets(`kc-${name}`);

const m = Object.fromEntries(Object.entries(runs).map(([key, values]) => [key, median(values)]));
console.log(
  `${SERVERS} server-everything behind one aggregate, ${SERVERS * PER_SERVER} secrets (${PER_SERVER} each); fixture op answers after ${READ_MS} ms; median of ${STARTS} interleaved runs`,
);
console.log(`one op read (fixture process + ${READ_MS} ms): ${fmt(m.read, 0)} ms`);
// The reads alone, with no proxy: what 20 starts of the fixture cost on this machine at this moment.
console.log(
  `the 20 reads with no proxy: all at once ${fmt(m.all, 0)} ms (${ratio(m.all, m.read)} one read), ${SOURCE_CONCURRENCY} at a time (the bound of per-reference reads) ${fmt(m.bounded, 0)} ms (${ratio(m.bounded, m.read)}); ${SERVERS} op inject of ${PER_SERVER} at once (one per member, what a start runs) ${fmt(m.injects, 0)} ms (${ratio(m.injects, m.read)})`,
);
console.log(`baseline, keychain secrets, spawn to all ${expected} tools listed: ${fmt(m.baseline, 0)} ms`);
console.log(
  `cold, 20 op:// reads: ${fmt(m.cold, 0)} ms (+${fmt(m.cold - m.baseline, 0)} ms = ${ratio(m.cold - m.baseline, m.read)} one read, ${ratio(m.cold - m.baseline, m.bounded)} the bounded reads alone, ${ratio(m.cold - m.baseline, m.injects)} the ${SERVERS} injects alone; target ≤ 1.5× one read; RFC: all five < 5000 ms)`,
);
console.log(
  `cold with "ttl": "0" (the same reads, no keychain cache write behind the start): ${fmt(m.coldUncached, 0)} ms (+${fmt(m.coldUncached - m.baseline, 0)} ms = ${ratio(m.coldUncached - m.baseline, m.read)} one read, ${ratio(m.coldUncached - m.baseline, m.injects)} the ${SERVERS} injects alone)`,
);
console.log(
  `warm, 20 cached values: ${fmt(m.warm, 0)} ms (${m.warm >= m.baseline ? '+' : ''}${fmt(m.warm - m.baseline, 0)} ms vs baseline; target ≤ +30 ms)`,
);
console.log(
  `secrets refresh of all 20: ${fmt(m.refresh, 0)} ms (${ratio(m.refresh, m.read)} one read; target ≤ 1.5×); the same CLI start with no read (secrets status): ${fmt(m.status, 0)} ms, so the reads took +${fmt(m.refresh - m.status, 0)} ms (${ratio(m.refresh - m.status, m.read)} one read, ${ratio(m.refresh - m.status, m.bounded)} the bounded reads alone, ${ratio(m.refresh - m.status, m.injects)} the ${SERVERS} injects alone)`,
);
console.log(
  `secrets refresh with "ttl": "0" (the same reads, no keychain cache write): ${fmt(m.uncached, 0)} ms, +${fmt(m.uncached - m.status, 0)} ms over the CLI start (${ratio(m.uncached - m.status, m.read)} one read); so the cache (${SERVERS} items, one per server, read and written) cost ${fmt(m.refresh - m.uncached, 0)} ms`,
);
