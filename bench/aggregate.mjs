#!/usr/bin/env node
// Benchmark (not a test): 10 server-everything downstreams behind one `mcp-keyproxy run`.
// - start-up: spawn to "every tool of every server listed" through the aggregate, vs the slowest of 10
//   server-everything started directly and in parallel (spawn to tools listed), measured in the same run;
// - echo p50 through the aggregate vs through the single-server proxy (`mcp-keyproxy run <server>`).
// Run with `npm run build && scripts/with-keyring.sh node bench/aggregate.mjs`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/mcp-keyproxy.js');
const everything = join(
  dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist/index.js',
);
const SERVERS = Number(process.env.BENCH_SERVERS ?? 10);
const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);

const names = Array.from({ length: SERVERS }, (_, i) => `s${i}`);
const configPath = join(mkdtempSync(join(tmpdir(), 'mcp-keyproxy-bench-')), 'proxy.config.json');
writeFileSync(
  configPath,
  JSON.stringify({
    servers: Object.fromEntries(names.map((name) => [name, { command: process.execPath, args: [everything, 'stdio'], confirm: false }])),
  }),
);
const direct = { command: process.execPath, args: [everything, 'stdio'] };
const proxy = (...args) => ({ command: process.execPath, args: [bin, 'run', ...args, '--config', configPath, '--log-level', 'warn'] });

async function connect(target) {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ ...target, env: { ...process.env }, stderr: 'ignore' }));
  return client;
}

async function allTools(client) {
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools({ cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Spawn of SERVERS direct servers in parallel until each has listed its tools: the slowest one, and the tool count. */
async function slowestDirect() {
  const started = performance.now();
  const clients = await Promise.all(
    names.map(async () => {
      const client = await connect(direct);
      const tools = await allTools(client);
      return { client, ms: performance.now() - started, tools: tools.length };
    }),
  );
  await Promise.all(clients.map(({ client }) => client.close()));
  return { ms: Math.max(...clients.map((c) => c.ms)), toolsPerServer: clients[0].tools };
}

/** Spawn of the aggregate until the tools of every server are listed (waiting for list_changed as needed). */
async function aggregateStart(expected) {
  const started = performance.now();
  const client = new Client({ name: 'bench', version: '1.0.0' });
  let changed;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed?.());
  await client.connect(new StdioClientTransport({ ...proxy(), env: { ...process.env }, stderr: 'ignore' }));
  for (;;) {
    const next = new Promise((resolve) => (changed = resolve));
    if ((await allTools(client)).length >= expected) break;
    await next;
  }
  const ms = performance.now() - started;
  await client.close();
  return ms;
}

async function echoP50(target, tool) {
  const client = await connect(target);
  for (let i = 0; i < 50; i++) await client.callTool({ name: tool, arguments: { message: 'warm-up' } });
  const latencies = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await client.callTool({ name: tool, arguments: { message: `hello ${i}` } });
    latencies.push(performance.now() - t);
  }
  await client.close();
  return median(latencies);
}

const directRuns = [];
const aggregateRuns = [];
let toolsPerServer = 0;
for (let i = 0; i < STARTS; i++) {
  const run = await slowestDirect();
  directRuns.push(run.ms);
  toolsPerServer = run.toolsPerServer;
  // Every server's tools, plus keyproxy__status.
  aggregateRuns.push(await aggregateStart(SERVERS * toolsPerServer + 1));
}
const single = await echoP50(proxy('s0'), 'echo');
const aggregate = await echoP50(proxy(), 's0__echo');

const fmt = (n, digits = 0) => n.toFixed(digits);
const slowest = median(directRuns);
const all = median(aggregateRuns);
console.log(
  `${SERVERS} server-everything over stdio (${toolsPerServer} tools each), ${STARTS} starts (medians), ${CALLS} sequential echo calls`,
);
console.log(`slowest of ${SERVERS} direct servers started in parallel: ${fmt(slowest)} ms to its tools listed`);
console.log(
  `aggregate, spawn to all ${SERVERS * toolsPerServer + 1} tools listed: ${fmt(all)} ms (+${fmt(all - slowest)} ms, ${fmt(all / slowest, 2)}×; target ≤ +100 ms)`,
);
console.log(
  `echo p50: single-server proxy ${fmt(single, 3)} ms, aggregate ${fmt(aggregate, 3)} ms (${fmt(aggregate / single, 2)}×; target ≤ 1.1×)`,
);
