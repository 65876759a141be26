#!/usr/bin/env node
// Benchmark (not a test): where the proxy's start-up goes, against its floor, in one run. Run with
// `npm run bench:startup` (inside a private keyring).
//
// Start = spawn until the answer to `initialize` arrives (for `node -e 0`: until it exits). Targets, interleaved
// start by start so that machine load weighs on all alike: bare `node -e 0`, server-everything directly, behind
// the pipe hop (a bare Node process that only copies bytes: the floor of any extra process), and behind
// `mcp-keyproxy run <server>` with 10 secrets in the keychain. Then the proxy's own breakdown, from the one line
// MCP_KEYPROXY_TRACE_STARTUP=1 makes it print (src/timing/startup-trace.ts), medians of the same starts.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { clearSecrets, everything, fmt, median, nodeTarget, proxyTarget, root, setSecret, writeConfig } from './lib.mjs';

const STARTS = Number(process.env.BENCH_STARTS ?? 15);
const SECRETS = 10;
/** The proxy may be at most this many ms slower to start than the pipe hop (issue 17). */
const MARGIN_MS = 25;

const serverName = `bench-startup-${process.pid}`;
const secretNames = Array.from({ length: SECRETS }, (_, i) => `KEY_${i}`);
const configPath = writeConfig({
  [serverName]: {
    command: process.execPath,
    args: [everything, 'stdio'],
    env: Object.fromEntries(secretNames.map((name) => [name, `\${secret:${name}}`])),
    secrets: Object.fromEntries(secretNames.map((name) => [name, {}])),
    confirm: false,
  },
});
for (const name of secretNames) setSecret(configPath, serverName, name, `bench-secret-value-${name}-${'x'.repeat(24)}`);

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

const times = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
const traces = [];
// One start of each first, not counted: the disk cache and the config cache are warm for every counted start.
for (const start of Object.values(targets)) await start();
for (let i = 0; i < STARTS; i++) {
  for (const [name, start] of Object.entries(targets)) {
    const { ms, stderr } = await start();
    times[name].push(ms);
    const line = stderr?.split('\n').find((text) => text.startsWith('{"startupTrace"'));
    if (line) traces.push(JSON.parse(line).startupTrace);
  }
}
clearSecrets(serverName);

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
  ['CLI until the config is read', 'bundleEvaluated', 'configStart'],
  ['config read + validation', 'configStart', 'configRead'],
  ['until the keychain is asked', 'configRead', 'keychainStart'],
  ['keychain connect + reads', 'keychainStart', 'keychainDone'],
  ['until the child is spawned', 'keychainDone', 'spawnStart'],
  ['child spawn', 'spawnStart', 'spawned'],
  ['spawned → child first byte', 'spawned', 'childFirstByte'],
  ['child first byte → first byte to client', 'childFirstByte', 'firstByteOut'],
];
if (traces.length > 0) {
  console.log(`mcp-keyproxy's own breakdown (MCP_KEYPROXY_TRACE_STARTUP=1), median ms of ${traces.length} traced starts:`);
  for (const [label, from, to] of stages) {
    const spans = traces
      .filter((t) => t[to] !== undefined && (from === null || t[from] !== undefined))
      .map((t) => t[to] - (from ? t[from] : 0));
    if (spans.length > 0) console.log(`  ${label.padEnd(42)} ${fmt(median(spans), 1).padStart(7)}`);
  }
  const ours = traces.map((t) => t.spawnStart - t.binStart);
  console.log(`  ${'(first line of bin/ → child spawned)'.padEnd(42)} ${fmt(median(ours), 1).padStart(7)}`);
  const boot = traces.map((t) => t.nodeBootstrapComplete);
  console.log(`  ${'(of which Node bootstrap complete)'.padEnd(42)} ${fmt(median(boot), 1).padStart(7)}`);
}
