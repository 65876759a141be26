import { ManagedServer, type SessionState } from './gated-server.js';
import { Router } from '../core/router.js';
import { superviseRouter, type RunningProxy, type ServeDeps, type ServeOptions } from '../serve.js';
import { SETUP_LINK } from './setup-server.js';

/**
 * One server that cannot start as soon as the client connects (`mcp-keyproxy run <server>`): the proxy answers
 * `initialize` itself (within milliseconds) with its setup server, lists `connect_<server>`, and once the server is
 * up routes everything there and announces the real tools with `list_changed`.
 */
export class ManagedSession {
  constructor(
    private readonly options: ServeOptions,
    private readonly deps: ServeDeps,
  ) {}

  /** Attaches the proxy's own server to a new router and starts serving the client. */
  async start(initial: SessionState): Promise<RunningProxy> {
    const front = await this.deps.openFront();
    const router = new Router(front, {
      scrubber: this.deps.scrubber,
      logger: this.deps.logger,
      guard: this.deps.guard,
      route: (_request, links) => links.get(managed.currentLink()),
    });
    const managed = new ManagedServer(this.options, this.deps, (lists) => {
      for (const list of lists) router.notifyClient(`notifications/${list}/list_changed`);
    });
    await managed.join(router, SETUP_LINK, initial);
    return superviseRouter(router, this.deps.logger, this.options.serverName, {
      downstreams: () => [managed.downstream],
      beforeStop: () => managed.abort(),
      onLinkClose: (link) => {
        if (link.name !== this.options.serverName) return;
        const reason = managed.downstream?.endReason() ?? 'connection closed';
        this.deps.logger.error({ server: link.name, reason }, `server "${link.name}" ended unexpectedly (${reason})`);
        managed.downstreamEnded(reason);
      },
    });
  }
}
