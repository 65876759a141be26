#!/usr/bin/env node
// Benchmark (not a test): where the proxy's start-up goes, against its floor, in one run. Run with
// `npm run bench:startup` (inside a private keyring).
//
// Start = spawn until the answer to `initialize` arrives (for `node -e 0`: until it exits). Targets, interleaved
// start by start so that machine load weighs on all alike: bare `node -e 0`, server-everything directly, behind
// the pipe hop (a bare Node process that only copies bytes: the floor of any extra process), and behind
// `mcp-keyproxy run <server>` with 10 secrets in the keychain. Then the proxy's own breakdown, from the one line
// MCP_KEYPROXY_TRACE_STARTUP=1 makes it print (src/timing/startup-trace.ts), medians of the same starts.
//
// Then the per-message path and memory, in one run, against the same pipe hop and a second floor, the parse hop
// (bench/parse-hop.mjs: it parses each message and passes its bytes on, as any hop that reads messages must): echo
// p50/p99 and calls/s (the targets take turns in blocks), an 8 MB result (test/fixtures/big-result-server.mjs; median of BIG_RUNS, in
// turns) against direct, and the resident memory of the hop process and of the proxy process, idle (after the
// warm-up) and at its peak (VmHWM, after the 8 MB results).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  clearSecrets,
  echoInTurns,
  everything,
  fmt,
  median,
  nodeTarget,
  percentile,
  proxyTarget,
  ratio,
  root,
  sdkClient,
  warmUp,
  serversWithSecrets,
  statusMb,
} from './lib.mjs';

const STARTS = Number(process.env.BENCH_STARTS ?? 15);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const BIG_RUNS = Number(process.env.BENCH_BIG_RUNS ?? 5);
const fixture = join(root, 'test/fixtures/big-result-server.mjs');
const SECRETS = 10;
/** The proxy may be at most this many ms slower to start than the pipe hop (issue 17). */
const MARGIN_MS = 25;

const serverName = `bench-startup-${process.pid}`;
const bigName = `${serverName}-big`;
const { configPath } = serversWithSecrets({ [serverName]: [everything, 'stdio'], [bigName]: [fixture] }, SECRETS);

const initialize = `${JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } },
})}\n`;

/** Spawns `target`, sends `initialize` at once, and resolves with the ms until the answer's line arrives. */
function startMcp(target, env = {}) {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(target.command, target.args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    let ms;
    child.stderr.on('data', (chunk) => (err += chunk));
    child.stdout.on('data', (chunk) => {
      if (ms !== undefined) return;
      out += chunk;
      if (!out.includes('\n')) return;
      ms = performance.now() - began;
      child.stdin.end();
    });
    child.stdin.on('error', () => undefined);
    child.stdin.write(initialize);
    child.on('error', reject);
    child.on('close', (code) => {
      if (ms === undefined) reject(new Error(`${target.args.join(' ')} ended (${code}) before answering initialize:\n${err}`));
      else resolve({ ms, stderr: err });
    });
  });
}

/** Spawns `node -e 0` and resolves with the ms until it has exited. */
function bareNode() {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve({ ms: performance.now() - began }));
  });
}

const proxy = proxyTarget(configPath, serverName);
const targets = {
  'node -e 0': () => bareNode(),
  direct: () => startMcp(nodeTarget(everything, 'stdio')),
  'pipe hop': () => startMcp(nodeTarget(join(root, 'bench/pipe-hop.mjs'), everything, 'stdio')),
  'mcp-keyproxy': () => startMcp(proxy),
  // The same start, asked for its trace: a separate target, so the figure above carries no tracing at all.
  'mcp-keyproxy, traced': () => startMcp(proxy, { MCP_KEYPROXY_TRACE_STARTUP: '1' }),
};
// BENCH_COMPARE_BIN=<another checkout>/bin/mcp-keyproxy.js: that build too (e.g. before a change), in the same run.
const compareBin = process.env.BENCH_COMPARE_BIN;
if (compareBin) {
  const other = { ...proxy, args: [compareBin, ...proxy.args.slice(1)] };
  targets['compared build'] = () => startMcp(other);
  targets['compared build, traced'] = () => startMcp(other, { MCP_KEYPROXY_TRACE_STARTUP: '1' });
}

const times = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
const traces = { 'mcp-keyproxy, traced': [], 'compared build, traced': [] };
// One start of each first, not counted: the disk cache and the config cache are warm for every counted start.
for (const start of Object.values(targets)) await start();
for (let i = 0; i < STARTS; i++) {
  for (const [name, start] of Object.entries(targets)) {
    const { ms, stderr } = await start();
    times[name].push(ms);
    const line = stderr?.split('\n').find((text) => text.startsWith('{"startupTrace"'));
    if (line) traces[name].push(JSON.parse(line).startupTrace);
  }
}

const m = Object.fromEntries(Object.entries(times).map(([name, values]) => [name, median(values)]));
console.log(`start-up, spawn to initialize answered (node -e 0: to exit); median of ${STARTS} interleaved starts each`);
console.log(`server-everything over stdio; mcp-keyproxy run <server> with ${SECRETS} secrets in the keychain`);
for (const [name, ms] of Object.entries(m)) {
  console.log(`  ${name.padEnd(22)} ${fmt(ms, 1).padStart(7)} ms   ${fmt(ms - m['pipe hop'], 1).padStart(6)} vs pipe hop`);
}
const over = m['mcp-keyproxy'] - m['pipe hop'];
console.log(
  `mcp-keyproxy − pipe hop: ${fmt(over, 1)} ms (target ≤ ${MARGIN_MS} ms); pipe hop − direct: ${fmt(m['pipe hop'] - m.direct, 1)} ms`,
);

// Each stage as the median of its duration over the traced starts (a median of differences, not a difference of
// medians). Stages the run did not reach (e.g. no keychain read) are left out.
const stages = [
  ['Node boot → first line of bin/', null, 'binStart'],
  ['bundle load and evaluation', 'binStart', 'bundleEvaluated'],
  ['  of which the early chunk (keychain read begun)', 'binStart', 'earlyDone'],
  ['CLI until the config is read', 'bundleEvaluated', 'configStart'],
  ['config read + validation', 'configStart', 'configRead'],
  ['until the keychain is asked', 'configRead', 'keychainStart'],
  ['keychain connect + reads', 'keychainStart', 'keychainDone'],
  ['until the child is spawned', 'keychainDone', 'spawnStart'],
  ['child spawn', 'spawnStart', 'spawned'],
  ['spawned → child first byte', 'spawned', 'childFirstByte'],
  ['child first byte → first byte to client', 'childFirstByte', 'firstByteOut'],
];
for (const [name, traced] of Object.entries(traces)) {
  if (traced.length === 0) continue;
  console.log(`${name.replace(', traced', '')}: breakdown (MCP_KEYPROXY_TRACE_STARTUP=1), median ms of ${traced.length} traced starts:`);
  for (const [label, from, to] of stages) {
    const spans = traced
      .filter((t) => t[to] !== undefined && (from === null || t[from] !== undefined))
      .map((t) => t[to] - (from ? t[from] : 0));
    if (spans.length > 0) console.log(`  ${label.padEnd(48)} ${fmt(median(spans), 1).padStart(7)}`);
  }
  const ours = traced.map((t) => t.spawnStart - t.binStart);
  console.log(`  ${'(first line of bin/ → child spawned)'.padEnd(48)} ${fmt(median(ours), 1).padStart(7)}`);
  const boot = traced.map((t) => t.nodeBootstrapComplete);
  console.log(`  ${'(Node: bootstrap complete at)'.padEnd(48)} ${fmt(median(boot), 1).padStart(7)}`);
  // Node 20's code cache for the chunks (src/timing/compile-cache.ts): which came from it in the last start.
  const cache = traced.at(-1).codeCache;
  console.log(
    cache
      ? `  compiled-code cache, last start: ${cache.reused.length} chunks reused, ${cache.compiled.length} compiled (${cache.compiled.join(' ') || 'none'})`
      : '  compiled-code cache: not reported (Node ≥ 22.1 uses its own, or the build predates it)',
  );
}

// The per-message path and memory.
const { connect, stdioTransport } = await sdkClient();
const pipeHop = (...args) => nodeTarget(join(root, 'bench/pipe-hop.mjs'), ...args);
// A second floor: a hop that parses every message it carries, as any proxy that reads messages must.
const parseHop = (...args) => nodeTarget(join(root, 'bench/parse-hop.mjs'), ...args);

async function open(target) {
  const transport = stdioTransport(target);
  const { client } = await connect(transport);
  await warmUp(client, 100);
  return { client, pid: transport.pid };
}

const echoTargets = {
  direct: nodeTarget(everything, 'stdio'),
  'pipe hop': pipeHop(everything, 'stdio'),
  'parse hop': parseHop(everything, 'stdio'),
  'mcp-keyproxy': proxy,
};
const echoOpen = Object.fromEntries(await Promise.all(Object.entries(echoTargets).map(async ([name, t]) => [name, await open(t)])));
const idle = { 'pipe hop': statusMb(echoOpen['pipe hop'].pid, 'VmRSS'), 'mcp-keyproxy': statusMb(echoOpen['mcp-keyproxy'].pid, 'VmRSS') };
const echoed = await echoInTurns(Object.fromEntries(Object.entries(echoOpen).map(([name, { client }]) => [name, client])), CALLS, {
  latencies: true,
});
await Promise.all(Object.values(echoOpen).map(({ client }) => client.close()));

const bigTargets = {
  direct: nodeTarget(fixture),
  'pipe hop': pipeHop(fixture),
  'parse hop': parseHop(fixture),
  'mcp-keyproxy': proxyTarget(configPath, bigName),
};
const bigOpen = Object.fromEntries(await Promise.all(Object.entries(bigTargets).map(async ([name, t]) => [name, await open(t)])));
const bigMs = Object.fromEntries(Object.keys(bigTargets).map((name) => [name, []]));
for (let run = 0; run <= BIG_RUNS; run++) {
  for (const [name, { client }] of Object.entries(bigOpen)) {
    const began = performance.now();
    await client.callTool({ name: 'big', arguments: {} }, undefined, { timeout: 120_000 });
    // The first of each is a warm-up.
    if (run > 0) bigMs[name].push(performance.now() - began);
  }
}
const peak = { 'pipe hop': statusMb(bigOpen['pipe hop'].pid, 'VmHWM'), 'mcp-keyproxy': statusMb(bigOpen['mcp-keyproxy'].pid, 'VmHWM') };
await Promise.all(Object.values(bigOpen).map(({ client }) => client.close()));
clearSecrets(serverName);
clearSecrets(bigName);

console.log(`echo, ${CALLS} sequential calls each (in turns), ${SECRETS} secrets injected into the proxied server`);
const e = Object.fromEntries(
  Object.entries(echoed.latencies).map(([name, latencies]) => {
    latencies.sort((a, b) => a - b);
    return [name, { p50: percentile(latencies, 50), p99: percentile(latencies, 99), perSecond: (CALLS / echoed.elapsedMs[name]) * 1000 }];
  }),
);
const hop = e['pipe hop'];
for (const [name, r] of Object.entries(e)) {
  console.log(
    `  ${name.padEnd(14)} p50 ${fmt(r.p50, 3)} ms (${ratio(r.p50, hop.p50)} hop)  p99 ${fmt(r.p99, 3)} ms (${ratio(r.p99, hop.p99)} hop)  ` +
      `${fmt(r.perSecond, 0)} calls/s (${ratio(r.perSecond, hop.perSecond)} hop)`,
  );
}
const floor = e['parse hop'];
const ours = e['mcp-keyproxy'];
console.log(
  `  mcp-keyproxy against the parse hop: p50 ${ratio(ours.p50, floor.p50)}, p99 ${ratio(ours.p99, floor.p99)}, ` +
    `calls/s ${ratio(ours.perSecond, floor.perSecond)}`,
);
console.log(`  targets: p50 ≤ 1.05× the hop's, p99 ≤ the hop's, calls/s ≥ 0.95× the hop's`);
const big = Object.fromEntries(Object.entries(bigMs).map(([name, values]) => [name, median(values)]));
console.log(`8 MB result, median of ${BIG_RUNS} (in turns), ${SECRETS} secrets scrubbed by the proxy`);
for (const [name, ms] of Object.entries(big))
  console.log(`  ${name.padEnd(14)} ${fmt(ms, 1).padStart(7)} ms (${ratio(ms, big.direct)} direct)`);
console.log('  target: mcp-keyproxy ≤ 1.2× direct');
console.log('resident memory of the process in the middle (MB): idle after warm-up, and peak after the 8 MB results');
for (const name of ['pipe hop', 'mcp-keyproxy']) {
  console.log(`  ${name.padEnd(14)} idle ${fmt(idle[name], 1)}   peak ${fmt(peak[name], 1)}`);
}
console.log(`  idle: mcp-keyproxy − pipe hop = ${fmt(idle['mcp-keyproxy'] - idle['pipe hop'], 1)} MB (target ≤ 30 MB)`);
