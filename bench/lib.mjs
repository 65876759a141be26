// Helpers the benchmarks in bench/ share: paths, a throwaway config and its secrets, SDK clients, sequential echo
// calls, statistics and formatting. Not used by pipe-hop.mjs and sdk-relay.mjs: they are hops under measurement,
// and loading this module would add to their start-up.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The CLI as a user runs it (bin/mcp-keyproxy.js, which loads dist/bundle/). */
export const bin = join(root, 'bin/mcp-keyproxy.js');

/** The entry script of @modelcontextprotocol/server-everything, the reference stdio server. */
export const everything = join(
  dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist/index.js',
);

/** A stdio target ({ command, args }) that runs `args` with this Node. */
export const nodeTarget = (...args) => ({ command: process.execPath, args });

/** The stdio target `mcp-keyproxy run [server] --config <configPath> --log-level warn` (no server: the aggregate). */
export const proxyTarget = (configPath, ...server) => nodeTarget(bin, 'run', ...server, '--config', configPath, '--log-level', 'warn');

/** Writes `{ servers }` to proxy.config.json in a new temporary directory and returns the file's path. */
export function writeConfig(servers) {
  const configPath = join(mkdtempSync(join(tmpdir(), 'mcp-keyproxy-bench-')), 'proxy.config.json');
  writeFileSync(configPath, JSON.stringify({ servers }));
  return configPath;
}

/** Stores a secret in the keychain with `mcp-keyproxy secrets set`, the value on stdin. */
export function setSecret(configPath, server, name, value) {
  execFileSync(process.execPath, [bin, 'secrets', 'set', server, name, '--config', configPath], {
    input: value,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
}

/**
 * The config entry of a local server (`node ...args`) that gets `secretNames` from the keychain, without a consent
 * prompt.
 */
export function withSecrets(args, secretNames) {
  return {
    command: process.execPath,
    args,
    env: Object.fromEntries(secretNames.map((name) => [name, `\${secret:${name}}`])),
    secrets: Object.fromEntries(secretNames.map((name) => [name, {}])),
    confirm: false,
  };
}

/**
 * Writes a config with one server per entry of `servers` (name → args), each with `count` keychain secrets
 * (`KEY_0`…), and stores their values. Returns the config's path and the secret names.
 */
export function serversWithSecrets(servers, count) {
  const secretNames = Array.from({ length: count }, (_, i) => `KEY_${i}`);
  const configPath = writeConfig(Object.fromEntries(Object.entries(servers).map(([name, args]) => [name, withSecrets(args, secretNames)])));
  for (const server of Object.keys(servers)) {
    for (const name of secretNames) setSecret(configPath, server, name, `bench-secret-value-${name}-${'x'.repeat(24)}`);
  }
  return { configPath, secretNames };
}

/** A field of /proc/<pid>/status in MB (`VmRSS`: resident now, `VmHWM`: its peak), or NaN once the process is gone. */
export function statusMb(pid, field) {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Removes a server's secrets from the keychain with `mcp-keyproxy secrets clear`. */
export function clearSecrets(server) {
  execFileSync(process.execPath, [bin, 'secrets', 'clear', server, '--yes'], { stdio: 'ignore' });
}

/** Imports the SDK's client and returns the helpers built on it (lazy: scrub.mjs measures in process without it). */
export async function sdkClient() {
  const [{ Client }, { StdioClientTransport }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
  ]);
  return {
    // A transport that spawns `target` with this process's environment plus `env`, the server's stderr dropped.
    stdioTransport: (target, env = {}) => new StdioClientTransport({ ...target, env: { ...process.env, ...env }, stderr: 'ignore' }),
    // A new client ("bench" 1.0.0), handed to `prepare` and then connected over `transport`: the client, and the ms
    // of the connect alone (spawn, or the first request, to initialize answered).
    async connect(transport, prepare = () => {}) {
      const client = new Client({ name: 'bench', version: '1.0.0' });
      prepare(client);
      const started = performance.now();
      await client.connect(transport);
      return { client, ms: performance.now() - started };
    },
  };
}

/** Runs `fn` and resolves to its result and the ms it took. */
export async function timed(fn) {
  const started = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - started };
}

/** One echo call, its message numbered `i`. */
export const echo = (client, i, tool = 'echo') => client.callTool({ name: tool, arguments: { message: `hello ${i}` } });

/** `count` echo calls, before anything is measured. */
export async function warmUp(client, count, tool = 'echo') {
  for (let i = 0; i < count; i++) await client.callTool({ name: tool, arguments: { message: 'warm-up' } });
}

/** `calls` sequential echo calls: the ms of each, and of them all. */
export async function echoLatencies(client, calls, tool = 'echo') {
  const latencies = [];
  const began = performance.now();
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    await echo(client, i, tool);
    latencies.push(performance.now() - t);
  }
  return { latencies, elapsedMs: performance.now() - began };
}

/**
 * `calls` sequential echo calls on each of `clients` (by name), taking turns in blocks of `block` so that a change in
 * machine load weighs on all of them alike: each one's total ms, and the ms of each call if `latencies` is asked for.
 */
export async function echoInTurns(clients, calls, { block = 100, latencies = false } = {}) {
  const names = Object.keys(clients);
  const elapsedMs = Object.fromEntries(names.map((name) => [name, 0]));
  const perCall = Object.fromEntries(names.map((name) => [name, []]));
  for (let done = 0; done < calls; done += block) {
    for (const name of names) {
      const began = performance.now();
      for (let i = done; i < Math.min(calls, done + block); i++) {
        if (!latencies) {
          await echo(clients[name], i);
          continue;
        }
        const t = performance.now();
        await echo(clients[name], i);
        perCall[name].push(performance.now() - t);
      }
      elapsedMs[name] += performance.now() - began;
    }
  }
  return { elapsedMs, latencies: perCall };
}

/**
 * The targets `names` take turns (start-ups, then blocks of calls) so that a change in machine load during the run
 * weighs on all of them alike instead of on whichever ran last. `open(name)` makes a connected client (a start-up is
 * counted from before the transport is made); `check(name, client)` runs once on each measured client after its
 * warm-up. Start-up median, echo p50/p99 and calls/s of each, by name.
 */
export async function measureInTurns(names, open, { starts, calls, check = async () => {} }) {
  const startups = Object.fromEntries(names.map((name) => [name, []]));
  for (let i = 0; i < starts; i++) {
    for (const name of names) {
      const { result, ms } = await timed(() => open(name));
      startups[name].push(ms);
      await result.close();
    }
  }
  const clients = {};
  for (const name of names) {
    clients[name] = await open(name);
    await warmUp(clients[name], 50);
    await check(name, clients[name]);
  }
  const { elapsedMs, latencies } = await echoInTurns(clients, calls, { latencies: true });
  const results = {};
  for (const name of names) {
    await clients[name].close();
    results[name] = summarize(startups[name], latencies[name], elapsedMs[name]);
  }
  return results;
}

/** The value at percentile `p` (0–100) of ascending `sorted`. */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The median of `values` (the upper one of an even count); `values` is left as it was. */
export const median = (values) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/** Start-up median, echo p50/p99 and calls/s from start-up times, call latencies (sorted in place) and their total ms. */
export function summarize(startups, latencies, elapsedMs) {
  latencies.sort((a, b) => a - b);
  return {
    startup: median(startups),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    callsPerSecond: (latencies.length / elapsedMs) * 1000,
  };
}

/** `n` with `digits` decimals. */
export const fmt = (n, digits = 2) => n.toFixed(digits);

/** `value / base` as a ratio, e.g. "1.07×". */
export const ratio = (value, base, digits = 2) => `${fmt(value / base, digits)}×`;
