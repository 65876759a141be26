import { join } from 'node:path';
import { runtimeDir } from '../dialog/lock.js';
import { KeyproxyError } from '../errors.js';
import { takeFileLock } from '../files/file-lock.js';

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

/** The lock of one secret's writes, beside the dialog locks in the runtime dir (proper-lockfile makes it a folder). */
export function secretLockPath(server: string, name: string, env?: NodeJS.ProcessEnv): string {
  // `+` occurs in neither name, so two (server, name) pairs never share a lock.
  const safe = (text: string): string => text.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return join(runtimeDir(env), `secret-${safe(server)}+${safe(name)}.lock`);
}

/** Serialises writes (set, delete) of one secret across every mcp-keyproxy process of this user (see takeFileLock). */
export function fileWriteLock(options: FileWriteLockOptions = {}): SecretWriteLock {
  return async (server, name) => {
    const env = options.env ?? process.env;
    const path = secretLockPath(server, name, env);
    const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
    try {
      return await takeFileLock(path, { waitMs });
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
