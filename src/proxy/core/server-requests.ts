import type { JSONRPCRequest, ProgressToken, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { IdSpace, type Link } from './link.js';

/** A server→client request waiting for the client's answer. */
interface Pending {
  link: Link;
  id: RequestId;
  /** The progress token as the client knows it, when the request carried one. */
  progressToken?: ProgressToken;
}

/**
 * Server→client requests (sampling, elicitation, roots) in flight at the client. Two downstreams may use the same
 * request id or progress token: each is kept when free towards the client and remapped on collision, and mapped
 * back when the client answers or reports progress, or the server cancels.
 */
export class ServerRequests {
  private readonly ids = new IdSpace<Pending>('mcp-keyproxy-');
  private readonly progress = new IdSpace<{ link: Link; token: ProgressToken }>('mcp-keyproxy-progress-');

  /** Registers a request from `link`; returns it as the client must see it. */
  outgoing(link: Link, request: JSONRPCRequest): JSONRPCRequest {
    const meta = request.params?._meta;
    const token = meta?.progressToken;
    let params = request.params;
    let clientToken: ProgressToken | undefined;
    if (token !== undefined) {
      clientToken = this.progress.reserve(token, { link, token });
      if (clientToken !== token) params = { ...params, _meta: { ...meta, progressToken: clientToken } };
    }
    const id = this.ids.reserve(request.id, { link, id: request.id, progressToken: clientToken });
    return id === request.id && params === request.params ? request : { ...request, id, params };
  }

  /** The request the client answers with `clientId`, released. */
  answered(clientId: RequestId): { link: Link; id: RequestId } | undefined {
    const pending = this.ids.take(clientId);
    if (pending?.progressToken !== undefined) this.progress.take(pending.progressToken);
    return pending;
  }

  /** The client-side id of a request `link` cancels, released. */
  cancelled(link: Link, downstreamId: RequestId | undefined): RequestId | undefined {
    const clientId = this.ids.find((entry) => entry.link === link && entry.id === downstreamId);
    if (clientId !== undefined) this.answered(clientId);
    return clientId;
  }

  /** Where a progress notification of the client goes, with the token the downstream used. */
  progressTarget(clientToken: ProgressToken): { link: Link; token: ProgressToken } | undefined {
    return this.progress.get(clientToken);
  }

  /** Forgets everything of a link that went away. */
  removeLink(link: Link): void {
    this.ids.removeWhere((entry) => entry.link === link);
    this.progress.removeWhere((entry) => entry.link === link);
  }
}
