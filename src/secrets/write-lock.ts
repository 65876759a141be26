import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runtimeDir } from '../dialog/lock.js';
import { KeyproxyError } from '../errors.js';

type ProperLockfile = typeof import('proper-lockfile');

/** Takes the cross-process write lock of one secret; resolves with the function that gives it up. */
export type SecretWriteLock = (server: string, name: string) => Promise<() => Promise<void>>;

/** Options of {@link fileWriteLock}. */
export interface FileWriteLockOptions {
  /** Where `MCP_KEYPROXY_RUNTIME_DIR` and `XDG_RUNTIME_DIR` are read from (when the lock is taken). */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for another process's write of the same secret; defaults to 15 s. */
  waitMs?: number;
}

const DEFAULT_WAIT_MS = 15_000;
/** A lock not refreshed for this long belongs to a dead process (proper-lockfile refreshes it every STALE_MS / 2). */
const STALE_MS = 10_000;
/** How often a waiting writer tries the lock again. */
const RETRY_MS = 50;

/** The lock of one secret's writes, beside the dialog locks in the runtime dir (proper-lockfile makes it a folder). */
export function secretLockPath(server: string, name: string, env?: NodeJS.ProcessEnv): string {
  // `+` occurs in neither name, so two (server, name) pairs never share a lock.
  const safe = (text: string): string => text.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return join(runtimeDir(env), `secret-${safe(server)}+${safe(name)}.lock`);
}

/** Options of {@link takeFileLock}. */
export interface FileLockOptions {
  /** How long to wait while another process holds it. */
  waitMs: number;
  /** Where `MCP_KEYPROXY_RUNTIME_DIR` and `XDG_RUNTIME_DIR` are read from. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Takes the cross-process lock `path` (in the runtime dir) with proper-lockfile, loaded only when a lock is taken so
 * the read path does not pay for it; resolves with the function that gives it up. Rejects with proper-lockfile's
 * own error (`code` ELOCKED when another process held it for all of `waitMs`).
 */
export async function takeFileLock(path: string, options: FileLockOptions): Promise<() => Promise<void>> {
  // A CommonJS module: the bundle gives its exports only as `default` (its types omit that).
  const imported: ProperLockfile & { default?: ProperLockfile } = await import('proper-lockfile');
  const lockfile = imported.default ?? imported;
  await mkdir(runtimeDir(options.env ?? process.env), { recursive: true, mode: 0o700 });
  return lockfile.lock(path, {
    lockfilePath: path,
    realpath: false,
    stale: STALE_MS,
    retries: { retries: Math.ceil(options.waitMs / RETRY_MS), minTimeout: RETRY_MS, maxTimeout: RETRY_MS },
    // Generations keep every read whole even if two writers overlap; the last header written wins. A lock
    // taken over from a process that stalled past STALE_MS is no reason to crash this one.
    onCompromised: () => undefined,
  });
}

/** Serialises writes (set, delete) of one secret across every mcp-keyproxy process of this user (see takeFileLock). */
export function fileWriteLock(options: FileWriteLockOptions = {}): SecretWriteLock {
  return async (server, name) => {
    const env = options.env ?? process.env;
    const path = secretLockPath(server, name, env);
    const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
    try {
      return await takeFileLock(path, { waitMs, env });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (typeof code !== 'string') throw error;
      if (code === 'ELOCKED') {
        throw new KeyproxyError(
          'KEYCHAIN_FAILED',
          `Another mcp-keyproxy process has been storing or deleting secret ${name} of server ${server} for more ` +
            `than ${waitMs / 1000} s; nothing was changed. Try again; if no other mcp-keyproxy is running, remove ${path}.`,
          { cause: error },
        );
      }
      throw new KeyproxyError(
        'KEYCHAIN_FAILED',
        `Cannot create the lock ${path} that keeps two processes from writing secret ${name} at once ` +
          `(${code}); nothing was changed. Make that folder writable, or point ` +
          'MCP_KEYPROXY_RUNTIME_DIR at a private writable folder.',
        { cause: error },
      );
    }
  };
}
