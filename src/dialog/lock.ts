import { randomUUID } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { mkdir, readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { platformStateDir } from '../config/paths.js';

/** A held dialog lock. */
export interface DialogLock {
  /** True when another process held the lock first: re-read the keychain, it may hold that process's result. */
  readonly waited: boolean;
  /** Gives the lock up; safe to call twice. */
  release(): Promise<void>;
}

/** Options of {@link acquireDialogLock}. */
export interface DialogLockOptions {
  /** Aborting stops the wait; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** How often a waiter looks at the lock again. */
  pollMs?: number;
  /** Where `MCP_KEYPROXY_RUNTIME_DIR` is read from (nothing else of the environment chooses the folder). */
  env?: NodeJS.ProcessEnv;
  /** Called once, when the lock is first found held by another live process (the wait begins). */
  onWait?: () => void;
}

interface LockContent {
  pid: number;
  token: string;
  created: string;
}

const DEFAULT_POLL_MS = 150;
/** The holder touches its lock this often, so a lock whose file has not changed for STALE_MS is abandoned. */
const HEARTBEAT_MS = 5_000;
// Beyond a dead pid, an old mtime also marks a lock stale: after a reboot the recorded pid can belong to an
// unrelated live process, and the lock may live in a directory that survives reboots.
const STALE_MS = 30_000;
/** A takeover guard older than this belongs to a process that died while taking over. */
const GUARD_STALE_MS = 5_000;

/** Lock files this process holds, removed synchronously if it exits without releasing them. */
const held = new Map<string, string>();
let exitHookInstalled = false;

/** Where {@link runtimeDir} looks; each defaults to this machine's (tests hand in temp folders). */
export interface RuntimeDirInputs {
  platform?: NodeJS.Platform;
  /** This user's id; undefined on Windows. */
  uid?: number;
  /** The systemd runtime folders' parent (`/run/user`). */
  runUser?: string;
  /** The shared temp folder (`/tmp`), never `$TMPDIR`: that comes from the caller's environment. */
  tmp?: string;
  /** The user's home from the password database, never `$HOME`. */
  home?: string;
}

/** True when `dir` is a real folder (not a symlink) owned by `uid` that no one else may enter. */
function isPrivateDir(dir: string, uid: number): boolean {
  try {
    const info = lstatSync(dir);
    return info.isDirectory() && info.uid === uid && (info.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** `dir`, created mode 0700 if missing, when it is (or can be made) a private folder of `uid`; else undefined. */
function ownPrivateDir(dir: string, uid: number): string | undefined {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  try {
    const info = lstatSync(dir);
    if (!info.isDirectory() || info.uid !== uid) return undefined; // a symlink, or squatted by another user
    if ((info.mode & 0o077) !== 0) chmodSync(dir, 0o700);
    return isPrivateDir(dir, uid) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The per-user folder for lock files. It depends on the user alone, never on the caller's environment: two MCP
 * clients that start mcp-keyproxy with different variables (one passes `XDG_RUNTIME_DIR`, one does not) must find
 * the same locks, or each would show its own dialog. In order: `MCP_KEYPROXY_RUNTIME_DIR` (an explicit choice);
 * `/run/user/<uid>/mcp-keyproxy` when `/run/user/<uid>` is ours and private; `/tmp/mcp-keyproxy-<uid>` when it is
 * (or can be made) ours and private; else `run/` in the state folder under the home the password database names.
 */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env, inputs: RuntimeDirInputs = {}): string {
  const override = env['MCP_KEYPROXY_RUNTIME_DIR'];
  if (override) return override;
  const platform = inputs.platform ?? process.platform;
  const home = inputs.home ?? userInfo().homedir;
  const fallback = join(platformStateDir(platform, {}, home), 'run');
  const uid = inputs.uid ?? process.getuid?.();
  if (platform === 'win32' || uid === undefined) return fallback;
  const systemd = join(inputs.runUser ?? '/run/user', String(uid));
  if (isPrivateDir(systemd, uid)) return join(systemd, 'mcp-keyproxy');
  return ownPrivateDir(join(inputs.tmp ?? '/tmp', `mcp-keyproxy-${uid}`), uid) ?? fallback;
}

/** The lock file of one server's dialog. */
export function dialogLockPath(server: string, env?: NodeJS.ProcessEnv): string {
  // Server names are already restricted by the config schema; this keeps a file name safe whatever is passed.
  const safe = server.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return join(runtimeDir(env), `dialog-${safe}.lock`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(path: string): Promise<{ content?: LockContent; mtimeMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    try {
      return { content: JSON.parse(text) as LockContent, mtimeMs: info.mtimeMs };
    } catch {
      return { mtimeMs: info.mtimeMs }; // being written right now, or damaged: judged by its age alone
    }
  } catch {
    return undefined;
  }
}

function isStale(lock: { content?: LockContent; mtimeMs: number }): boolean {
  if (Date.now() - lock.mtimeMs > STALE_MS) return true;
  const pid = lock.content?.pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  // Our own pid on a lock we do not hold: left by an earlier process that had this pid.
  if (pid === process.pid) return ![...held.values()].includes(lock.content?.token ?? '');
  return !isAlive(pid);
}

async function tryCreate(path: string, token: string): Promise<boolean> {
  const content: LockContent = { pid: process.pid, token, created: new Date().toISOString() };
  try {
    await writeFile(path, JSON.stringify(content), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Removes a stale lock. Two waiters may judge the same lock stale; a guard file makes the look-and-remove atomic,
 * so the second one cannot delete the lock the first one has just created.
 */
async function breakStale(path: string, seen: { content?: LockContent; mtimeMs: number }): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await tryCreate(guard, randomUUID()))) {
    const info = await stat(guard).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > GUARD_STALE_MS) await unlink(guard).catch(() => undefined);
    return;
  }
  try {
    const now = await readLock(path);
    if (now && now.content?.token === seen.content?.token && isStale(now)) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const path of held.keys()) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone.
      }
    }
  });
}

/**
 * Takes the dialog lock of `server`, shared by every mcp-keyproxy process of this user, so only one dialog per
 * server is open at a time. Waits while another live process holds it; a lock whose owner died is taken over.
 */
export async function acquireDialogLock(server: string, options: DialogLockOptions = {}): Promise<DialogLock> {
  const path = dialogLockPath(server, options.env);
  await mkdir(runtimeDir(options.env), { recursive: true, mode: 0o700 });
  const token = randomUUID();
  let waited = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await tryCreate(path, token)) break;
    const current = await readLock(path);
    if (current && isStale(current)) {
      await breakStale(path, current);
      continue;
    }
    if (current && !waited) {
      waited = true;
      options.onWait?.();
    }
    // timers/promises rejects with its own AbortError; the caller expects the signal's reason.
    await sleep(options.pollMs ?? DEFAULT_POLL_MS, undefined, { signal: options.signal }).catch((error: unknown) => {
      throw options.signal?.aborted ? options.signal.reason : error;
    });
  }
  installExitHook();
  held.set(path, token);
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  return {
    waited,
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      held.delete(path);
      const current = await readLock(path);
      if (current?.content?.token === token) await unlink(path).catch(() => undefined);
    },
  };
}
