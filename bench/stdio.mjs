#!/usr/bin/env node
// Benchmark (not a test): a direct stdio client → server-everything vs client → mcp-keyproxy → server-everything,
// measured in the same run, printed as ratios to direct. Run with `npm run bench` (inside a private keyring).
//
// 'pipe hop' is a Node process that only copies bytes: the floor of any extra process in the path.
// Figures: start-up (spawn to initialize answered), echo p50/p99, sequential calls/s. The proxied server has
// 10 secrets in the keychain, so start-up includes reading them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/mcp-keyproxy.js');
const everything = join(
  dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist/index.js',
);
const STARTS = Number(process.env.BENCH_STARTS ?? 7);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const SECRETS = 10;

const serverName = `bench-${process.pid}`;
const secretNames = Array.from({ length: SECRETS }, (_, i) => `KEY_${i}`);
const configDir = mkdtempSync(join(tmpdir(), 'mcp-keyproxy-bench-'));
const configPath = join(configDir, 'proxy.config.json');
writeFileSync(
  configPath,
  JSON.stringify({
    servers: {
      [serverName]: {
        command: process.execPath,
        args: [everything, 'stdio'],
        env: Object.fromEntries(secretNames.map((name) => [name, `\${secret:${name}}`])),
        secrets: Object.fromEntries(secretNames.map((name) => [name, {}])),
        confirm: false,
      },
    },
  }),
);
for (const name of secretNames) {
  execFileSync(process.execPath, [bin, 'secrets', 'set', serverName, name, '--config', configPath], {
    input: `bench-secret-value-${name}-${'x'.repeat(24)}`,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
}

const targets = {
  direct: { command: process.execPath, args: [everything, 'stdio'] },
  'pipe hop': { command: process.execPath, args: [join(root, 'bench/pipe-hop.mjs'), everything, 'stdio'] },
  'mcp-keyproxy': { command: process.execPath, args: [bin, 'run', serverName, '--config', configPath, '--log-level', 'warn'] },
};

async function connect(target) {
  const transport = new StdioClientTransport({ ...target, env: { ...process.env }, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  const started = performance.now();
  await client.connect(transport);
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

async function measure(name) {
  const target = targets[name];
  const startups = [];
  for (let i = 0; i < STARTS; i++) {
    const { client, startupMs } = await connect(target);
    startups.push(startupMs);
    await client.close();
  }
  const { client } = await connect(target);
  for (let i = 0; i < 50; i++) await client.callTool({ name: 'echo', arguments: { message: 'warm-up' } });
  const latencies = [];
  const began = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await client.callTool({ name: 'echo', arguments: { message: `hello ${i}` } });
    latencies.push(performance.now() - t);
  }
  const elapsed = performance.now() - began;
  await client.close();
  latencies.sort((a, b) => a - b);
  return {
    startup: median(startups),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    callsPerSecond: (CALLS / elapsed) * 1000,
  };
}

const results = {};
for (const name of Object.keys(targets)) results[name] = await measure(name);
execFileSync(process.execPath, [bin, 'secrets', 'clear', serverName, '--yes'], { stdio: 'ignore' });

const base = results.direct;
const fmt = (n, digits = 2) => n.toFixed(digits);
console.log(`server-everything over stdio, ${STARTS} starts, ${CALLS} sequential echo calls; ${SECRETS} secrets in the keychain`);
console.log('target          start-up ms      echo p50 ms      echo p99 ms      calls/s');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(15)} ${fmt(r.startup, 0).padStart(6)} (${fmt(r.startup / base.startup)}×)  ` +
      `${fmt(r.p50, 3).padStart(6)} (${fmt(r.p50 / base.p50)}×)  ${fmt(r.p99, 3).padStart(6)} (${fmt(r.p99 / base.p99)}×)  ` +
      `${fmt(r.callsPerSecond, 0).padStart(6)} (${fmt(r.callsPerSecond / base.callsPerSecond)}×)`,
  );
}
const proxy = results['mcp-keyproxy'];
console.log(
  `start-up overhead: +${fmt(proxy.startup - base.startup, 0)} ms (target ≤ +80 ms); echo p50 ratio ${fmt(proxy.p50 / base.p50)}× (target ≤ 1.3×)`,
);
