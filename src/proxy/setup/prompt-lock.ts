import { acquireDialogLock, type DialogLock } from '../../dialog/lock.js';
import type { SecretStore } from '../../secrets/store.js';

/** The prompt lock of one server being taken, and whether it came at once (no other process is asking). */
export interface PromptLock {
  /** Settles with the lock once this process holds it (after the other process's prompt, if any). */
  lock: Promise<DialogLock>;
  /** False when another mcp-keyproxy process is asking for this server's credentials right now. */
  owned: boolean;
}

/**
 * Takes the cross-process lock that allows one prompt per server at a time, whatever shows it (the native dialog,
 * the key page or the consent question), and says as soon as the lock file tells whether another process holds it:
 * then the user is told to finish there instead of being shown a code no window or page displays. Decided by the
 * lock file, never by a deadline: on a busy machine taking a free lock can be slow, and a deadline would then tell
 * the user that another process is asking when none is. A failure to take it counts as owned (the caller's wait for
 * `lock` reports it).
 */
export async function takePromptLock(serverName: string, signal: AbortSignal): Promise<PromptLock> {
  let otherIsAsking!: () => void;
  const held = new Promise<false>((resolve) => (otherIsAsking = () => resolve(false)));
  const lock = acquireDialogLock(serverName, { signal, onWait: () => otherIsAsking() });
  lock.catch(() => undefined);
  const owned = await Promise.race([
    lock.then(
      (taken) => !taken.waited,
      () => true,
    ),
    held,
  ]);
  return { lock, owned };
}

/** The names of `names` the keychain does not hold for `serverName`. */
export async function missingNames(store: SecretStore, serverName: string, names: readonly string[]): Promise<string[]> {
  const stored = await store.getAll(serverName);
  return names.filter((name) => !stored.has(name));
}
