import { mustAskConsent, readPlan, recordConsentWithoutPrompt } from './downstream/read-plan.js';
import { missingSecretsError } from './downstream/credential-plan.js';
import { needsLogin } from './downstream/oauth-gate.js';
import type { ServeDeps, ServeOptions } from './downstream/deps.js';
import { startDownstream } from './downstream/start.js';
import { superviseRouter, type RunningProxy } from './core/supervise.js';
import { afterStartup, markStartup } from '../timing/startup-trace.js';
import type { Router } from './core/router.js';
import type { LoginSwitch } from './setup/login-switch.js';
import { isLocalServer } from '../config/types.js';
import { oauthDiscoverable } from '../oauth/discovered.js';

/** How long a proxy whose server died before it answered anything waits for the client's first request. */
const DIED_AT_START_GRACE_MS = 2000;

/**
 * Serves one server. When its secrets are present and no consent is needed (or an "Allow always" covers them) it
 * is transparent: the server starts at once and the client's own `initialize` reaches it. Otherwise the server is
 * gated: the proxy answers `initialize` itself and offers a setup tool until the credentials are entered or their
 * use is allowed (`serveGated`). Headless, a missing secret is an error before anything is said on stdout.
 */
export async function serveServer(options: ServeOptions, deps: ServeDeps): Promise<RunningProxy> {
  const { serverName, server } = options;
  // The keychain answers from another thread: a remote server's transport (the heaviest code the proxy runs) is
  // loaded meanwhile.
  markStartup('keychainStart');
  // The start's source-cache writes wait until the server has answered the client (its first byte out).
  afterStartup(() => deps.cacheWrites?.open());
  // What the reads of its sources found, for the secret watch loaded once the server runs (background refresh).
  const heard: Array<Parameters<NonNullable<ServeDeps['sourceReads']>>> = [];
  const reading: ServeDeps = {
    ...deps,
    // Names, sources and times only: the values stay in the plan alone.
    sourceReads: (name, outcomes, policy) => void heard.push([name, outcomes.map((outcome) => ({ ...outcome, value: undefined })), policy]),
  };
  const [{ plan, guarded, askedKeychain }] = await Promise.all([readPlan(reading, serverName, server), deps.launcher.preload?.(server)]);
  markStartup('keychainDone');
  deps.noteKeychainUse?.(serverName, askedKeychain);
  if (plan.missing.length > 0 && options.headless) throw missingSecretsError(serverName, plan.missing, options.profile);
  const login = plan.missing.length === 0 && (await needsLogin(options, deps, plan));

  if (plan.missing.length > 0 || login || mustAskConsent(options, deps, plan, guarded)) {
    const { serveGated } = await import('./setup/gated-proxy.js');
    return serveGated(options, deps, plan.missing.length > 0 ? 'needs-credentials' : login ? 'needs-login' : 'needs-consent');
  }

  recordConsentWithoutPrompt(options, deps, plan, guarded);
  const started = await startDownstream(options, deps, plan);
  // A remote server without `auth` and without a credential of its own may answer the client's initialize with an
  // OAuth challenge: it is then served gated, like a configured OAuth server without a login (`LoginSwitch`).
  const mayNeedLogin = deps.oauth !== undefined && !isLocalServer(server) && oauthDiscoverable(server);
  const [{ Router }, { ServedServer }, { SecretWatch }, switchModule, front] = await Promise.all([
    import('./core/router.js'),
    import('./single/served-server.js'),
    import('./downstream/secret-watch.js'),
    mayNeedLogin ? import('./setup/login-switch.js') : undefined,
    deps.openFront(),
  ]);
  // Keeps the server on current secrets: a change made by another process, or a background refresh of a cached
  // source, restarts it with the new values (a remote one gets them in its headers).
  const watch = new SecretWatch(deps, new Map([[serverName, server]]), options.parentEnv);
  for (const read of heard.splice(0)) watch.hear(...read);
  const loginSwitch: LoginSwitch | undefined = switchModule
    ? new switchModule.LoginSwitch(options, deps, {
        get router(): Router {
          return router;
        },
        handOver: () => {
          watch.stop();
          served.halt();
        },
      })
    : undefined;
  const downstream = loginSwitch ? loginSwitch.watch(started) : started;
  const served = new ServedServer(options, watch.serveDeps, downstream, plan);
  const router = new Router(front, {
    scrubber: deps.scrubber,
    logger: deps.logger,
    guard: deps.guard,
    route: (request, links) => {
      const gated = loginSwitch?.gated;
      return gated ? links.get(gated.currentLink()) : served.route(request, links);
    },
  });
  served.attach(router);
  await downstream.transport.start();
  watch.attach(new Map([[serverName, served]]));
  return superviseRouter(router, deps.logger, {
    beforeStop: () => {
      watch.stop();
      served.halt();
      loginSwitch?.gated?.abort();
    },
    stopDownstreams: async () =>
      loginSwitch?.gated ? loginSwitch.gated.downstream?.transport.close() : served.current()?.transport.close(),
    onLinkClose: (link, stop) => {
      if (loginSwitch?.handedOver && loginSwitch.onLinkClose(link, stop)) return;
      // A server left behind by a restart for new secrets ended on purpose.
      if (!served.isCurrent(link)) return;
      const reason = served.current()?.endReason() ?? 'connection closed';
      deps.logger.error({ server: link.name, reason }, `server "${link.name}" ended unexpectedly (${reason}); stopping the proxy`);
      // A server that dies at start-up may do so before the client's first request has been read: that request is
      // answered with the reason (ServedServer.route) before the proxy stops, or the proxy stops after a grace.
      afterStartup(() => setImmediate(() => stop(1)));
      setTimeout(() => stop(1), DIED_AT_START_GRACE_MS).unref();
    },
  });
}
