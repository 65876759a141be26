/**
 * Settles like `promise`, or, when it has not settled after `ms` milliseconds, with what `onTimeout` returns
 * (a fallback value, e.g. `false`), or rejects with what it throws (a timeout error).
 *
 * The timer is unref'd, so a wait that never ends cannot keep the process alive, and cleared once `promise`
 * settles. A late rejection of the abandoned `promise` never becomes an unhandled one.
 */
export function withDeadline<T, U>(promise: Promise<T>, ms: number, onTimeout: () => U): Promise<T | U> {
  return new Promise<T | U>((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
