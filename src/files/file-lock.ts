import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

type ProperLockfile = typeof import('proper-lockfile');

/** A lock not refreshed for this long belongs to a dead process (proper-lockfile refreshes it every stale / 2). */
const STALE_MS = 10_000;
/** How often a waiting process tries the lock again. */
const RETRY_MS = 50;

/**
 * Takes the cross-process lock `path` (proper-lockfile makes it a folder; its parent is created private if missing),
 * waiting up to `waitMs` while another process holds it; resolves with the function that gives it up. proper-lockfile
 * is loaded only when a lock is taken, so the read paths do not pay for it. Rejects with proper-lockfile's own error
 * (`code` ELOCKED when another process held it for all of `waitMs`): each caller says what the lock was for.
 */
export async function takeFileLock(path: string, { waitMs }: { waitMs: number }): Promise<() => Promise<void>> {
  // A CommonJS module: the bundle gives its exports only as `default` (its types omit that).
  const imported: ProperLockfile & { default?: ProperLockfile } = await import('proper-lockfile');
  const lockfile = imported.default ?? imported;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  return lockfile.lock(path, {
    lockfilePath: path,
    realpath: false,
    stale: STALE_MS,
    retries: { retries: Math.ceil(waitMs / RETRY_MS), minTimeout: RETRY_MS, maxTimeout: RETRY_MS },
    // What the lock guards is written whole (atomic writes, generations), so a lock taken over from a process that
    // stalled past STALE_MS is no reason to crash this one.
    onCompromised: () => undefined,
  });
}
