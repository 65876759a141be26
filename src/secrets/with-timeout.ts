import { KeyproxyError } from '../errors.js';
import { withDeadline } from '../timing/deadline.js';

/** How long one keychain call may take before it counts as locked or not answering. */
export const KEYCHAIN_TIMEOUT_MS = 5000;

/** The error a keychain call turns into when it does not answer in time. */
function keychainTimeoutError(ms: number = KEYCHAIN_TIMEOUT_MS): KeyproxyError {
  const seconds = Number((ms / 1000).toFixed(3));
  return new KeyproxyError(
    'KEYCHAIN_LOCKED',
    `The keychain is locked or not answering (no reply within ${seconds} s). Unlock it (for example log in to ` +
      'your desktop session) or run `mcp-keyproxy doctor`.',
  );
}

/**
 * Settles like `promise`, or rejects with a KEYCHAIN_LOCKED error after `ms` milliseconds, first calling
 * `onAbandon` (which ends the call given up: see KeyringBackend.abandon).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number = KEYCHAIN_TIMEOUT_MS, onAbandon: () => void = () => undefined): Promise<T> {
  // A locked Secret Service with a display waits on its unlock prompt forever and ignores AbortSignal: the timer
  // is the only way out (unref'd: the proxy must be able to exit while a keychain call hangs), and the late
  // settlement of the abandoned call must not become an unhandled rejection.
  return withDeadline(promise, ms, () => {
    onAbandon();
    throw keychainTimeoutError(ms);
  });
}
