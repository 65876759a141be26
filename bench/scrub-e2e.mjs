#!/usr/bin/env node
// Benchmark (not a test): the cost of scrubbing end to end, in one run. A stdio server (test/fixtures/
// big-result-server.mjs) reached directly, through mcp-keyproxy with no secret (nothing to scrub), and through
// mcp-keyproxy with 20 secrets injected (every message scrubbed): sequential echo calls/s, and the time of one
// 8 MB tool result. Targets: ≤ 5 % calls/s lost to scrubbing; 8 MB result ≤ 1.3× direct.
// Run with `npm run build && scripts/with-keyring.sh node bench/scrub-e2e.mjs`.
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  clearSecrets,
  echoInTurns,
  median,
  nodeTarget,
  proxyTarget,
  ratio,
  root,
  sdkClient,
  setSecret,
  warmUp,
  writeConfig,
} from './lib.mjs';

const fixture = join(root, 'test/fixtures/big-result-server.mjs');
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const BIG_RUNS = Number(process.env.BENCH_BIG_RUNS ?? 9);

const names = Array.from({ length: 20 }, (_, i) => `SECRET_${i}`);
const scrubbed = `bench-scrub-${process.pid}`;
const plain = `bench-plain-${process.pid}`;
const server = (env, secrets) => ({ command: process.execPath, args: [fixture], env, secrets, confirm: false });
const config = writeConfig({
  [plain]: server({}, {}),
  [scrubbed]: server(Object.fromEntries(names.map((n) => [n, `\${secret:${n}}`])), Object.fromEntries(names.map((n) => [n, {}]))),
});
for (const name of names) setSecret(config, scrubbed, name, `value-of-${name}-${'k'.repeat(20)}`);

const targets = {
  direct: nodeTarget(fixture),
  'proxy, nothing to scrub': proxyTarget(config, plain),
  'proxy, 20 secrets': proxyTarget(config, scrubbed),
};

const { connect, stdioTransport } = await sdkClient();

async function open(target) {
  const { client } = await connect(stdioTransport(target));
  await warmUp(client, 100);
  await client.callTool({ name: 'big', arguments: {} }, undefined, { timeout: 120_000 });
  return client;
}

// Each 8 MB result leaves garbage in this process: collected before each timed call, so it is not charged to
// whichever target comes next.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc');

// The targets take turns, in blocks of calls and one 8 MB result at a time, so that a change in machine load
// weighs on all of them alike; the 8 MB figure is the median of BIG_RUNS.
const targetNames = Object.keys(targets);
const clients = Object.fromEntries(await Promise.all(targetNames.map(async (name) => [name, await open(targets[name])])));
const { elapsedMs: elapsed } = await echoInTurns(clients, CALLS);
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
clearSecrets(scrubbed);

const direct = results.direct;
const unscrubbed = results['proxy, nothing to scrub'];
console.log(`stdio fixture, ${CALLS} sequential echo calls each (in turns) and an 8 MB result (median of ${BIG_RUNS}, in turns)`);
console.log('target                      calls/s              8 MB result ms');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(27)} ${r.callsPerSecond.toFixed(0).padStart(6)} (${ratio(r.callsPerSecond, direct.callsPerSecond)} direct)  ${r.bigMs.toFixed(1).padStart(7)} (${ratio(r.bigMs, direct.bigMs)} direct)`,
  );
}
const loss = 1 - results['proxy, 20 secrets'].callsPerSecond / unscrubbed.callsPerSecond;
console.log(`calls/s lost to scrubbing 20 secrets: ${(loss * 100).toFixed(1)} % (target ≤ 5 %)`);
console.log(
  `8 MB result through the proxy with 20 secrets: ${ratio(results['proxy, 20 secrets'].bigMs, direct.bigMs)} direct (target ≤ 1.3×)`,
);
