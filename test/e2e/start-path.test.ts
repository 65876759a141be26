// What a start of the built proxy does before its server runs, through `run <server>` as a client starts it: the
// compiled-code cache (src/timing/compile-cache.ts: on Node 20, the first start compiles the bundle's chunks and
// leaves their code in the state directory when it exits, the next start runs them from it; never from a folder
// that others can write), and which Node modules it has loaded by the time it spawns the server.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nodeModule from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectThroughProxy, everythingServer, isAlive, repoRoot, waitFor, writeConfig } from '../helpers/proxy.js';

const hasNodeCache = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';
const server = 'compile-cache-e2e';
let config: string;

beforeAll(async () => {
  config = await writeConfig({ [server]: everythingServer({}) });
});

interface CodeCacheUse {
  reused: string[];
  compiled: string[];
}

/**
 * Starts the proxy with `stateDir` (and `env`), calls a tool, closes, and waits for it to exit: what its trace said
 * of the cache.
 */
async function start(stateDir: string, env: Record<string, string> = {}): Promise<CodeCacheUse | undefined> {
  const { client, proxyPid, stderr } = await connectThroughProxy({
    config,
    server,
    env: { MCP_KEYPROXY_STATE_DIR: stateDir, MCP_KEYPROXY_TRACE_STARTUP: '1', ...env },
  });
  try {
    const result = await client.callTool({ name: 'echo', arguments: { message: 'cached' } });
    expect(JSON.stringify(result.content)).toContain('cached');
  } finally {
    await client.close();
  }
  // The code is written as the proxy exits.
  expect(await waitFor(async () => !(await isAlive(proxyPid)), 15_000), 'the proxy exits when its client leaves').toBe(true);
  const trace = stderr()
    .split('\n')
    .find((line) => line.startsWith('{"startupTrace"'));
  expect(trace, 'MCP_KEYPROXY_TRACE_STARTUP=1 prints the trace once the first byte has gone out').toBeDefined();
  return (JSON.parse(trace!) as { startupTrace: { codeCache?: CodeCacheUse } }).startupTrace.codeCache;
}

describe('the compiled-code cache of the built proxy', () => {
  it('keeps the code a start compiled for the next: on Node 20 the chunks, 0600 in a 0700 folder of this build', async () => {
    const state = await mkdtemp(join(tmpdir(), 'keyproxy-compile-cache-'));
    if (hasNodeCache) {
      // Node ≥ 22.1 caches every module itself, in the folder it is given.
      expect(await start(state)).toBeUndefined();
      expect(readdirSync(join(state, 'compile-cache')).length).toBeGreaterThan(0);
      return;
    }
    // A folder left by an earlier build: its code must never be taken for this build's.
    mkdirSync(join(state, 'compile-cache', 'v8-0000000000000000'), { recursive: true, mode: 0o700 });

    const first = await start(state);
    expect(first?.reused).toEqual([]);
    expect(first?.compiled).toContain('index.cjs');
    const builds = readdirSync(join(state, 'compile-cache'));
    expect(builds, "the earlier build's folder is removed once this build's is written").toHaveLength(1);
    expect(builds[0]).toMatch(/^v8-[0-9a-f]{16}$/);
    const folder = join(state, 'compile-cache', builds[0]!);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    const files = readdirSync(folder);
    for (const chunk of first!.compiled) expect(files).toContain(`${chunk}.v8`);
    for (const file of files) expect(statSync(join(folder, file)).mode & 0o777).toBe(0o600);

    // The second start loads less (no config validation: the validated-config cache has it), all of it cached.
    const second = await start(state);
    expect(second?.compiled).toEqual([]);
    expect(second?.reused).toContain('index.cjs');
    expect(first!.compiled).toEqual(expect.arrayContaining(second!.reused));
  }, 60_000);

  it('uses no folder that others can write, and writes nothing into it', async () => {
    const state = await mkdtemp(join(tmpdir(), 'keyproxy-compile-cache-'));
    mkdirSync(join(state, 'compile-cache'));
    chmodSync(join(state, 'compile-cache'), 0o777);
    expect(await start(state)).toBeUndefined();
    expect(await start(state)).toBeUndefined();
    expect(readdirSync(join(state, 'compile-cache'))).toEqual([]);
    expect(existsSync(join(state, 'compile-cache'))).toBe(true);
  }, 60_000);

  it('has loaded no Node module for what a start calls late or never (hashes, promise timers, stderr by lines) when it spawns the server', async () => {
    // scripts/bundle.mjs makes them load at their first use; the validated-config cache names its entries without crypto.
    const state = await mkdtemp(join(tmpdir(), 'keyproxy-start-path-'));
    const file = join(state, 'modules-at-spawn.json');
    const env = { NODE_OPTIONS: `--require ${join(repoRoot, 'test/fixtures/modules-at-spawn.cjs')}`, MODULES_AT_SPAWN_FILE: file };
    // The first start validates the config and writes it to the validated-config cache (fs/promises) while it goes
    // on; the second is served from that cache, as most starts are.
    for (const [which, unwanted] of [
      ['first start', /^(crypto|readline|timers\/promises)$/],
      ['second start', /^(crypto|readline|timers\/promises|fs\/promises)$/],
    ] as const) {
      await start(state, env);
      const loaded = JSON.parse(readFileSync(file, 'utf8')) as string[];
      expect(loaded, 'the check is looking at the wrong moment').toContain('child_process');
      expect(
        loaded.filter((name) => unwanted.test(name)),
        which,
      ).toEqual([]);
    }
  }, 60_000);
});
