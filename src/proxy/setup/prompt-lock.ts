import { acquireDialogLock, type DialogLock } from '../../dialog/lock.js';
import type { SecretStore } from '../../secrets/store.js';
import { withDeadline } from '../../timing/deadline.js';

/** How long to wait for the prompt lock before telling the user another process is asking. */
const LOCK_QUICK_MS = 300;

/** The prompt lock of one server being taken, and whether it came at once (no other process is asking). */
export interface PromptLock {
  /** Settles with the lock once this process holds it (after the other process's prompt, if any). */
  lock: Promise<DialogLock>;
  /** False when another mcp-keyproxy process is asking for this server's credentials right now. */
  owned: boolean;
}

/**
 * Takes the cross-process lock that allows one prompt per server at a time, whatever shows it (the native dialog
 * or the key page), and says within a moment whether another process holds it: then the user is told to finish
 * there instead of being shown a code no window or page displays.
 */
export async function takePromptLock(serverName: string, signal: AbortSignal): Promise<PromptLock> {
  const lock = acquireDialogLock(serverName, { signal });
  lock.catch(() => undefined);
  const owned = await withDeadline(
    lock.then(
      (held) => !held.waited,
      () => false,
    ),
    LOCK_QUICK_MS,
    () => false,
  );
  return { lock, owned };
}

/** The names of `names` the keychain does not hold for `serverName`. */
export async function missingNames(store: SecretStore, serverName: string, names: readonly string[]): Promise<string[]> {
  const stored = await store.getAll(serverName);
  return names.filter((name) => !stored.has(name));
}
