import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from 'pino';
import { referencedSecretNames, resolveServerCommand, resolveServerEnv } from '../config/references.js';
import type { LocalServerConfig } from '../config/schema.js';
import type { Scrubber } from '../log/scrubber.js';
import type { SecretStore } from '../secrets/store.js';
import { buildChildEnv } from './child-env.js';
import { spawnChild } from './child-process.js';
import { envWithoutAbsent, missingSecretsError, planCredentials } from './credentials.js';

/** What `serveLocalServer` needs to know. */
export interface ServeLocalOptions {
  serverName: string;
  server: LocalServerConfig;
  /** No UI may be shown: a missing secret is an error that names the fix. */
  headless: boolean;
  /** The proxy's own environment: source of `${env:…}` and of the allowlisted variables. */
  parentEnv: NodeJS.ProcessEnv;
}

/** The collaborators, handed in so tests can use an in-memory store and an in-memory client. */
export interface ServeLocalDeps {
  store: SecretStore;
  logger: Logger;
  scrubber: Scrubber;
  /** Opens the client side, e.g. the SDK's `StdioServerTransport` (called once the server is spawned). */
  openFront: () => Promise<Transport>;
}

/** A running proxy: `finished` resolves with the exit code once everything has stopped. */
export interface RunningProxy {
  readonly finished: Promise<number>;
  /** Stops the downstream in steps and closes the client side. */
  stop(): Promise<number>;
  /** The downstream child's pid. */
  readonly childPid: number | undefined;
}

/**
 * Serves one local stdio server transparently: reads its secrets from the keychain, starts it with them in its
 * environment, and forwards the client's messages (its own `initialize` included) both ways.
 */
export async function serveLocalServer(options: ServeLocalOptions, deps: ServeLocalDeps): Promise<RunningProxy> {
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

  const serverEnv = resolveServerEnv(
    { ...server, env: envWithoutAbsent(server, plan.absentOptional) },
    plan.values,
    parentEnv,
  );
  const spawned = await spawnChild({ ...resolveServerCommand(server, parentEnv), env: buildChildEnv(parentEnv, serverEnv) });
  const childPid = spawned.process.pid;
  logger.info(
    { server: serverName, pid: childPid, secrets: [...plan.values.keys()], sinceProcessStartMs: Math.round(performance.now()) },
    'server started',
  );

  // The MCP SDK is the heaviest import of the proxy: load it while the server boots, not before spawning it.
  const [{ Router }, { StdioChildTransport }, front] = await Promise.all([
    import('./router.js'),
    import('./stdio-child-transport.js'),
    deps.openFront(),
  ]);
  const child = new StdioChildTransport(spawned);
  child.onstderr = (line) => logger.debug({ server: serverName, stderr: line }, 'server stderr');
  await child.start();
  const router = new Router(front, { scrubber, logger, route: (_request, links) => links.get(serverName) });
  router.attach(serverName, child);

  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let stopping: Promise<number> | undefined;
  const stop = (exitCode: number): Promise<number> => {
    stopping ??= (async () => {
      await router.close();
      await child.close();
      logger.debug({ server: serverName, exitCode }, 'proxy stopped');
      finish(exitCode);
      return exitCode;
    })();
    return stopping;
  };
  router.onclose = () => void stop(0);
  router.onlinkclose = () => {
    if (stopping) return;
    const exit = child.exit;
    logger.error(
      { server: serverName, exitCode: exit?.code, signal: exit?.signal },
      `server "${serverName}" exited unexpectedly; stopping the proxy`,
    );
    void stop(1);
  };
  await router.start();
  return { finished, stop: () => stop(0), childPid };
}
