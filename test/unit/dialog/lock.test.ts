import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  symlinkSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireDialogLock, dialogLockPath, runtimeDir } from '../../../src/dialog/lock.js';

const base = mkdtempSync(join(tmpdir(), 'keyproxy-lock-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let env: NodeJS.ProcessEnv;
let n = 0;
beforeEach(() => {
  env = { MCP_KEYPROXY_RUNTIME_DIR: join(base, `run-${n++}`) };
});

const options = () => ({ env, pollMs: 20 });
const settled = async (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise((resolve) => setTimeout(() => resolve(false), ms)),
  ]);

/** A live process that is not this one, and a way to end it. */
async function otherProcess(): Promise<{ pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  return {
    pid: child.pid ?? 0,
    stop: () => new Promise((resolve) => child.once('exit', () => resolve()).kill()),
  };
}

function writeLock(pid: number): string {
  const path = dialogLockPath('github', env);
  mkdirSync(runtimeDir(env), { recursive: true });
  writeFileSync(path, JSON.stringify({ pid, token: 'other', created: new Date().toISOString() }));
  return path;
}

describe('acquireDialogLock', () => {
  it('creates a lock file with this pid in a private runtime dir and removes it on release', async () => {
    const lock = await acquireDialogLock('github', options());
    const path = dialogLockPath('github', env);
    expect(lock.waited).toBe(false);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid, token: expect.any(String) });
    expect(statSync(runtimeDir(env)).mode & 0o777).toBe(0o700);
    await lock.release();
    await lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('makes a second acquirer wait until the first releases, then reports waited', async () => {
    const first = await acquireDialogLock('github', options());
    const other = await acquireDialogLock('gitlab', options()); // another server: no waiting
    const second = acquireDialogLock('github', options());
    expect(await settled(second, 300)).toBe(false);
    await first.release();
    const lock = await second;
    expect(lock.waited).toBe(true);
    await Promise.all([lock.release(), other.release()]);
  });

  it('calls onWait once when the lock is held (however long the wait), and never for a free or stale lock', async () => {
    const waits: string[] = [];
    const first = await acquireDialogLock('github', { ...options(), onWait: () => waits.push('first') });
    expect(waits).toEqual([]);
    const second = acquireDialogLock('github', { ...options(), onWait: () => waits.push('second') });
    await expect.poll(() => waits, { timeout: 10_000 }).toEqual(['second']);
    // Several polls later, still once.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await first.release();
    await (await second).release();
    expect(waits).toEqual(['second']);

    const gone = await otherProcess();
    await gone.stop();
    writeLock(gone.pid);
    const takeover = await acquireDialogLock('github', { ...options(), onWait: () => waits.push('takeover') });
    expect([takeover.waited, waits]).toEqual([false, ['second']]);
    await takeover.release();
  });

  it('waits for another live process and takes over once it has died', async () => {
    const holder = await otherProcess();
    writeLock(holder.pid);
    const waiting = acquireDialogLock('github', options());
    expect(await settled(waiting, 300)).toBe(false);
    await holder.stop();
    const lock = await waiting;
    expect(lock.waited).toBe(true);
    expect(JSON.parse(readFileSync(dialogLockPath('github', env), 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('takes over a stale lock at once: dead pid, or a live pid on a lock nobody has touched for a while', async () => {
    const gone = await otherProcess();
    await gone.stop();
    writeLock(gone.pid);
    const fromDead = await acquireDialogLock('github', options());
    expect(fromDead.waited).toBe(false);
    await fromDead.release();

    // After a reboot the recorded pid may belong to an unrelated process; the holder's heartbeat would be missing.
    const unrelated = await otherProcess();
    const path = writeLock(unrelated.pid);
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    const fromOld = await acquireDialogLock('github', options());
    expect(fromOld.waited).toBe(false);
    await Promise.all([fromOld.release(), unrelated.stop()]);
  });

  it('stops waiting when the signal aborts, with its reason, and leaves the holder alone', async () => {
    const first = await acquireDialogLock('github', options());
    const controller = new AbortController();
    const waiting = acquireDialogLock('github', { ...options(), signal: controller.signal });
    setTimeout(() => controller.abort(new Error('client went away')), 100);
    await expect(waiting).rejects.toThrow('client went away');
    expect(JSON.parse(readFileSync(dialogLockPath('github', env), 'utf8'))).toMatchObject({ pid: process.pid });
    await first.release();
  });

  it('does not remove a lock that another process owns by the time it releases', async () => {
    const lock = await acquireDialogLock('github', options());
    const holder = await otherProcess();
    const path = writeLock(holder.pid);
    await lock.release();
    expect(existsSync(path)).toBe(true);
    await holder.stop();
  });

  it('removes held locks synchronously when the process exits', async () => {
    const lock = await acquireDialogLock('github', options());
    const hook = process.listeners('exit').find((listener) => listener.toString().includes('unlinkSync'));
    expect(hook).toBeDefined();
    hook?.call(process, 0);
    expect(existsSync(dialogLockPath('github', env))).toBe(false);
    await lock.release();
  });
});

describe('lock paths', () => {
  it('uses the override, else a per-user folder that no variable of the caller changes', () => {
    expect(runtimeDir({ MCP_KEYPROXY_RUNTIME_DIR: '/x', XDG_RUNTIME_DIR: '/run/user/1' })).toBe('/x');
    const uid = process.getuid!();
    const runUser = join(base, 'run-user');
    const tmp = join(base, 'tmp');
    mkdirSync(tmp);
    const inputs = { platform: 'linux' as const, runUser, tmp, home: join(base, 'home') };
    // No /run/user/<uid>: a private folder in /tmp, the same whatever XDG_RUNTIME_DIR, TMPDIR or HOME say.
    const inTmp = join(tmp, `mcp-keyproxy-${uid}`);
    expect(runtimeDir({ XDG_RUNTIME_DIR: '/elsewhere', TMPDIR: '/t', HOME: '/h' }, inputs)).toBe(inTmp);
    expect(runtimeDir({}, inputs)).toBe(inTmp);
    expect(statSync(inTmp).mode & 0o777).toBe(0o700);
    // A /run/user/<uid> of ours, mode 0700: used, again whatever the environment says.
    mkdirSync(join(runUser, String(uid)), { recursive: true, mode: 0o700 });
    expect(runtimeDir({ XDG_RUNTIME_DIR: '/elsewhere' }, inputs)).toBe(join(runUser, String(uid), 'mcp-keyproxy'));
    expect(runtimeDir({}, inputs)).toBe(join(runUser, String(uid), 'mcp-keyproxy'));
  });

  it('never uses a folder someone else could enter or own', () => {
    const uid = process.getuid!();
    const runUser = join(base, 'open-run-user');
    const tmp = join(base, 'open-tmp');
    const home = join(base, 'home2');
    mkdirSync(join(runUser, String(uid)), { recursive: true, mode: 0o755 });
    chmodSync(join(runUser, String(uid)), 0o755);
    mkdirSync(tmp);
    // A symlink planted where the /tmp folder would be: refused, the state folder under the home is used.
    symlinkSync(base, join(tmp, `mcp-keyproxy-${uid}`));
    const inputs = { platform: 'linux' as const, runUser, tmp, home };
    expect(runtimeDir({}, inputs)).toBe(join(home, '.local', 'state', 'mcp-keyproxy', 'run'));
    // Another user's id: the folder (ours) is not theirs.
    const other = join(base, 'tmp-other');
    mkdirSync(other);
    mkdirSync(join(other, `mcp-keyproxy-${uid + 1}`), { mode: 0o700 });
    expect(runtimeDir({}, { ...inputs, tmp: other, uid: uid + 1 })).toBe(join(home, '.local', 'state', 'mcp-keyproxy', 'run'));
    // Ours but too open: made private.
    const loose = join(base, 'tmp-loose');
    mkdirSync(join(loose, `mcp-keyproxy-${uid}`), { recursive: true });
    chmodSync(join(loose, `mcp-keyproxy-${uid}`), 0o777);
    expect(runtimeDir({}, { ...inputs, tmp: loose })).toBe(join(loose, `mcp-keyproxy-${uid}`));
    expect(statSync(join(loose, `mcp-keyproxy-${uid}`)).mode & 0o777).toBe(0o700);
  });

  it('keeps the server name from leaving the folder', () => {
    expect(dialogLockPath('../../etc/x', { MCP_KEYPROXY_RUNTIME_DIR: '/r' })).toBe('/r/dialog-__.._etc_x.lock');
    expect(dialogLockPath('my.server-1', { MCP_KEYPROXY_RUNTIME_DIR: '/r' })).toBe('/r/dialog-my.server-1.lock');
  });
});
