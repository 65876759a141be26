import { join } from 'node:path';
import { runtimeDir } from '../dialog/lock.js';
import { KeyproxyError } from '../errors.js';
import { takeFileLock } from '../files/file-lock.js';

/** How long a refresh waits for another process's refresh or login of the same server. */
export const REFRESH_WAIT_MS = 30_000;

/** The lock of one server's OAuth state, in the runtime dir beside the dialog and secret locks. */
export function oauthLockPath(server: string, env?: NodeJS.ProcessEnv): string {
  const safe = server.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return join(runtimeDir(env), `oauth-${safe}.lock`);
}

/**
 * Runs `work` holding the cross-process lock of one server's OAuth state, so two mcp-keyproxy processes never
 * both spend a rotating refresh token and never open two browser tabs: the second one waits, then finds the
 * first one's tokens in the keychain.
 */
export async function withOAuthLock<T>(
  server: string,
  work: () => Promise<T>,
  options: { waitMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<T> {
  const path = oauthLockPath(server, options.env);
  const waitMs = options.waitMs ?? REFRESH_WAIT_MS;
  let release: () => Promise<void>;
  try {
    release = await takeFileLock(path, { waitMs });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KeyproxyError(
      'KEYCHAIN_FAILED',
      code === 'ELOCKED'
        ? `Another mcp-keyproxy process has been logging in to (or refreshing the tokens of) server "${server}" for more than ${waitMs / 1000} s. Finish that login, or try again; if no other mcp-keyproxy is running, remove ${path}.`
        : `Cannot create the lock ${path} that keeps two processes from refreshing the tokens of server "${server}" at once (${code ?? String(error)}). Make that folder writable, or point MCP_KEYPROXY_RUNTIME_DIR at a private writable folder.`,
      { cause: error },
    );
  }
  try {
    return await work();
  } finally {
    await release().catch(() => undefined);
  }
}
