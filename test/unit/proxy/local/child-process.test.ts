import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { spawnChild, stopChild, type SpawnedChild } from '../../../../src/proxy/local/child-process.js';
import { releaseGroup, watchGroup } from '../../../../src/proxy/local/reaper.js';

vi.mock('../../../../src/proxy/local/reaper.js', () => ({ watchGroup: vi.fn(), releaseGroup: vi.fn() }));

// A helper that ignores SIGHUP (and SIGTERM with HELPER_STUBBORN), says "ready" once its handlers are in place.
const HELPER = `process.on('SIGHUP', () => {});
if (process.env.HELPER_STUBBORN) process.on('SIGTERM', () => {});
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);`;
// A server that starts the helper in its own process group (the default), prints the helper's pid once it is ready,
// and exits at the end of its stdin (or with LEADER_STUBBORN never, SIGTERM ignored), or at once on "crash".
const LEADER = `const helper = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(HELPER)}], { stdio: ['ignore', 'pipe', 'ignore'] });
helper.unref();
helper.stdout.once('data', () => { helper.stdout.destroy(); process.stdout.write(helper.pid + '\\n'); });
process.stdin.on('data', (data) => { if (String(data).includes('crash')) process.exit(3); });
if (process.env.LEADER_STUBBORN) { process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); }`;

/** True while `pid` runs (a zombie does not: an init that never reaps keeps them here). */
function runs(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

const started: number[] = [];

async function startServer(env: Record<string, string> = {}): Promise<{ spawned: SpawnedChild; leader: number; helper: number }> {
  const spawned = await spawnChild({ command: process.execPath, args: ['-e', LEADER], env: { PATH: process.env.PATH ?? '', ...env } });
  const helper = await new Promise<number>((resolve) =>
    spawned.process.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString()))),
  );
  const leader = spawned.process.pid!;
  started.push(leader, helper);
  expect(runs(helper)).toBe(true);
  return { spawned, leader, helper };
}

/** Records, when the reaper is told a group has ended, whether the given pids still ran. */
function runningAtRelease(pids: number[]): boolean[] {
  const seen: boolean[] = [];
  vi.mocked(releaseGroup).mockImplementation(() => void seen.push(pids.some(runs)));
  return seen;
}

beforeEach(() => vi.mocked(releaseGroup).mockReset());

afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
});

describe.skipIf(process.platform !== 'linux')('stopChild and the process group', () => {
  it('ends the helpers a server leaves behind at the end of its stdin, and resolves once the group is empty', async () => {
    const { spawned, leader, helper } = await startServer();
    expect(watchGroup).toHaveBeenCalledWith(leader);
    const seen = runningAtRelease([leader, helper]);
    const startedAt = Date.now();
    await stopChild(spawned);
    expect(runs(helper)).toBe(false);
    expect(runs(leader)).toBe(false);
    // Stopped by the end of stdin then SIGTERM at once, not after a grace period.
    expect(Date.now() - startedAt).toBeLessThan(1500);
    expect(releaseGroup).toHaveBeenCalledWith(leader);
    expect(seen).toEqual([false]);
  });

  it('ends the helpers of a server that crashed, and keeps the group with the reaper until they are gone', async () => {
    const { spawned, leader, helper } = await startServer();
    const seen = runningAtRelease([helper]);
    spawned.process.stdin!.write('crash\n');
    await vi.waitFor(() => expect(runs(helper)).toBe(false), { timeout: 3000, interval: 50 });
    await vi.waitFor(() => expect(releaseGroup).toHaveBeenCalledWith(leader), { timeout: 1000, interval: 20 });
    expect(seen).toEqual([false]);
    // Stopping it afterwards (the proxy ending) finds nothing to do.
    await stopChild(spawned);
    expect(releaseGroup).toHaveBeenCalledTimes(1);
  });

  it('sends SIGKILL after the grace period to a helper that ignores SIGTERM', async () => {
    const { spawned, leader, helper } = await startServer({ HELPER_STUBBORN: '1' });
    const seen = runningAtRelease([helper]);
    const crashedAt = Date.now();
    spawned.process.stdin!.write('crash\n');
    await vi.waitFor(() => expect(runs(helper)).toBe(false), { timeout: 4000, interval: 50 });
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(1900);
    await vi.waitFor(() => expect(releaseGroup).toHaveBeenCalledWith(leader), { timeout: 1000, interval: 20 });
    expect(seen).toEqual([false]);
  });

  it('stops a server that ignores the end of its stdin and SIGTERM with SIGKILL to its whole group', async () => {
    const { spawned, leader, helper } = await startServer({ LEADER_STUBBORN: '1', HELPER_STUBBORN: '1' });
    const startedAt = Date.now();
    await stopChild(spawned);
    expect(runs(leader)).toBe(false);
    expect(runs(helper)).toBe(false);
    // stdin closed, 2 s, SIGTERM, 2 s, SIGKILL.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(3900);
    expect(Date.now() - startedAt).toBeLessThan(6000);
    expect(releaseGroup).toHaveBeenCalledWith(leader);
  }, 10_000);
});
