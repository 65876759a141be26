#!/usr/bin/env node
// Benchmark (not a test): the cost of scrubbing end to end, in one run. A stdio server (test/fixtures/
// big-result-server.mjs) reached directly, through mcp-keyproxy with no secret (nothing to scrub), and through
// mcp-keyproxy with 20 secrets injected (every message scrubbed): sequential echo calls/s, and the time of one
// 8 MB tool result. Targets: ≤ 5 % calls/s lost to scrubbing; 8 MB result ≤ 1.3× direct.
// Run with `npm run build && scripts/with-keyring.sh node bench/scrub-e2e.mjs`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/mcp-keyproxy.js');
const fixture = join(root, 'test/fixtures/big-result-server.mjs');
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const BIG_RUNS = Number(process.env.BENCH_BIG_RUNS ?? 9);

const names = Array.from({ length: 20 }, (_, i) => `SECRET_${i}`);
const scrubbed = `bench-scrub-${process.pid}`;
const plain = `bench-plain-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'mcp-keyproxy-bench-'));
const config = join(dir, 'proxy.config.json');
const server = (env, secrets) => ({ command: process.execPath, args: [fixture], env, secrets, confirm: false });
writeFileSync(
  config,
  JSON.stringify({
    servers: {
      [plain]: server({}, {}),
      [scrubbed]: server(Object.fromEntries(names.map((n) => [n, `\${secret:${n}}`])), Object.fromEntries(names.map((n) => [n, {}]))),
    },
  }),
);
for (const name of names) {
  execFileSync(process.execPath, [bin, 'secrets', 'set', scrubbed, name, '--config', config], {
    input: `value-of-${name}-${'k'.repeat(20)}`,
  });
}

const targets = {
  direct: { command: process.execPath, args: [fixture] },
  'proxy, nothing to scrub': { command: process.execPath, args: [bin, 'run', plain, '--config', config, '--log-level', 'warn'] },
  'proxy, 20 secrets': { command: process.execPath, args: [bin, 'run', scrubbed, '--config', config, '--log-level', 'warn'] },
};

async function connect(target) {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ ...target, env: { ...process.env }, stderr: 'ignore' }));
  for (let i = 0; i < 100; i++) await client.callTool({ name: 'echo', arguments: { message: 'warm-up' } });
  await client.callTool({ name: 'big', arguments: {} }, undefined, { timeout: 120_000 });
  return client;
}

// Each 8 MB result leaves garbage in this process: collected before each timed call, so it is not charged to
// whichever target comes next.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc');

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// The targets take turns, in blocks of calls and one 8 MB result at a time, so that a change in machine load
// weighs on all of them alike; the 8 MB figure is the median of BIG_RUNS.
const targetNames = Object.keys(targets);
const clients = Object.fromEntries(await Promise.all(targetNames.map(async (name) => [name, await connect(targets[name])])));
const elapsed = Object.fromEntries(targetNames.map((name) => [name, 0]));
const BLOCK = 100;
for (let done = 0; done < CALLS; done += BLOCK) {
  for (const name of targetNames) {
    const began = performance.now();
    for (let i = done; i < Math.min(CALLS, done + BLOCK); i++)
      await clients[name].callTool({ name: 'echo', arguments: { message: `hello ${i}` } });
    elapsed[name] += performance.now() - began;
  }
}
const bigMs = Object.fromEntries(targetNames.map((name) => [name, []]));
for (let run = 0; run < BIG_RUNS; run++) {
  for (const name of targetNames) {
    collectGarbage();
    const began = performance.now();
    await clients[name].callTool({ name: 'big', arguments: {} }, undefined, { timeout: 120_000 });
    bigMs[name].push(performance.now() - began);
  }
}
await Promise.all(targetNames.map((name) => clients[name].close()));
const results = Object.fromEntries(
  targetNames.map((name) => [name, { callsPerSecond: (CALLS / elapsed[name]) * 1000, bigMs: median(bigMs[name]) }]),
);
execFileSync(process.execPath, [bin, 'secrets', 'clear', scrubbed, '--yes'], { stdio: 'ignore' });

const direct = results.direct;
const unscrubbed = results['proxy, nothing to scrub'];
console.log(`stdio fixture, ${CALLS} sequential echo calls each (in turns) and an 8 MB result (median of ${BIG_RUNS}, in turns)`);
console.log('target                      calls/s              8 MB result ms');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(27)} ${r.callsPerSecond.toFixed(0).padStart(6)} (${(r.callsPerSecond / direct.callsPerSecond).toFixed(2)}× direct)  ${r.bigMs.toFixed(1).padStart(7)} (${(r.bigMs / direct.bigMs).toFixed(2)}× direct)`,
  );
}
const loss = 1 - results['proxy, 20 secrets'].callsPerSecond / unscrubbed.callsPerSecond;
console.log(`calls/s lost to scrubbing 20 secrets: ${(loss * 100).toFixed(1)} % (target ≤ 5 %)`);
console.log(
  `8 MB result through the proxy with 20 secrets: ${(results['proxy, 20 secrets'].bigMs / direct.bigMs).toFixed(2)}× direct (target ≤ 1.3×)`,
);
