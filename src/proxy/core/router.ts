import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  InitializeRequest,
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCRequest,
  JSONRPCResultResponse,
  JSONRPCNotification,
  ProgressToken,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log/logger.js';
import type { Scrubber } from '../../log/scrubber.js';
import { keepLineOnlyIfClean } from '../wire/original-line.js';
import {
  InvalidFrameError,
  JsonRpcErrorCode,
  invalidFrameReply,
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
} from '../wire/json-rpc.js';
import { Link, PROXY_CALL } from './link.js';
import { rpcError } from '../wire/rpc-error.js';
import type { MessageGuard } from './pattern-guard.js';
import { ServerRequests } from './server-requests.js';

/** Where a client request goes: a link, or a link and the request rewritten for it (e.g. a name unprefixed). */
export type RouteTarget = Link | { link: Link; request: JSONRPCRequest };

/** What `route` returns for a request it keeps to hand back later with `Router.forward` (e.g. while a server restarts). */
export const HELD: unique symbol = Symbol('held');

/** Options of the routing core. */
export interface RouterOptions {
  scrubber: Scrubber;
  logger: Logger;
  /**
   * Which downstream a client request goes to; the single-server proxy returns its one link, or `HELD` while it
   * restarts (the request is then its to forward or answer).
   */
  route: (request: JSONRPCRequest, links: ReadonlyMap<string, Link>) => RouteTarget | typeof HELD | undefined;
  /** Rewrites what a downstream sends before it is scrubbed (the optional pattern guard). */
  guard?: MessageGuard;
}

/** How long a request that could not be sent waits for its server's end to answer it with the reason. */
const SEND_FAILURE_GRACE_MS = 1000;

/** The error for a request that a server ended before answering, with why it ended when known. */
export function stoppedBeforeAnswering(server: string, reason: string | undefined): string {
  return `Server "${server}" stopped before answering${reason ? ` (${reason})` : ''}.`;
}

/**
 * The routing core: moves JSON-RPC messages between the client (front transport) and downstream links without
 * re-implementing MCP. Requests, results, errors and notifications pass unchanged, except that ids are mapped
 * where two peers' id spaces would collide and everything sent to the client is scrubbed of secret values.
 * It knows nothing of config files, keychains or processes.
 */
export class Router {
  /** Set when the front or the router itself closes. */
  onclose?: () => void;
  /** Called when a downstream link closes (after its in-flight requests were answered with errors). */
  private onlinkclose?: (link: Link) => void;
  /** Links that ended before anyone supervised them (a server that dies at start-up): see `superviseLinks`. */
  private readonly unsupervised: Link[] = [];

  private readonly links = new Map<string, Link>();
  private readonly serverRequests = new ServerRequests();
  private nextCallId = 0;
  private initializeRequest: InitializeRequest | undefined;
  private closed = false;

  constructor(
    private readonly front: Transport,
    private readonly options: RouterOptions,
  ) {
    front.onmessage = (message) => this.fromClient(message);
    front.onerror = (error) => this.clientError(error);
    front.onclose = () => void this.close();
  }

  /** The client's `initialize` request, once seen (replayed when a downstream starts later). */
  get clientInitialize(): InitializeRequest | undefined {
    return this.initializeRequest;
  }

  /** Starts reading from the client. */
  start(): Promise<void> {
    return this.front.start();
  }

  /**
   * Adds a started downstream. Messages from it flow to the client from now on. `describeEnd` says why it ended,
   * for the errors that answer its requests in flight when it does.
   */
  attach(name: string, transport: Transport, describeEnd?: () => string | undefined): Link {
    const link = new Link(name, transport, this.initializeRequest !== undefined, describeEnd);
    this.links.set(name, link);
    transport.onmessage = (message) => this.fromDownstream(link, message);
    transport.onerror = (error) => this.options.logger.warn({ server: name, err: error }, 'downstream error');
    transport.onclose = () => this.detach(link);
    return link;
  }

  /** Hands every downstream link that ends on to `onclose`, first those that ended before this call. */
  superviseLinks(onclose: (link: Link) => void): void {
    this.onlinkclose = onclose;
    for (const link of this.unsupervised.splice(0)) onclose(link);
  }

  /** The attached link of that name, if any. */
  link(name: string): Link | undefined {
    return this.links.get(name);
  }

  /** Sends a notification of the proxy's own to the client (e.g. `notifications/tools/list_changed`). */
  notifyClient(method: string, params?: Record<string, unknown>): void {
    this.sendToClient(params ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', method });
  }

  /**
   * Sends a request of the proxy's own to a downstream (e.g. one page of a merged list, or a client's call relayed
   * by the aggregate) and resolves with its result; a JSON-RPC error rejects with an `RpcError`, and so does the
   * link closing or `timeoutMs` passing (`Infinity`: no limit). When `signal` aborts, the server is told with
   * `notifications/cancelled` and the promise rejects.
   */
  request(
    link: Link,
    method: string,
    params: Record<string, unknown> = {},
    { timeoutMs = 30_000, signal }: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Record<string, unknown>> {
    // No code is standard for a cancelled request; the client that cancelled it expects no answer anyway.
    const cancelled = () => rpcError(JsonRpcErrorCode.RequestTimeout, `The ${method} request to server "${link.name}" was cancelled.`);
    if (signal?.aborted) return Promise.reject(cancelled());
    const id = link.requests.reserve(`mcp-keyproxy-call-${++this.nextCallId}`, PROXY_CALL);
    const answer = link.calls.register(id, {
      timeoutMs,
      onTimeout: () => rpcError(JsonRpcErrorCode.RequestTimeout, `Server "${link.name}" did not answer ${method} in time.`),
      signal,
      onAbort: () => {
        this.sendToLink(link, {
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: String(signal?.reason ?? 'cancelled') },
        });
        return cancelled();
      },
      onEnd: () => link.requests.take(id),
    });
    link.transport.send({ jsonrpc: '2.0', id, method, params }).catch((error: unknown) => {
      link.calls.reject(
        id,
        rpcError(JsonRpcErrorCode.ConnectionClosed, `Server "${link.name}" is not reachable.`, { cause: String(error) }),
      );
    });
    return answer;
  }

  /** Closes the client side; downstreams are the caller's to stop. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.front.close().catch(() => undefined);
    this.onclose?.();
  }

  private clientError(error: Error): void {
    if (!(error instanceof InvalidFrameError)) {
      this.options.logger.warn({ err: error }, 'client connection error');
      return;
    }
    // Every frame gets an answer, as JSON-RPC 2.0 asks: the client learns that its message was not read instead of
    // waiting for a reply that never comes. Only the client is answered; a server's junk is logged (attach).
    this.options.logger.warn({ err: error }, 'answered an invalid message from the client with an error');
    this.sendToClient(invalidFrameReply(error));
  }

  private fromClient(message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message)) {
      if (isInitializeRequest(message)) this.initializeRequest = message;
      this.forwardClientRequest(message);
    } else if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      // An error without an id answers nothing the proxy sent (a parse error report): nothing to route, nor to answer.
      if (message.id != null) this.forwardClientResponse({ ...message, id: message.id });
    } else if (isJSONRPCNotification(message)) {
      this.forwardClientNotification(message);
    }
  }

  /** Routes a client request again, as if it had just arrived (one that `route` held). */
  forward(request: JSONRPCRequest): void {
    this.forwardClientRequest(request);
  }

  /** Answers a client request with a JSON-RPC error of the proxy's own (one that `route` held). */
  answerError(id: RequestId, code: number, message: string): void {
    this.replyError(id, code, message);
  }

  private forwardClientRequest(clientRequest: JSONRPCRequest): void {
    const target = this.options.route(clientRequest, this.links);
    if (target === HELD) return;
    if (!target) {
      this.replyError(clientRequest.id, JsonRpcErrorCode.MethodNotFound, `No server handles "${clientRequest.method}".`);
      return;
    }
    const { link, request } = target instanceof Link ? { link: target, request: clientRequest } : target;
    // SDK servers, the proxy's own among them, drop a request whose id is a fraction or beyond 2^53 unanswered
    // (their schema wants a safe integer): such an id goes downstream as one of the proxy's, and comes back as sent.
    const preferred =
      typeof request.id === 'number' && !Number.isSafeInteger(request.id) ? `mcp-keyproxy-id-${++this.nextCallId}` : request.id;
    const id = link.requests.reserve(preferred, request.id);
    link.transport.send(id === request.id ? request : { ...request, id }).catch((error: unknown) => {
      // Only a request gets an answer when forwarding fails: the client is waiting for one. A notification or
      // response that cannot be delivered is logged and dropped, as the receiving side is gone. A server that has
      // just ended (one that dies at start-up) is about to be detached, which answers the request with the reason;
      // otherwise it is answered here after a moment.
      this.options.logger.warn({ server: link.name, err: error }, 'could not forward request');
      setTimeout(() => {
        if (link.requests.take(id) === undefined) return;
        this.replyError(request.id, JsonRpcErrorCode.ConnectionClosed, `Server "${link.name}" is not reachable.`);
      }, SEND_FAILURE_GRACE_MS).unref();
    });
  }

  private forwardClientResponse(response: JSONRPCResultResponse | (JSONRPCErrorResponse & { id: RequestId })): void {
    const pending = this.serverRequests.answered(response.id);
    if (!pending) {
      this.options.logger.debug({ id: response.id }, 'dropping response to an unknown server request');
      return;
    }
    this.sendToLink(pending.link, { ...response, id: pending.id });
  }

  private forwardClientNotification(notification: JSONRPCNotification): void {
    if (notification.method === 'notifications/cancelled') {
      const clientId = notification.params?.requestId as RequestId | undefined;
      for (const link of this.links.values()) {
        const id = clientId === undefined ? undefined : link.requests.find((entry) => entry === clientId);
        if (id !== undefined) {
          this.sendToLink(link, id === clientId ? notification : withRequestId(notification, id));
          return;
        }
      }
      return;
    }
    if (notification.method === 'notifications/progress') {
      const target = this.serverRequests.progressTarget(notification.params?.progressToken as ProgressToken);
      if (target) {
        this.sendToLink(target.link, { ...notification, params: { ...notification.params, progressToken: target.token } });
        return;
      }
    }
    for (const link of this.links.values()) {
      // A link attached after the client's initialize was initialized by the proxy's handshake already.
      if (notification.method === 'notifications/initialized' && link.replayed) continue;
      this.sendToLink(link, notification);
    }
  }

  private fromDownstream(link: Link, received: JSONRPCMessage): void {
    const message = this.options.guard ? this.options.guard.rewrite(link.name, received) : received;
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const id = message.id;
      const entry = id == null ? undefined : link.requests.take(id);
      if (id == null || entry === undefined) {
        this.options.logger.debug({ server: link.name }, 'dropping response to an unknown request');
        return;
      }
      if (entry === PROXY_CALL) {
        if (isJSONRPCResultResponse(message)) link.calls.resolve(id, message.result);
        else link.calls.reject(id, rpcError(message.error.code, message.error.message, message.error.data));
        return;
      }
      this.sendToClient(entry === message.id ? message : { ...message, id: entry }, link);
    } else if (isJSONRPCRequest(message)) {
      this.sendToClient(this.serverRequests.outgoing(link, message), link);
    } else if (isJSONRPCNotification(message)) {
      if (message.method === 'notifications/cancelled') {
        const downstreamId = message.params?.requestId as RequestId | undefined;
        const id = this.serverRequests.cancelled(link, downstreamId);
        if (id === undefined) return;
        this.sendToClient(id === downstreamId ? message : withRequestId(message, id), link);
        return;
      }
      this.sendToClient(message, link);
    }
  }

  private detach(link: Link): void {
    if (this.links.get(link.name) !== link) return;
    this.links.delete(link.name);
    const message = stoppedBeforeAnswering(link.name, link.describeEnd());
    for (const entry of link.requests.drain()) if (entry !== PROXY_CALL) this.replyError(entry, JsonRpcErrorCode.ConnectionClosed, message);
    link.calls.rejectAll(rpcError(JsonRpcErrorCode.ConnectionClosed, message));
    this.serverRequests.removeLink(link);
    if (this.onlinkclose) this.onlinkclose(link);
    else this.unsupervised.push(link);
  }

  private sendToLink(link: Link, message: JSONRPCMessage): void {
    link.transport.send(message).catch((error: unknown) => {
      this.options.logger.warn({ server: link.name, err: error }, 'could not forward message to server');
    });
  }

  /**
   * Sends to the client, scrubbed. A message passed on unchanged goes out as its original line if that is clean:
   * one pass over its bytes, and no walk of the message unless the line held something (or a number may spell a
   * value, which only the walk sees).
   */
  private sendToClient(message: JSONRPCMessage, from?: Link): void {
    if (this.closed) return;
    const { scrubber } = this.options;
    const clean = keepLineOnlyIfClean(message, [scrubber, from && this.options.guard?.lineCheck(from.name)]);
    const scrubbed = clean && !scrubber.scrubsNumbers ? message : scrubber.scrubJson(message);
    this.front.send(scrubbed).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'could not send message to client');
    });
  }

  private replyError(id: RequestId, code: number, message: string): void {
    this.sendToClient({ jsonrpc: '2.0', id, error: { code, message } });
  }
}

function withRequestId(notification: JSONRPCNotification, requestId: RequestId): JSONRPCNotification {
  return { ...notification, params: { ...notification.params, requestId } };
}
