import type { Logger } from '../../log/logger.js';
import type { Link } from './link.js';
import type { Router } from './router.js';

/** A running proxy: `finished` resolves with the exit code once everything has stopped. */
export interface RunningProxy {
  readonly finished: Promise<number>;
  /** Stops the downstreams in steps, closes any dialog and the client side. */
  stop(): Promise<number>;
}

/** Hooks of `superviseRouter`. */
export interface Supervision {
  /** Stops the downstreams running now (in parallel); called once the client side is closed. */
  stopDownstreams: () => Promise<unknown>;
  /** Runs first when the proxy stops (e.g. closes open dialogs). */
  beforeStop?: () => void;
  /** A downstream link ended on its own; `stop(1)` ends the proxy with exit code 1. */
  onLinkClose: (link: Link, stop: (exitCode: number) => void) => void;
}

/**
 * The lifecycle shared by every mode: the client going away stops everything with exit code 0; a server ending on
 * its own is handed to `onLinkClose`, which recovers or stops the proxy.
 */
export async function superviseRouter(
  router: Router,
  logger: Logger,
  { stopDownstreams, beforeStop, onLinkClose }: Supervision,
): Promise<RunningProxy> {
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let stopping: Promise<number> | undefined;
  const stop = (exitCode: number): Promise<number> => {
    stopping ??= (async () => {
      beforeStop?.();
      await router.close();
      await stopDownstreams();
      logger.debug({ exitCode }, 'proxy stopped');
      finish(exitCode);
      return exitCode;
    })();
    return stopping;
  };
  router.onclose = () => void stop(0);
  await router.start();
  // A server that ended before now (one that dies at start-up) is handed over too: the proxy must not wait for ever.
  router.superviseLinks((link) => {
    if (!stopping) onLinkClose(link, (exitCode) => void stop(exitCode));
  });
  return { finished, stop: () => stop(0) };
}
