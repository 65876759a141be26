import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '../wire/protocol-versions.js';
import {
  JsonRpcErrorCode,
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
} from '../wire/json-rpc.js';
import { META, MODERN_VERSIONS, UNSUPPORTED_PROTOCOL_VERSION } from './envelope.js';
import type { SubscriptionFilter } from './listen.js';

/**
 * The proxy's own servers (the aggregate, the setup server of a gated server and its consent prompt) for a client
 * of the 2026-07-28 era.
 *
 * Why an adapter at the front rather than the v2 SDK's `@modelcontextprotocol/server` (read in node_modules, 2.4.0):
 * the v2 server refuses server→client requests on a 2026-era request ("return inputRequired(...) instead"), so the
 * setup and consent flows — which hold a dialog open while they show its code through `elicitation/create` — would
 * have to be rewritten as re-entrant handlers, and it would still not cover the aggregate's members: their
 * requests reach the router's links directly, never through the proxy's own server. Behind this adapter the client
 * is a 2025 session, as every server and the era bridge already expect; the adapter alone speaks 2026:
 *
 * - the first request decides the era: `initialize` (or anything without the 2026 `_meta` envelope) is a 2025 client
 *   and everything passes untouched from then on; a request with the envelope (or `server/discover`) makes the
 *   adapter send an `initialize` of its own built from the envelope (capabilities, client info), then
 *   `notifications/initialized`;
 * - `server/discover` is answered from that `initialize` result; the envelope is taken off each request; every
 *   result gets `resultType: "complete"` (and lists the cache hints 2026 requires: `ttlMs: 0`, the lists change);
 * - a server→client request (elicitation, sampling, roots) is attached to a client request in flight that may
 *   take input (`tools/call`, `prompts/get`, `resources/read`): that request is answered `input_required` with it
 *   as an `inputRequest`, the original call stays open behind the adapter, and the client's retry (a new id, the
 *   `requestState` echoed, the answers in `inputResponses`) answers the server→client requests and waits for what
 *   the call does next (its result, or the next round). A request that arrives with no call in flight waits for
 *   the next one (the consent prompt asked right after the handshake);
 * - change notices (`list_changed`, `resources/updated`) go out only on an open `subscriptions/listen`, stamped with
 *   its id; progress and log messages pass as on any stdio connection.
 */

/** The methods whose results may be `input_required` in the 2026 era. */
const TAKES_INPUT = new Set(['tools/call', 'prompts/get', 'resources/read']);
/** Results that are cacheable lists in the 2026 era (`ttlMs`, `cacheScope` required). */
const LISTS = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'server/discover']);
/** Notifications a 2026 client gets only through `subscriptions/listen`, and the filter field that asks for each. */
const CHANGE_NOTICES: Record<string, keyof SubscriptionFilter> = {
  'notifications/tools/list_changed': 'toolsListChanged',
  'notifications/prompts/list_changed': 'promptsListChanged',
  'notifications/resources/list_changed': 'resourcesListChanged',
  'notifications/resources/updated': 'resourceSubscriptions',
};
/** How long a call may wait for the client to come back with the input it was asked for. */
const ROUND_TIMEOUT_MS = 10 * 60_000;
const OWN_ID = 'mcp-keyproxy-front-';
const INITIALIZE_ID = `${OWN_ID}initialize`;

type Fields = Record<string, unknown>;

/** A server→client request waiting to be asked of the client as an `inputRequest`. */
interface Ask {
  id: RequestId;
  method: string;
  params?: Fields;
}

/** A client request forwarded to the router and not answered yet. */
interface Call {
  /** Its id towards the router (the client's first id). */
  readonly id: RequestId;
  readonly method: string;
  /** The id the client waits on now (its latest retry). */
  replyTo: RequestId;
  /** Asked of the client in the round now open, by input key. */
  asked: Map<string, Ask>;
  /** Waiting for the next round. */
  queued: Ask[];
  /** The `requestState` of the open round: set while the client holds an `input_required` answer. */
  state?: string;
  timer?: NodeJS.Timeout;
  /** The call's answer, when it came while a round was open. */
  answer?: JSONRPCMessage;
  /** The client's progress tokens: the first (as the router knows it) and the latest retry's. */
  firstToken?: unknown;
  token?: unknown;
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function metaOf(message: JSONRPCRequest | JSONRPCNotification): Fields | undefined {
  const meta = message.params?._meta;
  return isObject(meta) ? meta : undefined;
}

/** The 2026 version a message claims in its envelope, if it has one. */
function claimedVersion(message: JSONRPCRequest | JSONRPCNotification): string | undefined {
  const version = metaOf(message)?.[META.version];
  return typeof version === 'string' ? version : undefined;
}

/** `params` without the 2026 envelope keys (the session behind the adapter is a 2025 one). */
function withoutEnvelope(params: Fields | undefined): Fields | undefined {
  if (!params || !isObject(params._meta)) return params;
  const meta = { ...params._meta };
  for (const key of [META.version, META.capabilities, META.clientInfo, META.logLevel]) delete meta[key];
  const rest: Fields = { ...params };
  delete rest.inputResponses;
  delete rest.requestState;
  if (Object.keys(meta).length > 0) rest._meta = meta;
  else delete rest._meta;
  return rest;
}

/** Wraps the client's transport; the router sees a 2025 client whatever the client speaks. */
export class ModernClientFront implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;

  private era: 'undecided' | 'legacy' | 'opening' | 'modern' = 'undecided';
  private held: JSONRPCMessage[] = [];
  private server: Fields = {};
  private readonly calls = new Map<RequestId, Call>();
  private readonly rounds = new Map<string, Call>();
  private unattached: Ask[] = [];
  private readonly listens = new Map<RequestId, SubscriptionFilter>();

  constructor(
    private readonly inner: Transport,
    private readonly logger?: Logger,
  ) {
    inner.onmessage = (message) => this.fromClient(message);
    inner.onerror = (error) => this.onerror?.(error);
    inner.onclose = () => {
      for (const call of this.calls.values()) clearTimeout(call.timer);
      this.onclose?.();
    };
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.era === 'undecided' || this.era === 'legacy') return this.inner.send(message, options);
    if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id === INITIALIZE_ID && this.era === 'opening') {
      this.opened(message);
      return Promise.resolve();
    }
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      // The answers to the adapter's own requests (resources/subscribe for a subscription) go nowhere.
      if (typeof message.id === 'string' && message.id.startsWith(OWN_ID)) return Promise.resolve();
      const call = message.id == null ? undefined : this.calls.get(message.id);
      if (!call) return this.inner.send(message, options);
      if (call.state !== undefined) {
        call.answer = message;
        return Promise.resolve();
      }
      this.finish(call, message);
      return Promise.resolve();
    }
    if (isJSONRPCRequest(message)) {
      this.ask({ id: message.id, method: message.method, ...(message.params ? { params: message.params } : {}) });
      return Promise.resolve();
    }
    return this.notice(message as JSONRPCNotification, options);
  }

  private fromClient(message: JSONRPCMessage): void {
    if (this.era === 'legacy') return this.onmessage?.(message);
    if (this.era === 'opening') {
      this.held.push(message);
      return;
    }
    if (this.era === 'modern') return this.modern(message);
    if (!isJSONRPCRequest(message)) return this.onmessage?.(message);
    const version = claimedVersion(message);
    if (isInitializeRequest(message) || (version === undefined && message.method !== 'server/discover')) {
      this.era = 'legacy';
      return this.onmessage?.(message);
    }
    if (version !== undefined && !MODERN_VERSIONS.includes(version)) return this.refuseVersion(message.id, version);
    this.open(message);
  }

  /** Starts the 2025 session behind the adapter with an `initialize` built from the first request's envelope. */
  private open(first: JSONRPCRequest): void {
    this.era = 'opening';
    this.held.push(first);
    const meta = metaOf(first) ?? {};
    const clientInfo = isObject(meta[META.clientInfo]) ? meta[META.clientInfo] : { name: 'unknown', version: '0' };
    const capabilities = isObject(meta[META.capabilities]) ? meta[META.capabilities] : {};
    this.logger?.info({ client: (clientInfo as { name?: unknown }).name }, 'the client speaks protocol 2026-07-28');
    this.onmessage?.({
      jsonrpc: '2.0',
      id: INITIALIZE_ID,
      method: 'initialize',
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities, clientInfo },
    } as JSONRPCMessage);
  }

  private opened(answer: JSONRPCMessage): void {
    if (isJSONRPCResultResponse(answer)) this.server = answer.result;
    this.era = 'modern';
    this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const held = this.held;
    this.held = [];
    for (const message of held) this.modern(message);
  }

  private modern(message: JSONRPCMessage): void {
    if (isJSONRPCNotification(message)) return this.clientNotice(message);
    if (!isJSONRPCRequest(message)) return; // a 2026 client answers no server→client requests
    const version = claimedVersion(message);
    if (version !== undefined && !MODERN_VERSIONS.includes(version)) return this.refuseVersion(message.id, version);
    const params = message.params;
    if (typeof params?.requestState === 'string') return this.retry(message, params.requestState);
    switch (message.method) {
      case 'server/discover':
        return this.reply(message.id, this.discover(), message.method);
      case 'subscriptions/listen':
        return this.listen(message);
    }
    const call: Call = { id: message.id, method: message.method, replyTo: message.id, asked: new Map(), queued: [] };
    call.firstToken = call.token = isObject(params?._meta) ? params._meta.progressToken : undefined;
    this.calls.set(message.id, call);
    const stripped = withoutEnvelope(params);
    this.onmessage?.({ jsonrpc: '2.0', id: message.id, method: message.method, ...(stripped ? { params: stripped } : {}) });
    if (TAKES_INPUT.has(call.method) && this.unattached.length > 0) {
      call.queued.push(...this.unattached);
      this.unattached = [];
      this.openRound(call);
    }
  }

  private discover(): Fields {
    const info = this.server.serverInfo;
    return {
      supportedVersions: [...MODERN_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS],
      capabilities: isObject(this.server.capabilities) ? this.server.capabilities : {},
      ...(typeof this.server.instructions === 'string' ? { instructions: this.server.instructions } : {}),
      ...(isObject(info) ? { _meta: { [META.serverInfo]: info } } : {}),
    };
  }

  /** Opens a subscription: acknowledged at once with what the proxy can deliver, then fed by {@link notice}. */
  private listen(request: JSONRPCRequest): void {
    const asked = isObject(request.params?.notifications) ? (request.params.notifications as SubscriptionFilter) : {};
    const capabilities = (isObject(this.server.capabilities) ? this.server.capabilities : {}) as {
      tools?: { listChanged?: boolean };
      prompts?: { listChanged?: boolean };
      resources?: { listChanged?: boolean; subscribe?: boolean };
    };
    const honored: SubscriptionFilter = {};
    if (asked.toolsListChanged === true && capabilities.tools?.listChanged) honored.toolsListChanged = true;
    if (asked.promptsListChanged === true && capabilities.prompts?.listChanged) honored.promptsListChanged = true;
    if (asked.resourcesListChanged === true && capabilities.resources?.listChanged) honored.resourcesListChanged = true;
    if (Array.isArray(asked.resourceSubscriptions) && asked.resourceSubscriptions.length > 0 && capabilities.resources?.subscribe) {
      honored.resourceSubscriptions = asked.resourceSubscriptions.map(String);
      // The servers behind learn of each URI as they would from a 2025 client.
      for (const uri of honored.resourceSubscriptions) {
        this.onmessage?.({
          jsonrpc: '2.0',
          id: `${OWN_ID}subscribe-${randomBytes(4).toString('hex')}`,
          method: 'resources/subscribe',
          params: { uri },
        });
      }
    }
    this.listens.set(request.id, honored);
    this.toClient({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: honored, _meta: { [META.subscriptionId]: request.id } },
    });
  }

  private clientNotice(notification: JSONRPCNotification): void {
    if (notification.method === 'notifications/cancelled') {
      const id = notification.params?.requestId as RequestId | undefined;
      if (id !== undefined && this.listens.delete(id)) return;
      const call = [...this.calls.values()].find((candidate) => candidate.replyTo === id);
      if (call) {
        this.forget(call);
        this.onmessage?.({ ...notification, params: { ...notification.params, requestId: call.id } });
        return;
      }
    }
    this.onmessage?.(notification);
  }

  /** A change notice goes out on each subscription that asked for it; progress and the rest pass. */
  private notice(notification: JSONRPCNotification, options?: TransportSendOptions): Promise<void> {
    const field = CHANGE_NOTICES[notification.method];
    if (field !== undefined) {
      for (const [id, filter] of this.listens) {
        const wanted =
          field === 'resourceSubscriptions'
            ? filter.resourceSubscriptions?.includes(String(notification.params?.uri)) === true
            : filter[field] === true;
        if (!wanted) continue;
        const meta = isObject(notification.params?._meta) ? notification.params._meta : {};
        this.toClient({ ...notification, params: { ...notification.params, _meta: { ...meta, [META.subscriptionId]: id } } });
      }
      return Promise.resolve();
    }
    if (notification.method === 'notifications/cancelled') {
      // A server gave up a request the client was asked as an inputRequest: it is no longer asked.
      const id = notification.params?.requestId;
      this.unattached = this.unattached.filter((ask) => ask.id !== id);
      for (const call of this.calls.values()) call.queued = call.queued.filter((ask) => ask.id !== id);
      return Promise.resolve();
    }
    if (notification.method === 'notifications/progress') {
      const token = notification.params?.progressToken;
      const call = [...this.calls.values()].find((candidate) => candidate.firstToken === token && candidate.token !== token);
      if (call) return this.inner.send({ ...notification, params: { ...notification.params, progressToken: call.token } }, options);
    }
    return this.inner.send(notification, options);
  }

  /** A server→client request: asked of the client within a call in flight that may take input. */
  private ask(ask: Ask): void {
    const calls = [...this.calls.values()].filter((call) => TAKES_INPUT.has(call.method));
    // Calls are kept in the order they came; one the client is waiting on (no round open) can be answered now.
    const call = calls.find((candidate) => candidate.state === undefined) ?? calls[0];
    if (!call) {
      this.unattached.push(ask);
      return;
    }
    call.queued.push(ask);
    if (call.state === undefined) this.openRound(call);
  }

  /** Answers the client's waiting id with `input_required` for what the call's servers asked. */
  private openRound(call: Call): void {
    const asks = call.queued;
    call.queued = [];
    call.asked = new Map(asks.map((ask, index) => [`input-${index + 1}`, ask]));
    call.state = `mcp-keyproxy-${randomBytes(16).toString('hex')}`;
    this.rounds.set(call.state, call);
    const inputRequests = Object.fromEntries(
      [...call.asked].map(([key, ask]) => [key, { method: ask.method, ...(ask.params ? { params: ask.params } : {}) }]),
    );
    call.timer = setTimeout(() => this.abandon(call), ROUND_TIMEOUT_MS);
    call.timer.unref();
    this.toClient({ jsonrpc: '2.0', id: call.replyTo, result: { resultType: 'input_required', inputRequests, requestState: call.state } });
  }

  /** The client's retry of a call with the answers: each goes to the server that asked, and the call goes on. */
  private retry(request: JSONRPCRequest, state: string): void {
    const call = this.rounds.get(state);
    if (!call || call.method !== request.method) {
      this.toClient({
        jsonrpc: '2.0',
        id: request.id,
        error: { code: JsonRpcErrorCode.InvalidParams, message: 'Unknown or expired requestState: send the request again without it.' },
      });
      return;
    }
    this.rounds.delete(state);
    clearTimeout(call.timer);
    call.state = undefined;
    call.replyTo = request.id;
    const meta = request.params?._meta;
    if (isObject(meta) && meta.progressToken !== undefined) call.token = meta.progressToken;
    const responses = isObject(request.params?.inputResponses) ? request.params.inputResponses : {};
    for (const [key, ask] of call.asked) {
      const response = responses[key];
      this.onmessage?.(
        isObject(response)
          ? { jsonrpc: '2.0', id: ask.id, result: response }
          : {
              jsonrpc: '2.0',
              id: ask.id,
              error: { code: JsonRpcErrorCode.InvalidParams, message: 'The client gave no answer to this request.' },
            },
      );
    }
    call.asked = new Map();
    if (call.queued.length > 0) this.openRound(call);
    else if (call.answer) this.finish(call, call.answer);
  }

  /** The client never came back: the call is cancelled at its server. */
  private abandon(call: Call): void {
    this.logger?.warn({ method: call.method }, 'the client did not answer the input it was asked for; cancelling the request');
    this.forget(call);
    for (const ask of call.asked.values()) {
      this.onmessage?.({
        jsonrpc: '2.0',
        id: ask.id,
        error: { code: JsonRpcErrorCode.RequestTimeout, message: 'The client did not answer.' },
      });
    }
    this.onmessage?.({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: call.id, reason: 'no input from the client' },
    });
  }

  private forget(call: Call): void {
    clearTimeout(call.timer);
    if (call.state !== undefined) this.rounds.delete(call.state);
    this.calls.delete(call.id);
  }

  private finish(call: Call, answer: JSONRPCMessage): void {
    this.forget(call);
    if (isJSONRPCResultResponse(answer)) this.reply(call.replyTo, answer.result, call.method);
    else this.toClient({ ...answer, id: call.replyTo } as JSONRPCMessage);
  }

  /** A result as the 2026 era shapes it. */
  private reply(id: RequestId, result: Fields, method: string): void {
    const cache = LISTS.has(method) ? { ttlMs: 0, cacheScope: 'private' } : {};
    this.toClient({ jsonrpc: '2.0', id, result: { ...cache, ...result, resultType: 'complete' } });
  }

  private refuseVersion(id: RequestId, requested: string): void {
    this.toClient({
      jsonrpc: '2.0',
      id,
      error: {
        code: UNSUPPORTED_PROTOCOL_VERSION,
        message: `Unsupported protocol version ${requested}`,
        data: { supported: [...MODERN_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS], requested },
      },
    });
  }

  private toClient(message: JSONRPCMessage): void {
    this.inner.send(message).catch((error: unknown) => this.logger?.warn({ err: error }, 'could not send message to client'));
  }
}
