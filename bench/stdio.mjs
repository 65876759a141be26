#!/usr/bin/env node
// Benchmark (not a test): a direct stdio client → server-everything vs client → mcp-keyproxy → server-everything,
// measured in the same run, printed as ratios to direct. Run with `npm run bench` (inside a private keyring).
//
// 'pipe hop' is a Node process that only copies bytes: the floor of any extra process in the path.
// Figures: start-up (spawn to initialize answered), echo p50/p99, sequential calls/s. The proxied server has
// 10 secrets in the keychain, so start-up includes reading them.
import { join } from 'node:path';
import {
  clearSecrets,
  echoLatencies,
  everything,
  fmt,
  nodeTarget,
  proxyTarget,
  ratio,
  root,
  sdkClient,
  serversWithSecrets,
  summarize,
  warmUp,
} from './lib.mjs';

const STARTS = Number(process.env.BENCH_STARTS ?? 7);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const SECRETS = 10;

const serverName = `bench-${process.pid}`;
const { configPath } = serversWithSecrets({ [serverName]: [everything, 'stdio'] }, SECRETS);

const targets = {
  direct: nodeTarget(everything, 'stdio'),
  'pipe hop': nodeTarget(join(root, 'bench/pipe-hop.mjs'), everything, 'stdio'),
  'mcp-keyproxy': proxyTarget(configPath, serverName),
};

const { connect, stdioTransport } = await sdkClient();

async function measure(name) {
  const target = targets[name];
  const startups = [];
  for (let i = 0; i < STARTS; i++) {
    const { client, ms } = await connect(stdioTransport(target));
    startups.push(ms);
    await client.close();
  }
  const { client } = await connect(stdioTransport(target));
  await warmUp(client, 50);
  const { latencies, elapsedMs } = await echoLatencies(client, CALLS);
  await client.close();
  return summarize(startups, latencies, elapsedMs);
}

const results = {};
for (const name of Object.keys(targets)) results[name] = await measure(name);
clearSecrets(serverName);

const base = results.direct;
console.log(`server-everything over stdio, ${STARTS} starts, ${CALLS} sequential echo calls; ${SECRETS} secrets in the keychain`);
console.log('target          start-up ms      echo p50 ms      echo p99 ms      calls/s');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(15)} ${fmt(r.startup, 0).padStart(6)} (${ratio(r.startup, base.startup)})  ` +
      `${fmt(r.p50, 3).padStart(6)} (${ratio(r.p50, base.p50)})  ${fmt(r.p99, 3).padStart(6)} (${ratio(r.p99, base.p99)})  ` +
      `${fmt(r.callsPerSecond, 0).padStart(6)} (${ratio(r.callsPerSecond, base.callsPerSecond)})`,
  );
}
const proxy = results['mcp-keyproxy'];
console.log(
  `start-up overhead: +${fmt(proxy.startup - base.startup, 0)} ms (target ≤ +80 ms); echo p50 ratio ${ratio(proxy.p50, base.p50)} (target ≤ 1.3×)`,
);
