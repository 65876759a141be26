import { breakKeyringConnections } from './keyring-connections.js';

/**
 * The native keychain calls of this process that have not returned yet, answered or not: one given up after its
 * timeout still holds a worker thread (and, for a write, a copy of the value) until it returns.
 */
const inFlight = new Set<Promise<unknown>>();

/** Tracks a native keychain call until it settles; returns the call. */
export function trackKeychainCall<T>(call: Promise<T>): Promise<T> {
  inFlight.add(call);
  const done = (): void => {
    inFlight.delete(call);
  };
  call.then(done, done);
  return call;
}

/** How many native keychain calls have not returned yet. */
export function keychainCallsInFlight(): number {
  return inFlight.size;
}

/**
 * Ends the native keychain calls still running (an unlock prompt nobody answers) by breaking their connections,
 * and waits for them to return, at most `ms` milliseconds. Resolves true when none is left: then the process can
 * exit normally; false means a worker thread is still blocked and `process.exit()` would wait for it forever.
 */
export async function endKeychainCalls(ms = 2000): Promise<boolean> {
  if (inFlight.size === 0) return true;
  breakKeyringConnections();
  // A kept (not unref'd) timer: this wait is what the process has left to do, and must end even if nothing else
  // keeps the event loop alive.
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(inFlight.size === 0), ms)));
  const all = Promise.allSettled([...inFlight]).then(() => true);
  return Promise.race([all, late]).finally(() => clearTimeout(timer));
}
