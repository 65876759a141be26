import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { isJSONRPCErrorResponse, isJSONRPCRequest, isJSONRPCResultResponse } from '../wire/json-rpc.js';

/** The `requestId` of a `notifications/cancelled`. */
function cancelledId(params: unknown): RequestId {
  const id = (params as { requestId?: unknown } | undefined)?.requestId;
  return typeof id === 'string' || typeof id === 'number' ? id : '';
}

/** How many failed requests are remembered so that a late answer to one of them is dropped. */
const ABANDONED_LIMIT = 1024;

/**
 * The client's requests sent to a remote server and not answered yet: which can still be answered when the stream
 * that should carry their answers ends (Streamable HTTP resumes a stream that had event ids), and which were
 * failed by the proxy, so that an answer coming after all is not sent to the client a second time.
 */
export class InFlightRequests {
  private readonly waiting = new Set<RequestId>();
  private readonly resumable = new Set<RequestId>();
  /** Waiting requests whose POST the server accepted: their answers come on a stream of that session. */
  private readonly accepted = new Set<RequestId>();
  private readonly abandoned = new Set<RequestId>();

  /**
   * A message is on its way to the server: returns the send options to use, which note when a request's answer
   * comes on a stream with event ids (the SDK reconnects to such a stream if it breaks: the answer may still come).
   */
  sent(message: JSONRPCMessage, options: TransportSendOptions | undefined): TransportSendOptions | undefined {
    if (!isJSONRPCRequest(message)) {
      // The server need not answer a cancelled request: stop waiting for it.
      if ('method' in message && message.method === 'notifications/cancelled') this.settle(cancelledId(message.params));
      return options;
    }
    const { id } = message;
    this.waiting.add(id);
    // A client may use an id again once it was answered.
    this.abandoned.delete(id);
    this.resumable.delete(id);
    this.accepted.delete(id);
    return {
      ...options,
      onresumptiontoken: (token) => {
        if (this.waiting.has(id)) this.resumable.add(id);
        options?.onresumptiontoken?.(token);
      },
    };
  }

  /** The server accepted the request `message` (its POST was answered): its answer is on the way in that session. */
  accept(message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message) && this.waiting.has(message.id)) this.accepted.add(message.id);
  }

  /** Sees a message from the server; false when it answers a request the proxy failed already (drop it). */
  delivers(message: JSONRPCMessage): boolean {
    if (!(isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) || message.id === undefined) return true;
    this.settle(message.id);
    return !this.abandoned.delete(message.id);
  }

  /** The proxy answered `id` itself (e.g. its HTTP exchange failed). */
  failed(id: RequestId): void {
    this.settle(id);
  }

  /**
   * The requests whose answers an ended stream took with it, now failed: of `ids` those still waiting and not
   * resumable, or (no ids: the one event stream of an SSE session ended) every request still waiting.
   */
  takeLost(ids?: readonly RequestId[]): RequestId[] {
    return this.abandon((ids ?? [...this.waiting]).filter((id) => this.waiting.has(id) && (ids === undefined || !this.resumable.has(id))));
  }

  /**
   * The requests a replaced session took with it, now failed: those the old session accepted and did not answer
   * (a request still being sent finds out itself, and is sent again on the new session).
   */
  takeAccepted(): RequestId[] {
    return this.abandon([...this.accepted]);
  }

  private abandon(lost: RequestId[]): RequestId[] {
    for (const id of lost) {
      this.settle(id);
      this.abandoned.add(id);
      if (this.abandoned.size > ABANDONED_LIMIT) this.abandoned.delete(this.abandoned.values().next().value as RequestId);
    }
    return lost;
  }

  private settle(id: RequestId): void {
    this.waiting.delete(id);
    this.resumable.delete(id);
    this.accepted.delete(id);
  }
}
