import { Router } from '../core/router.js';
import { superviseRouter, type RunningProxy } from '../core/supervise.js';
import type { ServeDeps, ServeOptions } from '../downstream/deps.js';
import { GatedServer, type GatedState } from './gated-server.js';
import { PROXY_LINK } from '../core/link.js';
import { ModernClientFront } from '../era/modern-front.js';

/**
 * One gated server (`mcp-keyproxy run <server>` when its credentials are missing or their use needs consent): the
 * proxy answers `initialize` itself (within milliseconds) with its setup server, lists `connect_<server>`, and once
 * the server is up routes everything there and announces the real tools with `list_changed`.
 */
export async function serveGated(options: ServeOptions, deps: ServeDeps, initial: GatedState): Promise<RunningProxy> {
  // A client of the 2026 era meets the setup server through the adapter (a 2025 session behind it).
  const front = new ModernClientFront(await deps.openFront(), deps.logger);
  const router = new Router(front, {
    scrubber: deps.scrubber,
    logger: deps.logger,
    guard: deps.guard,
    route: (_request, links) => links.get(gated.currentLink()),
  });
  const gated = new GatedServer(options, deps, (lists) => {
    for (const list of lists) router.notifyClient(`notifications/${list}/list_changed`);
  });
  await gated.join(router, PROXY_LINK, initial);
  return superviseRouter(router, deps.logger, {
    stopDownstreams: async () => gated.downstream?.transport.close(),
    beforeStop: () => gated.abort(),
    onLinkClose: (link) => {
      if (link.name !== options.serverName) return;
      const reason = gated.downstream?.endReason() ?? 'connection closed';
      deps.logger.error({ server: link.name, reason }, `server "${link.name}" ended unexpectedly (${reason})`);
      gated.downstreamEnded(reason);
    },
  });
}
