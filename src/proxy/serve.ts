import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from 'pino';
import { referencedSecretNames } from '../config/references.js';
import type { ServerConfig } from '../config/schema.js';
import { isLocalServer } from '../config/types.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Scrubber } from '../log/scrubber.js';
import type { SecretStore } from '../secrets/store.js';
import type { CredentialDialog } from '../dialog/credential-dialog.js';
import { missingSecretsError, planCredentials, type CredentialPlan } from './downstream/credential-plan.js';
import type { Downstream } from './downstream/downstream.js';
import type { MessageGuard } from './core/pattern-guard.js';
import type { Link } from './core/link.js';
import { launchLocal } from './local/launch-local.js';
import type { Router } from './core/router.js';

/** What `serveServer` needs to know. */
export interface ServeOptions {
  serverName: string;
  server: ServerConfig;
  /** No UI may be shown: a missing secret is an error that names the fix, and consent is not asked. */
  headless: boolean;
  /** The proxy's own environment: source of `${env:…}` and of the allowlisted variables. */
  parentEnv: NodeJS.ProcessEnv;
  /** The package version, shown as the proxy's own serverInfo while it answers for a waiting server. */
  version: string;
}

/** The collaborators, handed in so tests can use an in-memory store, client and dialog. */
export interface ServeDeps {
  store: SecretStore;
  logger: Logger;
  scrubber: Scrubber;
  /** Opens the client side, e.g. a `StdioFrontTransport` (called once the server is launched). */
  openFront: () => Promise<Transport>;
  /** The native dialog (only used in interactive mode). */
  dialog: CredentialDialog;
  /** Where every secret read, injection, consent decision and dialog outcome is recorded (names only). */
  audit: AuditLog;
  /** The pattern guard, when a server asks for it (`patternGuard`). */
  guard?: MessageGuard;
}

/** A running proxy: `finished` resolves with the exit code once everything has stopped. */
export interface RunningProxy {
  readonly finished: Promise<number>;
  /** Stops the downstream in steps, closes any dialog and the client side. */
  stop(): Promise<number>;
}

/** Reads the secrets of a server and decides what is missing; `fromKeychain` names what the keychain held. */
export async function readPlan(
  deps: Pick<ServeDeps, 'store' | 'audit'>,
  serverName: string,
  server: ServerConfig,
): Promise<{ plan: CredentialPlan; fromKeychain: Set<string> }> {
  const referenced = referencedSecretNames(server);
  const stored = referenced.length > 0 ? await deps.store.getAll(serverName) : new Map<string, string>();
  const read = referenced.filter((name) => stored.has(name));
  if (read.length > 0) deps.audit.secretRead(serverName, read, 'keychain');
  return { plan: planCredentials(server, stored), fromKeychain: new Set(read) };
}

/** Starts the downstream with the planned secrets; they are registered with the scrubber first. */
export async function launch(options: ServeOptions, deps: ServeDeps, plan: CredentialPlan): Promise<Downstream> {
  const { serverName, server, parentEnv } = options;
  for (const [name, value] of plan.values) deps.scrubber.add(`${serverName}/${name}`, value);
  const context = { serverName, plan, parentEnv, logger: deps.logger, audit: deps.audit };
  return isLocalServer(server) ? launchLocal({ ...context, server }) : (await loadRemote()).launchRemote({ ...context, server });
}

/** The code that reaches remote servers, the SDK's HTTP transport included. */
async function loadRemote(): Promise<typeof import('./remote/launch-remote.js')> {
  const [launcher] = await Promise.all([import('./remote/launch-remote.js'), import('@modelcontextprotocol/sdk/client/streamableHttp.js')]);
  return launcher;
}

/** Records that stored secrets are used without asking, because consent is bypassed for this server or run. */
export function recordBypassedConsent(options: ServeOptions, deps: ServeDeps, fromKeychain: ReadonlySet<string>): void {
  if (fromKeychain.size > 0) deps.audit.consent(options.serverName, [...fromKeychain], 'bypassed');
}

/** True when stored secrets may only be injected after the user allowed it. */
export function needsConsent(options: ServeOptions, plan: CredentialPlan, fromKeychain: ReadonlySet<string>): boolean {
  return !options.headless && options.server.confirm && [...plan.values.keys()].some((name) => fromKeychain.has(name));
}

/**
 * Serves one server. When its secrets are present and no consent is needed it is transparent: the server starts
 * at once and the client's own `initialize` reaches it. Otherwise the proxy answers `initialize` itself and offers a
 * setup tool until the credentials are entered or the use is allowed (`ManagedSession`). Headless, a missing
 * secret is an error before anything is said on stdout.
 */
export async function serveServer(options: ServeOptions, deps: ServeDeps): Promise<RunningProxy> {
  const { serverName } = options;
  // The keychain answers from another thread: a remote server's transport (the heaviest code the proxy runs) is
  // loaded meanwhile.
  const [{ plan, fromKeychain }] = await Promise.all([
    readPlan(deps, serverName, options.server),
    isLocalServer(options.server) ? undefined : loadRemote(),
  ]);
  if (plan.missing.length > 0 && options.headless) throw missingSecretsError(serverName, plan.missing);

  if (plan.missing.length > 0 || needsConsent(options, plan, fromKeychain)) {
    const { ManagedSession } = await import('./setup/gated-proxy.js');
    return new ManagedSession(options, deps).start(plan.missing.length > 0 ? 'needs-credentials' : 'needs-consent');
  }

  recordBypassedConsent(options, deps, fromKeychain);
  const downstream = await launch(options, deps, plan);
  const [{ Router: RouterClass }, front] = await Promise.all([import('./core/router.js'), deps.openFront()]);
  const router = new RouterClass(front, {
    scrubber: deps.scrubber,
    logger: deps.logger,
    guard: deps.guard,
    route: (_request, links) => links.get(serverName),
  });
  router.attach(serverName, downstream.transport);
  await downstream.transport.start();
  return superviseRouter(router, deps.logger, serverName, { downstreams: () => [downstream] });
}

/** Hooks of `superviseRouter`. */
export interface Supervision {
  /** The downstreams running now: stopped (in parallel) once the client side is closed. */
  downstreams: () => Iterable<Downstream | undefined>;
  /** Runs first when the proxy stops (e.g. closes open dialogs). */
  beforeStop?: () => void;
  /** Handles a downstream link ending on its own; when absent, the proxy stops with exit code 1. */
  onLinkClose?: (link: Link) => void;
}

/**
 * The lifecycle shared by every mode: the client going away stops everything with exit code 0; a server ending
 * on its own is handed to `onLinkClose` or, when there is none, reported on stderr and stops the proxy with exit
 * code 1.
 */
export async function superviseRouter(
  router: Router,
  logger: Logger,
  serverName: string,
  { downstreams, beforeStop, onLinkClose }: Supervision,
): Promise<RunningProxy> {
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let stopping: Promise<number> | undefined;
  const stop = (exitCode: number): Promise<number> => {
    stopping ??= (async () => {
      beforeStop?.();
      await router.close();
      await Promise.all([...downstreams()].map((downstream) => downstream?.transport.close()));
      logger.debug({ server: serverName, exitCode }, 'proxy stopped');
      finish(exitCode);
      return exitCode;
    })();
    return stopping;
  };
  router.onclose = () => void stop(0);
  router.onlinkclose = (link) => {
    if (stopping) return;
    if (onLinkClose) {
      onLinkClose(link);
      return;
    }
    const reason = [...downstreams()][0]?.endReason() ?? 'connection closed';
    logger.error({ server: link.name, reason }, `server "${link.name}" ended unexpectedly (${reason}); stopping the proxy`);
    void stop(1);
  };
  await router.start();
  return { finished, stop: () => stop(0) };
}
