#!/usr/bin/env node
// Benchmark (not a test): one Streamable HTTP server on 127.0.0.1 that requires a bearer token, reached three ways
// in the same run, printed as ratios to direct:
//   direct        the SDK client's StreamableHTTPClientTransport with the header
//   mcp-keyproxy  stdio → `mcp-keyproxy run` → HTTP, the token from the keychain
//   mcp-remote    stdio → mcp-remote (npm) → HTTP, the token passed with --header "Authorization: Bearer ${AUTH_TOKEN}"
//   SDK relay     stdio → bench/sdk-relay.mjs → HTTP: the SDK's two transports joined with nothing in between, the
//                 floor of any stdio proxy built on them on this machine
// Figures: start-up (spawn, or transport creation for direct, to initialize answered), echo p50/p99, sequential
// calls/s. Run inside a private keyring: `npm run build && scripts/with-keyring.sh node bench/remote.mjs`.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/mcp-keyproxy.js');
const mcpRemote = join(root, 'node_modules/mcp-remote/dist/proxy.js');
const STARTS = Number(process.env.BENCH_STARTS ?? 7);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const token = `bench-token-${randomBytes(16).toString('hex')}`;

const server = spawn(process.execPath, [join(root, 'test/fixtures/remote-server.mjs')], {
  env: { ...process.env, FIXTURE_TOKEN: token, FIXTURE_QUIET: '1' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise((resolve, reject) => {
  server.once('exit', (code) => reject(new Error(`fixture server exited with ${code}`)));
  server.stdout.once('data', (chunk) => resolve(JSON.parse(chunk.toString().split('\n')[0]).port));
});
const url = `http://127.0.0.1:${port}/mcp`;

const serverName = `bench-remote-${process.pid}`;
const configDir = mkdtempSync(join(tmpdir(), 'mcp-keyproxy-bench-'));
const configPath = join(configDir, 'proxy.config.json');
writeFileSync(
  configPath,
  JSON.stringify({
    servers: {
      [serverName]: {
        url,
        headers: { Authorization: 'Bearer ${secret:api_key}' },
        secrets: { api_key: {} },
        transport: 'http',
        confirm: false,
      },
    },
  }),
);
execFileSync(process.execPath, [bin, 'secrets', 'set', serverName, 'api_key', '--config', configPath], {
  input: token,
  stdio: ['pipe', 'ignore', 'inherit'],
});

const stdio =
  (command, args, env = {}) =>
  () =>
    new StdioClientTransport({ command, args, env: { ...process.env, ...env }, stderr: 'ignore' });
const targets = {
  direct: () => new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
  'mcp-keyproxy': stdio(process.execPath, [bin, 'run', serverName, '--config', configPath, '--log-level', 'warn']),
  // The ${AUTH_TOKEN} is expanded by mcp-remote from its environment, as its README shows.
  'mcp-remote': stdio(
    process.execPath,
    [mcpRemote, url, '--transport', 'http-only', '--silent', '--header', 'Authorization: Bearer ${AUTH_TOKEN}'],
    { AUTH_TOKEN: token },
  ),
  'SDK relay': stdio(process.execPath, [join(root, 'bench/sdk-relay.mjs'), url], { AUTH_TOKEN: token }),
};

async function connect(makeTransport) {
  const started = performance.now();
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(makeTransport());
  return { client, startupMs: performance.now() - started };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const median = (values) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

// Targets take turns (start-ups, then blocks of calls) so that a change in machine load during the run weighs on
// all of them alike instead of on whichever ran last.
async function measureAll(names) {
  const startups = Object.fromEntries(names.map((name) => [name, []]));
  for (let i = 0; i < STARTS; i++) {
    for (const name of names) {
      const { client, startupMs } = await connect(targets[name]);
      startups[name].push(startupMs);
      await client.close();
    }
  }
  const clients = {};
  for (const name of names) {
    clients[name] = (await connect(targets[name])).client;
    for (let i = 0; i < 50; i++) await clients[name].callTool({ name: 'echo', arguments: { message: 'warm-up' } });
  }
  const latencies = Object.fromEntries(names.map((name) => [name, []]));
  const elapsed = Object.fromEntries(names.map((name) => [name, 0]));
  const BLOCK = 100;
  for (let done = 0; done < CALLS; done += BLOCK) {
    for (const name of names) {
      const began = performance.now();
      for (let i = done; i < Math.min(CALLS, done + BLOCK); i++) {
        const t = performance.now();
        await clients[name].callTool({ name: 'echo', arguments: { message: `hello ${i}` } });
        latencies[name].push(performance.now() - t);
      }
      elapsed[name] += performance.now() - began;
    }
  }
  const results = {};
  for (const name of names) {
    await clients[name].close();
    const sorted = latencies[name].sort((a, b) => a - b);
    results[name] = {
      startup: median(startups[name]),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      callsPerSecond: (sorted.length / elapsed[name]) * 1000,
    };
  }
  return results;
}

let results;
try {
  results = await measureAll(Object.keys(targets));
} finally {
  execFileSync(process.execPath, [bin, 'secrets', 'clear', serverName, '--yes'], { stdio: 'ignore' });
  server.kill();
}

const base = results.direct;
const fmt = (n, digits = 2) => n.toFixed(digits);
console.log(`Streamable HTTP server on 127.0.0.1 with a bearer token, ${STARTS} starts, ${CALLS} sequential echo calls`);
console.log('target          start-up ms        echo p50 ms      echo p99 ms      calls/s');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(15)} ${fmt(r.startup, 0).padStart(6)} (${fmt(r.startup / base.startup, 1).padStart(5)}×)  ` +
      `${fmt(r.p50, 3).padStart(6)} (${fmt(r.p50 / base.p50)}×)  ${fmt(r.p99, 3).padStart(6)} (${fmt(r.p99 / base.p99)}×)  ` +
      `${fmt(r.callsPerSecond, 0).padStart(6)} (${fmt(r.callsPerSecond / base.callsPerSecond)}×)`,
  );
}
const proxy = results['mcp-keyproxy'];
const remote = results['mcp-remote'];
const floor = results['SDK relay'];
console.log(
  `mcp-keyproxy: echo p50 ${fmt(proxy.p50 / base.p50)}× direct (target ≤ 1.15×; mcp-remote ${fmt(remote.p50 / base.p50)}×, ` +
    `bare SDK relay ${fmt(floor.p50 / base.p50)}×); ` +
    `start-up ${fmt(proxy.startup / remote.startup)}× mcp-remote's (target ≤ 0.5×)`,
);
