#!/usr/bin/env node
// Benchmark (not a test): 10 server-everything downstreams behind one `mcp-keyproxy run`.
// - start-up: spawn to "every tool of every server listed" through the aggregate, vs the slowest of 10
//   server-everything started directly and in parallel (spawn to tools listed), measured in the same run;
// - the floor of any one process in front of them: the same servers behind a fan-out hop (bench/fanout-hop.mjs);
// - echo p50 through the aggregate vs through the single-server proxy (`mcp-keyproxy run <server>`).
// Run with `npm run build && scripts/with-keyring.sh node bench/aggregate.mjs`.
// BENCH_COMPARE_BIN=<another checkout>/bin/mcp-keyproxy.js: that build's aggregate start too (e.g. before a change),
// interleaved with this one's in the same run.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { echoLatencies, everything, fmt, median, nodeTarget, proxyTarget, ratio, root, sdkClient, warmUp, writeConfig } from './lib.mjs';

const SERVERS = Number(process.env.BENCH_SERVERS ?? 10);
const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);

const names = Array.from({ length: SERVERS }, (_, i) => `s${i}`);
const configPath = writeConfig(
  Object.fromEntries(names.map((name) => [name, { command: process.execPath, args: [everything, 'stdio'], confirm: false }])),
);
const direct = nodeTarget(everything, 'stdio');
const proxy = (...server) => proxyTarget(configPath, ...server);

const { connect, stdioTransport } = await sdkClient();

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

/** Spawn of SERVERS direct servers in parallel until each has listed its tools: the slowest one, and the tool count. */
async function slowestDirect() {
  const started = performance.now();
  const clients = await Promise.all(
    names.map(async () => {
      const { client } = await connect(stdioTransport(direct));
      const tools = await allTools(client);
      return { client, ms: performance.now() - started, tools: tools.length };
    }),
  );
  await Promise.all(clients.map(({ client }) => client.close()));
  return { ms: Math.max(...clients.map((c) => c.ms)), toolsPerServer: clients[0].tools };
}

/**
 * The SDK transports of the SERVERS servers one fan-out hop starts (bench/fanout-hop.mjs), one per server, and `end`,
 * which stops the hop and its servers.
 */
function fanoutChannels() {
  const hop = spawn(process.execPath, [join(root, 'bench/fanout-hop.mjs'), String(SERVERS), direct.command, ...direct.args], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const channels = names.map((_, index) => ({
    async start() {},
    async send(message) {
      hop.stdin.write(`${index}\t${JSON.stringify(message)}\n`);
    },
    async close() {
      this.onclose?.();
    },
  }));
  let pending = '';
  hop.stdout.setEncoding('utf8');
  hop.stdout.on('data', (text) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop();
    for (const line of lines) {
      const tab = line.indexOf('\t');
      channels[Number(line.slice(0, tab))].onmessage?.(JSON.parse(line.slice(tab + 1)));
    }
  });
  const end = () =>
    new Promise((resolve) => {
      hop.on('close', resolve);
      hop.stdin.end();
    });
  return { channels, end };
}

/**
 * The floor of any one process in front of the servers: spawn of a fan-out hop, which starts them all at once and
 * only relays their lines, until each has listed its tools (the same SDK clients as `slowestDirect`).
 */
async function slowestThroughFanout() {
  const started = performance.now();
  const { channels, end } = fanoutChannels();
  const clients = await Promise.all(
    channels.map(async (channel) => {
      const { client } = await connect(channel);
      await allTools(client);
      return { client, ms: performance.now() - started };
    }),
  );
  await Promise.all(clients.map(({ client }) => client.close()));
  await end();
  return Math.max(...clients.map((c) => c.ms));
}

const compareBin = process.env.BENCH_COMPARE_BIN;

/** The CPU time (ms, user + system, 10 ms ticks) a running process has used so far. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1000 / 100);
}

/**
 * Spawn of the aggregate until the tools of every server are listed (waiting for list_changed as needed): that time,
 * the time to its `initialize` answer, and the CPU the proxy used until then.
 */
async function aggregateStart(expected, target = proxy()) {
  const started = performance.now();
  let changed;
  const transport = stdioTransport(target);
  const { client, ms: initialize } = await connect(transport, (c) =>
    c.setNotificationHandler(ToolListChangedNotificationSchema, () => changed?.()),
  );
  for (;;) {
    const next = new Promise((resolve) => (changed = resolve));
    if ((await allTools(client)).length >= expected) break;
    await next;
  }
  const ms = performance.now() - started;
  const cpu = cpuMs(transport.pid);
  await client.close();
  return { ms, initialize, cpu };
}

async function echoP50(target, tool) {
  const { client } = await connect(stdioTransport(target));
  await warmUp(client, 50, tool);
  const { latencies } = await echoLatencies(client, CALLS, tool);
  await client.close();
  return median(latencies);
}

const directRuns = [];
const fanoutRuns = [];
const aggregateRuns = [];
const comparedRuns = [];
let toolsPerServer = 0;
const target = proxy();
const compared = compareBin && { ...target, args: [compareBin, ...target.args.slice(1)] };
for (let i = 0; i < STARTS; i++) {
  const run = await slowestDirect();
  directRuns.push(run.ms);
  toolsPerServer = run.toolsPerServer;
  fanoutRuns.push(await slowestThroughFanout());
  // Every server's tools, plus keyproxy__status.
  const expected = SERVERS * toolsPerServer + 1;
  // The two builds take turns at going first: what the previous start leaves running (servers exiting) slows the next.
  if (compared && i % 2 === 1) comparedRuns.push(await aggregateStart(expected, compared));
  aggregateRuns.push(await aggregateStart(expected));
  if (compared && i % 2 === 0) comparedRuns.push(await aggregateStart(expected, compared));
}
const single = await echoP50(proxy('s0'), 'echo');
const aggregate = await echoP50(proxy(), 's0__echo');

const slowest = median(directRuns);
const all = median(aggregateRuns.map((run) => run.ms));
/** Its `initialize` answer and its CPU until every tool is listed (medians), as one phrase. */
const proxySide = (runs) =>
  `initialize answered after ${fmt(median(runs.map((run) => run.initialize)), 0)} ms, proxy CPU ${fmt(median(runs.map((run) => run.cpu)), 0)} ms`;
console.log(
  `${SERVERS} server-everything over stdio (${toolsPerServer} tools each), ${STARTS} starts (medians), ${CALLS} sequential echo calls`,
);
console.log(`slowest of ${SERVERS} direct servers started in parallel: ${fmt(slowest, 0)} ms to its tools listed`);
const floor = median(fanoutRuns);
console.log(
  `floor, the same servers behind one process that only relays their lines (bench/fanout-hop.mjs): ${fmt(floor, 0)} ms (${floor >= slowest ? '+' : ''}${fmt(floor - slowest, 0)} ms)`,
);
console.log(
  `aggregate, spawn to all ${SERVERS * toolsPerServer + 1} tools listed: ${fmt(all, 0)} ms (${all >= slowest ? '+' : ''}${fmt(all - slowest, 0)} ms, ${ratio(all, slowest)}; target ≤ +25 ms, issue 17; ${all >= floor ? '+' : ''}${fmt(all - floor, 0)} ms over the floor); ${proxySide(aggregateRuns)}`,
);
if (compareBin) {
  const other = median(comparedRuns.map((run) => run.ms));
  console.log(
    `compared build (${compareBin}): ${fmt(other, 0)} ms (${other >= slowest ? '+' : ''}${fmt(other - slowest, 0)} ms over the slowest direct; this build ${ratio(all, other)} of it); ${proxySide(comparedRuns)}`,
  );
}
console.log(
  `echo p50: single-server proxy ${fmt(single, 3)} ms, aggregate ${fmt(aggregate, 3)} ms (${ratio(aggregate, single)}; target ≤ 1.1×)`,
);
