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
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { clearSecrets, fmt, measureInTurns, nodeTarget, proxyTarget, ratio, root, sdkClient, setSecret, writeConfig } from './lib.mjs';

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

const { connect, stdioTransport } = await sdkClient();
const stdio =
  (target, env = {}) =>
  () =>
    stdioTransport(target, env);
const targets = {
  direct: () => new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
  'mcp-keyproxy': stdio(proxyTarget(configPath, serverName)),
  // The ${AUTH_TOKEN} is expanded by mcp-remote from its environment, as its README shows.
  'mcp-remote': stdio(
    nodeTarget(mcpRemote, url, '--transport', 'http-only', '--silent', '--header', 'Authorization: Bearer ${AUTH_TOKEN}'),
    { AUTH_TOKEN: token },
  ),
  'SDK relay': stdio(nodeTarget(join(root, 'bench/sdk-relay.mjs'), url), { AUTH_TOKEN: token }),
};

let results;
try {
  results = await measureInTurns(Object.keys(targets), async (name) => (await connect(targets[name]())).client, {
    starts: STARTS,
    calls: CALLS,
  });
} finally {
  clearSecrets(serverName);
  server.kill();
}

const base = results.direct;
console.log(`Streamable HTTP server on 127.0.0.1 with a bearer token, ${STARTS} starts, ${CALLS} sequential echo calls`);
console.log('target          start-up ms        echo p50 ms      echo p99 ms      calls/s');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(15)} ${fmt(r.startup, 0).padStart(6)} (${ratio(r.startup, base.startup, 1).padStart(6)})  ` +
      `${fmt(r.p50, 3).padStart(6)} (${ratio(r.p50, base.p50)})  ${fmt(r.p99, 3).padStart(6)} (${ratio(r.p99, base.p99)})  ` +
      `${fmt(r.callsPerSecond, 0).padStart(6)} (${ratio(r.callsPerSecond, base.callsPerSecond)})`,
  );
}
const proxy = results['mcp-keyproxy'];
const remote = results['mcp-remote'];
const floor = results['SDK relay'];
console.log(
  `mcp-keyproxy: echo p50 ${ratio(proxy.p50, base.p50)} direct (target ≤ 1.15×; mcp-remote ${ratio(remote.p50, base.p50)}, ` +
    `bare SDK relay ${ratio(floor.p50, base.p50)}); ` +
    `start-up ${ratio(proxy.startup, remote.startup)} mcp-remote's (target ≤ 0.5×)`,
);
