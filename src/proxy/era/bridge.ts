import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  InitializeRequest,
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  RequestId,
  ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log/logger.js';
import { PendingCalls } from '../core/pending-calls.js';
import {
  JsonRpcErrorCode,
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
} from '../wire/json-rpc.js';
import { rpcError, type RpcError } from '../wire/rpc-error.js';
import { withDeadline } from '../../timing/deadline.js';
import { META, MODERN_VERSIONS, envelopeFrom, modernVersionOffered, stamped } from './envelope.js';
import { initializeAnswer, type DiscoverResult } from './initialize-answer.js';
import { MAX_INPUT_ROUNDS, STATE_ONLY_PAUSE_MS, answerInputs, isInputRequired, retryParams, type InputRequired } from './input-rounds.js';
import { listenFilter, subscriptionOf, withoutSubscription } from './listen.js';

/** How long the bridge waits for `server/discover`, and the client's other messages for the `initialize` answer. */
const DECIDE_TIMEOUT_MS = 30_000;
/**
 * How long a probe with `server/discover` may take before the server counts as one of the 2025 era. A 2025 server
 * refuses the method at once, so this bound only matters for a slow answer: 5 s was passed by a dual-era HTTP member
 * on a loaded machine (era matrix), which then served the aggregate its stateless 2025 leg, without elicitation.
 */
const PROBE_TIMEOUT_MS = 15_000;

/** How the bridge meets a client's `initialize`. */
export interface EraBridgeOptions {
  /**
   * Probe with `server/discover` first and bridge to the stateless era whenever the server speaks it, instead of
   * only when it refuses `initialize`. The aggregate does: it is the one client of its members, and a dual-era
   * HTTP server serves the 2025 era statelessly (no server→client requests), the 2026 era in full.
   */
  preferModern?: boolean;
}

/** The client's `initialize` as sent (the SDK's `InitializeRequest` type has no id). */
type ClientInitialize = InitializeRequest & { id: RequestId };

/** A client request the bridge forwarded and has not answered yet, with what its rounds of input need. */
interface Active {
  method: string;
  params: Record<string, unknown>;
  rounds: number;
  abort: AbortController;
}

/**
 * Sits on a downstream transport and lets a 2025-era client use a server that speaks only the stateless 2026 era
 * (it refuses `initialize` with -32022). Every other server, and a client of the 2026 era, sees the messages pass
 * untouched: the bridge does nothing until a server refuses `initialize` for a version it lists as supported.
 *
 * Once bridging it answers the client's `initialize` from `server/discover`, stamps the `_meta` envelope (version,
 * the client's capabilities and identity, its log level) on every request, turns each `input_required` result into
 * real server→client requests and retries with the answers (at most {@link MAX_INPUT_ROUNDS} rounds), answers
 * `ping`, `logging/setLevel` and resource (un)subscribe itself, and keeps one `subscriptions/listen` open whose
 * events reach the client as the 2025 notifications they are.
 */
export class EraBridge implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;

  private initialize: ClientInitialize | undefined;
  private deciding: Promise<void> | undefined;
  private decided: (() => void) | undefined;
  private envelope: Record<string, unknown> | undefined;
  private answer: Record<string, unknown> | undefined;
  private capabilities: ServerCapabilities = {};
  private readonly subscribed = new Set<string>();
  private listenId: string | undefined;
  private readonly active = new Map<RequestId, Active>();
  private readonly own = new PendingCalls<Record<string, unknown>>();
  private readonly asks = new PendingCalls<Record<string, unknown>>();
  private next = 0;
  private closed = false;

  constructor(
    private readonly inner: Transport,
    private readonly serverName: string,
    private readonly logger?: Logger,
    private readonly options: EraBridgeOptions = {},
  ) {
    inner.onmessage = (message) => this.fromServer(message);
    inner.onerror = (error) => this.onerror?.(error);
    inner.onclose = () => this.innerClosed();
  }

  /** True once the server turned out to speak only the stateless era and the bridge translates. */
  get bridging(): boolean {
    return this.envelope !== undefined;
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    // What the bridge leaves alone (every message of a 2025 session once its `initialize` is answered) goes straight
    // on: not through an async function, whose own promise would add turns of the event loop to every request.
    if (!this.deciding && !this.envelope && !isInitializeRequest(message)) {
      try {
        return this.inner.send(message, options);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    return this.decideAndSend(message, options);
  }

  private async decideAndSend(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    // The client's messages after its `initialize` wait for the answer: it decides whether they are bridged.
    if (this.deciding && !isInitializeRequest(message)) await this.deciding;
    if (!this.envelope) {
      if (!isInitializeRequest(message)) return this.inner.send(message, options);
      this.expectAnswer(message as ClientInitialize);
      if (this.options.preferModern && (await this.probe(message as ClientInitialize))) return;
      return this.inner.send(message, options);
    }
    if (isJSONRPCRequest(message)) return this.request(message, options);
    if (isJSONRPCNotification(message)) return this.notification(message, options);
    if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id != null && this.asks.has(message.id)) {
      if (isJSONRPCResultResponse(message)) this.asks.resolve(message.id, message.result);
      else this.asks.reject(message.id, rpcError(message.error.code, message.error.message, message.error.data));
      return;
    }
    return this.inner.send(message, options);
  }

  private expectAnswer(message: ClientInitialize): void {
    this.initialize = message;
    const answered = new Promise<void>((resolve) => (this.decided = resolve));
    const deciding: Promise<void> = withDeadline(answered, DECIDE_TIMEOUT_MS, () => undefined).finally(() => {
      if (this.deciding === deciding) this.deciding = undefined;
    });
    this.deciding = deciding;
  }

  private decide(): void {
    this.initialize = undefined;
    this.decided?.();
    this.decided = undefined;
  }

  private fromServer(message: JSONRPCMessage): void {
    if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id != null && this.own.has(message.id)) {
      if (isJSONRPCResultResponse(message)) this.own.resolve(message.id, message.result);
      else this.own.reject(message.id, rpcError(message.error.code, message.error.message, message.error.data));
      return;
    }
    const initialize = this.initialize;
    if (initialize && (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id === initialize.id) {
      const version = isJSONRPCErrorResponse(message) ? modernVersionOffered(message.error) : undefined;
      if (version === undefined) {
        this.decide();
        this.onmessage?.(message);
      } else {
        void this.begin(initialize, version, message);
      }
      return;
    }
    if (!this.envelope) {
      this.onmessage?.(message);
      return;
    }
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const id = message.id;
      const active = id == null ? undefined : this.active.get(id);
      if (id != null && active && isJSONRPCResultResponse(message) && isInputRequired(message.result)) {
        void this.inputRound(id, active, message.result);
        return;
      }
      if (id != null) this.active.delete(id);
      this.onmessage?.(message);
      return;
    }
    if (isJSONRPCNotification(message) && subscriptionOf(message) !== undefined) {
      if (message.method !== 'notifications/subscriptions/acknowledged') this.onmessage?.(withoutSubscription(message));
      return;
    }
    this.onmessage?.(message);
  }

  /** Asks `server/discover` before `initialize`: true when the server speaks the stateless era and is bridged. */
  private async probe(initialize: ClientInitialize): Promise<boolean> {
    const version = MODERN_VERSIONS[0]!;
    const envelope = envelopeFrom(initialize.params, version);
    try {
      const discover = (await this.ownRequest('server/discover', stamped({}, envelope), PROBE_TIMEOUT_MS)) as DiscoverResult;
      if (!discover.supportedVersions?.includes(version)) return false;
      this.bridge(initialize, envelope, discover, `server "${this.serverName}" speaks protocol ${version}: using it`);
      this.decide();
      return true;
    } catch (error) {
      this.logger?.debug({ server: this.serverName, err: error }, 'server/discover failed: the server speaks the 2025 era');
      return false;
    }
  }

  /** From now on, translate: answer the client's `initialize` from `server/discover` and listen for changes. */
  private bridge(initialize: ClientInitialize, envelope: Record<string, unknown>, discover: DiscoverResult, why: string): void {
    this.envelope = envelope;
    this.capabilities = discover.capabilities ?? {};
    this.answer = initializeAnswer(initialize.params, discover) as unknown as Record<string, unknown>;
    this.logger?.info({ server: this.serverName }, `${why}; bridging the client's 2025 session to it`);
    this.onmessage?.({ jsonrpc: '2.0', id: initialize.id, result: this.answer });
    this.openListen();
  }

  /** The server refused `initialize` but speaks `version`: answer the client from `server/discover`, or pass the refusal. */
  private async begin(initialize: ClientInitialize, version: string, refusal: JSONRPCMessage): Promise<void> {
    const envelope = envelopeFrom(initialize.params, version);
    try {
      const discover = (await this.ownRequest('server/discover', stamped({}, envelope), DECIDE_TIMEOUT_MS)) as DiscoverResult;
      this.bridge(initialize, envelope, discover, `server "${this.serverName}" speaks only protocol ${version}`);
    } catch (error) {
      this.logger?.debug({ server: this.serverName, err: error }, 'server/discover failed: passing the refused initialize on');
      this.onmessage?.(refusal);
    } finally {
      this.decide();
    }
  }

  private async request(request: JSONRPCRequest, options?: TransportSendOptions): Promise<void> {
    const params = request.params ?? {};
    switch (request.method) {
      case 'initialize':
        return this.reply(request.id, this.answer ?? {});
      case 'ping':
        return this.reply(request.id, {});
      case 'logging/setLevel':
        if (this.envelope && typeof params.level === 'string') this.envelope[META.logLevel] = params.level;
        return this.reply(request.id, {});
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        const uri = params.uri;
        if (typeof uri === 'string') {
          const had = this.subscribed.has(uri);
          if (request.method === 'resources/subscribe') this.subscribed.add(uri);
          else this.subscribed.delete(uri);
          if (had !== this.subscribed.has(uri)) this.openListen();
        }
        return this.reply(request.id, {});
      }
    }
    const active: Active = {
      method: request.method,
      params: stamped(params, this.envelope ?? {}),
      rounds: 0,
      abort: new AbortController(),
    };
    this.active.set(request.id, active);
    try {
      await this.inner.send({ jsonrpc: '2.0', id: request.id, method: request.method, params: active.params }, options);
    } catch (error) {
      this.active.delete(request.id);
      throw error;
    }
  }

  private notification(notification: JSONRPCNotification, options?: TransportSendOptions): Promise<void> {
    switch (notification.method) {
      // The stateless era has no handshake to finish, and asks for roots with each request that needs them.
      case 'notifications/initialized':
      case 'notifications/roots/list_changed':
        return Promise.resolve();
      case 'notifications/cancelled': {
        const id = notification.params?.requestId as RequestId | undefined;
        const active = id === undefined ? undefined : this.active.get(id);
        if (id !== undefined && active) {
          this.active.delete(id);
          active.abort.abort('cancelled by the client');
        }
        break;
      }
    }
    return this.inner.send(notification, options);
  }

  /** Answers an `input_required` result: asks the client, then sends the request again with its answers. */
  private async inputRound(id: RequestId, active: Active, result: InputRequired): Promise<void> {
    const { signal } = active.abort;
    if (++active.rounds > MAX_INPUT_ROUNDS) {
      this.active.delete(id);
      this.replyError(
        id,
        JsonRpcErrorCode.InternalError,
        `Server "${this.serverName}" still asked for input after ${MAX_INPUT_ROUNDS} rounds of ${active.method}; mcp-keyproxy gave up.`,
      );
      return;
    }
    try {
      const answers = await answerInputs(result, (method, params) => this.askClient(method, params, signal));
      if (answers === undefined) await pause(STATE_ONLY_PAUSE_MS, signal);
      if (signal.aborted) return;
      active.params = retryParams(active.params, answers, result.requestState);
      await this.inner.send({ jsonrpc: '2.0', id, method: active.method, params: active.params });
    } catch (error) {
      if (signal.aborted) return;
      this.active.delete(id);
      const { code, message } = error as Partial<RpcError>;
      this.replyError(
        id,
        typeof code === 'number' ? code : JsonRpcErrorCode.InternalError,
        `The client could not give server "${this.serverName}" the input it asked for: ${message ?? String(error)}`,
      );
    }
  }

  /** Sends the client a server→client request of the bridge's own and waits for its answer (or the request's end). */
  private askClient(method: string, params: Record<string, unknown> | undefined, signal: AbortSignal): Promise<Record<string, unknown>> {
    const id = `mcp-keyproxy-input-${++this.next}`;
    const answer = this.asks.register(id, {
      signal,
      onAbort: () => {
        this.onmessage?.({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: 'the request was cancelled' },
        });
        return new Error('cancelled');
      },
    });
    this.onmessage?.({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    return answer;
  }

  /** (Re)opens the one `subscriptions/listen` for what the client should hear about, closing the one before. */
  private openListen(): void {
    const previous = this.listenId;
    if (previous !== undefined) {
      this.listenId = undefined;
      this.own.reject(previous, new Error('replaced'));
      void this.inner
        .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: previous, reason: 'subscriptions changed' } })
        .catch(() => undefined);
    }
    const filter = listenFilter(this.capabilities, this.subscribed);
    if (!filter || this.closed) return;
    const id = `mcp-keyproxy-listen-${++this.next}`;
    this.listenId = id;
    this.ownRequest('subscriptions/listen', stamped({ notifications: filter }, this.envelope ?? {}), Infinity, id).catch(
      (error: unknown) => {
        if (this.listenId === id && !this.closed) {
          this.logger?.warn(
            { server: this.serverName, err: error },
            'the subscription to change notices ended; the client hears of no more changes',
          );
        }
      },
    );
  }

  private ownRequest(method: string, params: Record<string, unknown>, timeoutMs: number, id = `mcp-keyproxy-${method}-${++this.next}`) {
    const answer = this.own.register(id, {
      timeoutMs,
      onTimeout: () => new Error(`no answer to ${method} within ${timeoutMs / 1000} s`),
    });
    this.inner.send({ jsonrpc: '2.0', id, method, params }).catch((error: Error) => this.own.reject(id, error));
    return answer;
  }

  private reply(id: RequestId, result: Record<string, unknown>): Promise<void> {
    this.onmessage?.({ jsonrpc: '2.0', id, result });
    return Promise.resolve();
  }

  private replyError(id: RequestId, code: number, message: string): void {
    this.onmessage?.({ jsonrpc: '2.0', id, error: { code, message } });
  }

  private innerClosed(): void {
    this.closed = true;
    this.decide();
    const ended = new Error(`server "${this.serverName}" closed the connection`);
    this.own.rejectAll(ended);
    for (const active of this.active.values()) active.abort.abort(ended.message);
    this.active.clear();
    this.asks.rejectAll(ended);
    this.onclose?.();
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
