#!/usr/bin/env node
// Benchmark (not a test): 2026-07-28 era calls over the remote path. One v2 SDK Streamable HTTP server that speaks
// only 2026-07-28 (test/fixtures/modern-server.mjs: createMcpHandler, {legacy: 'reject'}) on 127.0.0.1,
// reached in the same run by a v2 client (@modelcontextprotocol/client) pinned to 2026-07-28:
//   direct        its StreamableHTTPClientTransport with a bearer header
//   mcp-keyproxy  its stdio transport → `mcp-keyproxy run` → HTTP, the same header from the keychain
// Each echo call is one stateless POST with the `_meta` envelope (no session, no initialize). Figures: connect
// (server/discover answered; spawn included for the proxy), echo p50/p99 and sequential calls/s, the two clients
// taking turns in blocks of calls; printed as ratios to direct.
// Run inside a private keyring: `npm run bench:remote-modern`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { clearSecrets, fmt, measureInTurns, proxyTarget, ratio, root, setSecret, writeConfig } from './lib.mjs';

const STARTS = Number(process.env.BENCH_STARTS ?? 7);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const VERSION = '2026-07-28';
const token = `bench-token-${randomBytes(16).toString('hex')}`;

const server = spawn(process.execPath, [join(root, 'test/fixtures/modern-server.mjs')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise((resolve, reject) => {
  server.once('exit', (code) => reject(new Error(`era server exited with ${code}`)));
  server.stdout.once('data', (chunk) => resolve(JSON.parse(chunk.toString().split('\n')[0]).port));
});
// It prints a line per request (its MCP headers): read and dropped.
server.stdout.resume();
const url = `http://127.0.0.1:${port}/mcp`;

const serverName = `bench-modern-${process.pid}`;
const configPath = writeConfig({
  [serverName]: {
    url,
    headers: { Authorization: 'Bearer ${secret:api_key}' },
    secrets: { api_key: {} },
    transport: 'http',
    confirm: false,
  },
});
setSecret(configPath, serverName, 'api_key', token);

const targets = {
  direct: () => new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
  'mcp-keyproxy': () => new StdioClientTransport({ ...proxyTarget(configPath, serverName), env: { ...process.env }, stderr: 'ignore' }),
};

async function connect(transport) {
  const client = new Client({ name: 'bench-2026', version: '1.0.0' }, { versionNegotiation: { mode: { pin: VERSION } } });
  await client.connect(transport);
  return client;
}

let results;
try {
  results = await measureInTurns(Object.keys(targets), (name) => connect(targets[name]()), {
    starts: STARTS,
    calls: CALLS,
    // Each call really is a 2026-era one: only that era's results name the server in their _meta.
    check: async (name, client) => {
      const answer = await client.callTool({ name: 'echo', arguments: { message: 'era?' } });
      if (!answer._meta?.['io.modelcontextprotocol/serverInfo'])
        throw new Error(`${name}: not a 2026-era answer: ${JSON.stringify(answer)}`);
    },
  });
} finally {
  clearSecrets(serverName);
  server.kill();
}

const base = results.direct;
console.log(
  `2026-07-28-only v2 Streamable HTTP server on 127.0.0.1, v2 client pinned to ${VERSION}, ${STARTS} connects, ${CALLS} sequential echo calls`,
);
console.log('target          connect ms         echo p50 ms      echo p99 ms      calls/s');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(15)} ${fmt(r.startup, 0).padStart(6)} (${ratio(r.startup, base.startup, 1).padStart(6)})  ` +
      `${fmt(r.p50, 3).padStart(6)} (${ratio(r.p50, base.p50)})  ${fmt(r.p99, 3).padStart(6)} (${ratio(r.p99, base.p99)})  ` +
      `${fmt(r.callsPerSecond, 0).padStart(6)} (${ratio(r.callsPerSecond, base.callsPerSecond)})`,
  );
}
const proxy = results['mcp-keyproxy'];
console.log(`mcp-keyproxy, 2026-era echo p50: ${fmt(proxy.p50, 3)} ms vs direct ${fmt(base.p50, 3)} ms (${ratio(proxy.p50, base.p50)})`);
