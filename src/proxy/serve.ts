import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from 'pino';
import { referencedSecretNames } from '../config/references.js';
import { isLocalServer, type ServerConfig } from '../config/schema.js';
import type { Scrubber } from '../log/scrubber.js';
import type { SecretStore } from '../secrets/store.js';
import { missingSecretsError, planCredentials } from './credentials.js';
import type { Downstream } from './downstream.js';
import { launchLocal } from './launch-local.js';

/** What `serveServer` needs to know. */
export interface ServeOptions {
  serverName: string;
  server: ServerConfig;
  /** No UI may be shown: a missing secret is an error that names the fix. */
  headless: boolean;
  /** The proxy's own environment: source of `${env:…}` and of the allowlisted variables. */
  parentEnv: NodeJS.ProcessEnv;
}

/** The collaborators, handed in so tests can use an in-memory store and an in-memory client. */
export interface ServeDeps {
  store: SecretStore;
  logger: Logger;
  scrubber: Scrubber;
  /** Opens the client side, e.g. the SDK's `StdioServerTransport` (called once the server is launched). */
  openFront: () => Promise<Transport>;
}

/** A running proxy: `finished` resolves with the exit code once everything has stopped. */
export interface RunningProxy {
  readonly finished: Promise<number>;
  /** Stops the downstream in steps and closes the client side. */
  stop(): Promise<number>;
  /** The downstream child's pid, for a local server. */
  readonly childPid: number | undefined;
}

/**
 * Serves one server transparently: reads its secrets from the keychain, launches it with them, and forwards the
 * client's messages (its own `initialize` included) both ways.
 */
export async function serveServer(options: ServeOptions, deps: ServeDeps): Promise<RunningProxy> {
  const { serverName, server, parentEnv } = options;
  const { store, logger, scrubber } = deps;

  const stored = referencedSecretNames(server).length > 0 ? await store.getAll(serverName) : new Map<string, string>();
  const plan = planCredentials(server, stored);
  if (plan.missing.length > 0) {
    throw missingSecretsError(
      serverName,
      plan.missing,
      options.headless ? undefined : 'The dialog to enter missing secrets is not available in this version yet.',
    );
  }
  for (const [name, value] of plan.values) scrubber.add(`${serverName}/${name}`, value);

  const context = { serverName, plan, parentEnv, logger };
  const downstream: Downstream = isLocalServer(server)
    ? await launchLocal({ ...context, server })
    : await (await import('./launch-remote.js')).launchRemote({ ...context, server });
  const [{ Router }, front] = await Promise.all([import('./router.js'), deps.openFront()]);
  const router = new Router(front, { scrubber, logger, route: (_request, links) => links.get(serverName) });
  router.attach(serverName, downstream.transport);
  await downstream.transport.start();

  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let stopping: Promise<number> | undefined;
  const stop = (exitCode: number): Promise<number> => {
    stopping ??= (async () => {
      await router.close();
      await downstream.transport.close();
      logger.debug({ server: serverName, exitCode }, 'proxy stopped');
      finish(exitCode);
      return exitCode;
    })();
    return stopping;
  };
  router.onclose = () => void stop(0);
  router.onlinkclose = () => {
    if (stopping) return;
    logger.error(
      { server: serverName, reason: downstream.endReason() },
      `server "${serverName}" ended unexpectedly (${downstream.endReason() ?? 'connection closed'}); stopping the proxy`,
    );
    void stop(1);
  };
  await router.start();
  return { finished, stop: () => stop(0), childPid: downstream.pid };
}
