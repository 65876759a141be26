import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { binPath, inheritedEnv, isAlive, procText, repoRoot, waitFor, writeConfig } from '../helpers/proxy.js';

// Every way a server stops must end its whole process group: a helper the server started (here one that ignores
// SIGHUP and outlives the server) holds the server's environment, secrets included.
const fixture = join(repoRoot, 'test/fixtures/spawning-server.mjs');
/** How long after a stop no process of the group may be left. */
const GROUP_ENDS_MS = 3000;

const marker = `marker-${randomBytes(6).toString('hex')}`;
const spawningServer = (env: Record<string, string> = {}): Record<string, unknown> => ({
  command: process.execPath,
  args: [fixture],
  env: { FIXTURE_MARKER: marker, ...env },
  confirm: false,
});

interface Pids {
  server: number;
  helper: number;
}

/** A proxy spoken to in raw JSON-RPC, so that its exit code can be read. */
interface Proxy {
  process: ChildProcess;
  exited: Promise<number | null>;
  request(method: string, params?: Record<string, unknown>): Promise<{ result?: unknown; error?: { message: string } }>;
  pids(tool: string): Promise<Pids>;
}

const proxies: ChildProcess[] = [];
const groups: number[] = [];

afterEach(() => {
  for (const proxy of proxies.splice(0)) proxy.kill('SIGKILL');
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Ended, as it should have.
    }
  }
});

async function startProxy(config: string, server?: string): Promise<Proxy> {
  const child = spawn(process.execPath, [binPath, 'run', ...(server ? [server] : []), '--config', config], {
    env: inheritedEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  proxies.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr.resume();
  const waiting = new Map<number, (message: { result?: unknown; error?: { message: string } }) => void>();
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const message = JSON.parse(buffer.slice(0, newline)) as { id?: number; result?: unknown; error?: { message: string } };
      buffer = buffer.slice(newline + 1);
      if (typeof message.id === 'number') waiting.get(message.id)?.(message);
    }
  });
  let nextId = 1;
  const request: Proxy['request'] = (method, params = {}) =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  const initialized = await request('initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'process-groups', version: '1' },
  });
  expect(initialized.error).toBeUndefined();
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  const pids = async (tool: string): Promise<Pids> => {
    const answer = await request('tools/call', { name: tool, arguments: {} });
    const content = (answer.result as { content?: Array<{ text: string }> } | undefined)?.content;
    if (!content?.[0]) throw new Error(`no pids: ${JSON.stringify(answer)}`);
    return JSON.parse(content[0].text) as Pids;
  };
  return { process: child, exited, request, pids };
}

/** Pids of the processes of group `pgid` that run (not zombies: an init that never reaps keeps those). */
async function groupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'latin1');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
    } catch {
      // It ended while we looked.
    }
  }
  return members;
}

/** Checks that the server leads a group holding the helper, which has the server's environment. */
async function expectGroupRunning(pids: Pids): Promise<void> {
  groups.push(pids.server);
  expect(await groupMembers(pids.server)).toEqual(expect.arrayContaining([pids.server, pids.helper]));
  expect(await procText(pids.helper, 'environ')).toContain(`FIXTURE_MARKER=${marker}`);
}

const groupEnds = (pids: Pids): Promise<boolean> => waitFor(async () => (await groupMembers(pids.server)).length === 0, GROUP_ENDS_MS);

describe('process groups: every stop ends every process of the server group', () => {
  // Exit codes as README's table: a stop asked for is success, Ctrl-C (SIGINT) is 130.
  const stops = {
    'the client closes stdin': [(proxy: Proxy) => void proxy.process.stdin!.end(), 0],
    SIGTERM: [(proxy: Proxy) => void proxy.process.kill('SIGTERM'), 0],
    SIGINT: [(proxy: Proxy) => void proxy.process.kill('SIGINT'), 130],
  } as const;
  for (const [how, [stop, code]] of Object.entries(stops)) {
    it(`when ${how}, and the proxy exits ${code} promptly`, async () => {
      const proxy = await startProxy(await writeConfig({ spawner: spawningServer() }), 'spawner');
      const pids = await proxy.pids('pids');
      await expectGroupRunning(pids);
      stop(proxy);
      expect(await groupEnds(pids)).toBe(true);
      expect(await waitFor(async () => !(await isAlive(proxy.process.pid!)), GROUP_ENDS_MS)).toBe(true);
      expect(await proxy.exited).toBe(code);
    });
  }

  it('with SIGKILL after SIGTERM for a helper that ignores SIGTERM', async () => {
    const proxy = await startProxy(await writeConfig({ spawner: spawningServer({ FIXTURE_HELPER_IGNORES_TERM: '1' }) }), 'spawner');
    const pids = await proxy.pids('pids');
    await expectGroupRunning(pids);
    proxy.process.stdin!.end();
    expect(await groupEnds(pids)).toBe(true);
    expect(await proxy.exited).toBe(0);
  });

  it('when the proxy is killed with SIGKILL (the reaper)', async () => {
    const proxy = await startProxy(await writeConfig({ spawner: spawningServer() }), 'spawner');
    const pids = await proxy.pids('pids');
    await expectGroupRunning(pids);
    proxy.process.kill('SIGKILL');
    expect(await groupEnds(pids)).toBe(true);
  });

  for (const stdio of ['ignore', 'inherit'] as const) {
    it(`when the server crashes (its helper's stdio: ${stdio}), and the proxy exits 1`, async () => {
      const proxy = await startProxy(await writeConfig({ spawner: spawningServer({ FIXTURE_HELPER_STDIO: stdio }) }), 'spawner');
      const pids = await proxy.pids('pids');
      await expectGroupRunning(pids);
      void proxy.request('tools/call', { name: 'crash', arguments: {} });
      expect(await groupEnds(pids)).toBe(true);
      expect(await waitFor(async () => !(await isAlive(proxy.process.pid!)), GROUP_ENDS_MS)).toBe(true);
      expect(await proxy.exited).toBe(1);
    });
  }

  it('when a server of the aggregate crashes and is restarted, and then when the client leaves', async () => {
    const proxy = await startProxy(await writeConfig({ spawner: spawningServer() }));
    const started = await waitFor(async () => {
      const answer = await proxy.request('tools/list');
      return JSON.stringify(answer.result).includes('spawner__pids');
    }, 10_000);
    expect(started).toBe(true);
    const first = await proxy.pids('spawner__pids');
    await expectGroupRunning(first);
    const crash = await proxy.request('tools/call', { name: 'spawner__crash', arguments: {} });
    expect(crash.error?.message ?? JSON.stringify(crash.result)).toContain('stopped before answering');
    expect(await groupEnds(first)).toBe(true);
    // Restarted (1 s backoff): a new group, and the proxy still serves.
    let second: Pids | undefined;
    expect(
      await waitFor(async () => {
        second = await proxy.pids('spawner__pids').catch(() => undefined);
        return second !== undefined && second.server !== first.server;
      }, 10_000),
    ).toBe(true);
    await expectGroupRunning(second!);
    expect(await isAlive(proxy.process.pid!)).toBe(true);
    proxy.process.stdin!.end();
    expect(await groupEnds(second!)).toBe(true);
    expect(await proxy.exited).toBe(0);
  });
});
