import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { HeldRequests } from '../core/held-requests.js';
import type { Link } from '../core/link.js';
import { HELD, stoppedBeforeAnswering, type Router } from '../core/router.js';
import { missingSecretsError, type CredentialPlan } from '../downstream/credential-plan.js';
import type { ServeDeps, ServeOptions } from '../downstream/deps.js';
import type { Downstream } from '../downstream/downstream.js';
import { fingerprint, type SecretFingerprint } from '../downstream/fingerprint.js';
import { handshake } from '../downstream/handshake.js';
import { mustAskConsent } from '../downstream/read-plan.js';
import {
  announceRotation,
  drainLink,
  endReasonOf,
  rereadSecrets,
  rotateInPlace,
  stopForRotation,
  type Reread,
} from '../downstream/rotation.js';
import type { Recheckable } from '../downstream/secret-watch.js';
import { startDownstream } from '../downstream/start.js';
import { JsonRpcErrorCode } from '../wire/json-rpc.js';

/**
 * The one server of `mcp-keyproxy run <server>`, kept on current secrets. When a value it was given changes (another
 * process's `secrets set` or `delete`, a refresh of a cached source), `recheck` gives it the new one: a remote server
 * whose secrets are in headers takes them in its session; any other is restarted. The calls in flight finish on the
 * old server (or fail with an error that says why after the drain time), calls that come meanwhile are held (bounded
 * in number and time) and sent to the new server, whose handshake replays the client's `initialize`; the client is
 * told its lists changed. A restart that cannot happen (a required secret deleted, the new server failing) leaves the
 * proxy up, answering each call with the reason and the fix, until the next change.
 */
export class ServedServer implements Recheckable {
  private running: Downstream | undefined;
  private injected: SecretFingerprint;
  private state: 'ready' | 'restarting' | 'down' = 'ready';
  private downReason = '';
  private rotating: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private logLevel: Record<string, unknown> | undefined;
  private router: Router | undefined;
  private readonly held: HeldRequests;

  constructor(
    private readonly options: ServeOptions,
    private readonly deps: ServeDeps,
    first: Downstream,
    plan: CredentialPlan,
  ) {
    this.running = first;
    this.injected = fingerprint(plan);
    this.held = new HeldRequests(deps.clock, (request, why) =>
      this.router?.answerError(
        request.id,
        JsonRpcErrorCode.ConnectionClosed,
        why === 'full'
          ? `Server "${this.name}" is restarting with new secrets and too many calls are waiting; retry in a moment.`
          : `Server "${this.name}" did not come back in time after restarting with new secrets; retry in a moment.`,
      ),
    );
  }

  private get name(): string {
    return this.options.serverName;
  }

  /** Attaches the first downstream to the router, whose `route` must be this server's `route`. */
  attach(router: Router): void {
    this.router = router;
    if (this.running) router.attach(this.name, this.running.transport, endReasonOf(this.running));
  }

  /** Where a client request goes: the server when it is up, held while it restarts, answered with the reason when down. */
  route(request: JSONRPCRequest, links: ReadonlyMap<string, Link>): Link | typeof HELD | undefined {
    if (request.method === 'logging/setLevel') this.logLevel = request.params;
    if (this.state === 'ready') {
      const link = links.get(this.name);
      if (link) return link;
      // It ended before this request reached it (a server that dies at start-up): the reason, as for one in flight.
      const reason = this.running ? endReasonOf(this.running)() : undefined;
      this.router?.answerError(request.id, JsonRpcErrorCode.ConnectionClosed, stoppedBeforeAnswering(this.name, reason));
      return HELD;
    }
    if (this.state === 'restarting') {
      this.held.hold(request);
      return HELD;
    }
    this.router?.answerError(request.id, JsonRpcErrorCode.ConnectionClosed, `Server "${this.name}" is stopped: ${this.downReason}`);
    return HELD;
  }

  /** True when `link` is the running server's: its end is a crash. A link left behind by a restart ended on purpose. */
  isCurrent(link: Link): boolean {
    return this.state === 'ready' && link.transport === this.running?.transport;
  }

  /** The downstream running now (to stop it with the proxy). */
  current(): Downstream | undefined {
    return this.running;
  }

  /** The proxy is stopping: no more restarts. */
  halt(): void {
    this.stopped = true;
    for (const request of this.held.release()) {
      this.router?.answerError(request.id, JsonRpcErrorCode.ConnectionClosed, `Server "${this.name}" is stopping.`);
    }
  }

  /** Reads the secrets again and gives the server those that changed (see the class). */
  async recheck(): Promise<void> {
    if (this.stopped) return;
    if (this.rotating) {
      // A change heard during a rotation is read once that one is done.
      this.again = true;
      return this.rotating;
    }
    this.rotating = (async () => {
      do {
        this.again = false;
        const reread = await rereadSecrets(this.deps, this.options, this.injected);
        if (!reread || reread.changed.length === 0 || this.stopped) continue;
        if (this.state === 'ready' && this.running && rotateInPlace(this.deps, this.options, this.running, reread)) {
          this.injected = fingerprint(reread.plan);
          continue;
        }
        await this.restart(reread);
      } while (this.again && !this.stopped);
    })().finally(() => (this.rotating = undefined));
    return this.rotating;
  }

  private async restart(reread: Reread): Promise<void> {
    const router = this.router!;
    announceRotation(this.deps, this.options, reread.changed);
    const old = this.running;
    this.state = 'restarting';
    const link = router.link(this.name);
    await drainLink(link && link.transport === old?.transport ? link : undefined, this.deps.clock, () => this.stopped);
    this.running = undefined;
    await stopForRotation(old, reread.changed);
    if (this.stopped) return;
    const { plan, guarded } = reread;
    this.injected = fingerprint(plan);
    if (plan.missing.length > 0) return this.down(missingSecretsError(this.name, plan.missing, this.options.profile).message);
    if (mustAskConsent(this.options, this.deps, plan, guarded)) {
      return this.down('its "Allow always" was revoked or no longer covers its secrets; restart the MCP client to be asked again.');
    }
    try {
      const downstream = await startDownstream(this.options, this.deps, plan);
      this.running = downstream;
      await downstream.transport.start();
      const initialize = router.clientInitialize;
      // The client initialized the old server: the new one gets its `initialize` replayed, as the aggregate's members do.
      const shook = initialize ? await handshake(downstream.transport, initialize, endReasonOf(downstream)) : undefined;
      // Stopped meanwhile: the proxy may have closed what ran before this one was known.
      if (this.stopped) throw new Error('the proxy is stopping');
      const attached = router.attach(this.name, downstream.transport, endReasonOf(downstream));
      this.state = 'ready';
      this.deps.logger.info({ server: this.name, tools: shook?.toolNames.length }, `server "${this.name}" restarted with its new secrets`);
      if (this.logLevel) void router.request(attached, 'logging/setLevel', this.logLevel).catch(() => undefined);
      router.notifyClient('notifications/tools/list_changed');
      if (shook?.capabilities.prompts) router.notifyClient('notifications/prompts/list_changed');
      if (shook?.capabilities.resources) router.notifyClient('notifications/resources/list_changed');
      for (const request of this.held.release()) router.forward(request);
    } catch (error) {
      const failed = this.running;
      this.running = undefined;
      await failed?.transport.close().catch(() => undefined);
      if (this.stopped) return;
      this.down(
        `it could not start with its new secrets (${(error as Error).message.replace(/\.+$/, '')}). Fix that, then run the secrets command again or restart the MCP client.`,
      );
    }
  }

  private down(reason: string): void {
    this.state = 'down';
    this.downReason = reason;
    this.deps.logger.error({ server: this.name }, `server "${this.name}" is stopped: ${reason}`);
    for (const request of this.held.release()) {
      this.router?.answerError(request.id, JsonRpcErrorCode.ConnectionClosed, `Server "${this.name}" is stopped: ${reason}`);
    }
    this.router?.notifyClient('notifications/tools/list_changed');
  }
}
