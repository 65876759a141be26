import { randomBytes } from 'node:crypto';
import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { platformStateDir } from '../config/paths.js';
import { writeFileAtomic } from '../files/atomic-write.js';

/** File name of the stamp, in the state directory, that says "a secret changed" to every running proxy. */
const STAMP_FILE = 'secrets-changed';
/** How often a proxy also reads the stamp, for file systems where watching misses changes. */
export const STAMP_POLL_MS = 5000;

/** The stamp of this user (the platform state dir, or `MCP_KEYPROXY_STATE_DIR`). */
export function changeStampPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(platformStateDir(process.platform, env, homedir()), STAMP_FILE);
}

/**
 * Tells running proxies that secrets of `servers` changed (`secrets set`, `delete`, `clear`, `refresh`): replaces
 * the stamp with a new nonce and the server names (never a value). Proxies then read those servers' secrets again
 * and restart what runs with an old value.
 */
export async function touchChangeStamp(servers: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = changeStampPath(env);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${Date.now()} ${randomBytes(8).toString('hex')}\n${servers.join('\n')}\n`, 0o600);
}

/**
 * Calls `onChange` with the server names of each new stamp: watched (the directory, since the stamp is replaced by a
 * rename), and read every `pollMs` as well. Returns the function that stops watching. Nothing keeps the process alive.
 */
export function watchChangeStamp(
  onChange: (servers: string[]) => void,
  options: { env?: NodeJS.ProcessEnv; pollMs?: number } = {},
): () => void {
  const file = changeStampPath(options.env);
  let last: string | undefined;
  let stopped = false;
  let reading = false;
  const check = async (): Promise<void> => {
    if (stopped || reading) return;
    reading = true;
    try {
      const text = await readFile(file, 'utf8').catch(() => '');
      if (last !== undefined && text !== last && text !== '') {
        onChange(text.split('\n').slice(1).filter(Boolean));
      }
      last = text;
    } finally {
      reading = false;
    }
  };
  void check();
  let watcher: FSWatcher | undefined;
  try {
    // The directory must exist to be watched (the audit log lives there too).
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    watcher = watch(path.dirname(file), { persistent: false }, (_event, name) => {
      if (name === null || name === STAMP_FILE) void check();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    // No state directory yet (or no watching here): the poll still sees the stamp.
  }
  const poll = setInterval(() => void check(), options.pollMs ?? STAMP_POLL_MS);
  poll.unref();
  return () => {
    stopped = true;
    clearInterval(poll);
    watcher?.close();
  };
}
