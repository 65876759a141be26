import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream } from '../downstream/downstream.js';
import { PROXY_LINK, type Link } from '../core/link.js';
import { GatedServer, type GatedState } from '../setup/gated-server.js';
import type { ServeDeps, ServeOptions } from '../downstream/deps.js';
import type { Member, MemberHost, MemberState, MemberTarget } from './member.js';

/**
 * A server of the aggregate that waits for its credentials or for consent: until it runs, its setup server
 * (attached as `mcp-keyproxy/<server>`) contributes the `connect_<server>` tool, unprefixed.
 */
export class GatedMember implements Member {
  /** A member waiting for the user is not worth holding a list for. */
  readonly settled = Promise.resolve();
  private readonly gated: GatedServer;
  private readonly setupLink: string;

  constructor(
    readonly options: ServeOptions,
    deps: ServeDeps,
    private readonly host: MemberHost,
    private readonly initial: GatedState,
  ) {
    this.gated = new GatedServer(options, deps, () => host.changed(this));
    this.setupLink = `${PROXY_LINK}/${options.serverName}`;
  }

  /** The server's name. */
  get name(): string {
    return this.options.serverName;
  }

  /** Attaches its setup server once the client has initialized (consent, when needed, is asked then). */
  async start(): Promise<void> {
    // The router exists only once the client has sent initialize: read it after waiting, not before.
    const initialize = await this.host.clientInitialize;
    await this.gated.join(this.host.router, this.setupLink, this.initial, initialize);
    this.host.changed(this);
  }

  state(): MemberState {
    return this.gated.state;
  }

  detail(): string | undefined {
    return this.gated.state === 'ready' ? undefined : this.gated.describeState();
  }

  target(): MemberTarget | undefined {
    const link = this.gated.currentLink();
    return link === this.name ? { link, setup: false } : { link, setup: true };
  }

  capabilities(): ServerCapabilities | undefined {
    return this.gated.capabilities ?? { tools: {} };
  }

  onLinkClose(link: Link): boolean {
    const downstream = this.gated.downstream;
    if (link.name !== this.name || link.transport !== downstream?.transport) return false;
    this.gated.downstreamEnded(downstream.endReason() ?? 'connection closed');
    return true;
  }

  halt(): void {
    this.gated.abort();
  }

  downstream(): Downstream | undefined {
    return this.gated.downstream;
  }
}
