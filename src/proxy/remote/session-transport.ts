import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { isInitializeRequest, isJSONRPCErrorResponse, isJSONRPCRequest, isJSONRPCResultResponse } from '../wire/json-rpc.js';
import type { Logger } from '../../log/logger.js';
import { authRejectedMessage, failureResponse, streamEndedResponse } from './failure-response.js';
import { httpStatusOf, isAuthStatus, isSessionGone, isSseFallback } from './http-errors.js';
import type { RemoteKind, SdkClientTransport } from './inner-transport.js';
import type { EraRequests } from './era-cancel.js';
import { eraRequestId } from './era-headers.js';
import { HandshakeHold } from './handshake-hold.js';
import { InFlightRequests } from './in-flight.js';
import { SessionReplay } from './session-replay.js';
import type { StreamEnd } from './stream-watch.js';
import { withDeadline } from '../../timing/deadline.js';

/** How long after an event stream ended its unanswered requests fail: the SDK may still be parsing its last bytes. */
const STREAM_END_GRACE_MS = 20;

/**
 * A `server/discover` the server refused with a 4xx: what a 2025-era server does with a method it does not know
 * outside a session (the era bridge's probe, or a 2026 client's). The answer tells the era, not a fault.
 */
function isRefusedDiscover(method: string, status: number | undefined): boolean {
  return method === 'server/discover' && status !== undefined && status >= 400 && status < 500 && !isAuthStatus(status);
}

/** What the remote session transport is built from. */
export interface RemoteSessionOptions {
  serverName: string;
  /** `auto` starts with Streamable HTTP and falls back to SSE when the server answers like an old SSE server. */
  mode: 'auto' | RemoteKind;
  logger: Logger;
  /** Names of the secrets the headers or url carry: the rejected-key message names the commands that fix them. */
  secretNames: readonly string[];
  /** The credential profile, named in those commands. */
  profile?: string;
  /**
   * Creates (does not start) an SDK client transport of `kind` that reports the end of each event stream, and each
   * answer (or failure) to a GET that opens one.
   */
  create: (kind: RemoteKind, onStreamEnd: (end: StreamEnd) => void, onGetAnswered: () => void) => Promise<SdkClientTransport>;
  /** True when a 401 means "log in" rather than a rejected key (see `FailureContext.loginRequired`). */
  loginRequired?: () => boolean;
  /** Called when the server rejects the credentials (401/403), e.g. to write the audit log. */
  onAuthRejected?: (status: number) => void;
  /** Limit for a replayed `initialize` and for the DELETE on close. */
  timeoutMs?: number;
  /** The 2026-era requests in flight, which the client cancels by aborting their POSTs (see `EraRequests`). */
  eraRequests?: EraRequests;
}

/**
 * The downstream transport of a remote server: one SDK client transport (Streamable HTTP or SSE) behind the
 * router, plus what the SDK leaves to its `Client`, which the proxy does not use because it forwards the client's
 * own messages: the protocol version header after `initialize`, the handshake's order (see `HandshakeHold`), the
 * fallback to SSE, a transparent new session
 * (the client's `initialize` replayed) when the server drops one, a JSON-RPC error instead of a rejected send for a
 * request whose HTTP exchange failed (401/403 with the fix) or whose answer was due on a stream that ended first,
 * and DELETE of the session on close.
 */
export class RemoteSessionTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;

  private kind: RemoteKind;
  private inner: SdkClientTransport | undefined;
  private opening: Promise<SdkClientTransport> | undefined;
  private readonly handshake = new SessionReplay();
  private readonly inFlight = new InFlightRequests();
  private readonly hold = new HandshakeHold();
  private reinitializing: Promise<void> | undefined;
  /** Errors a failed send already dealt with: the SDK reports them to onerror too. */
  private readonly handled = new WeakSet<object>();
  /** Transports this session replaced or closed: a send cut short on one of them was cut by the proxy itself. */
  private readonly retired = new WeakSet<SdkClientTransport>();
  private authLogged = false;
  private closed = false;
  private ended: string | undefined;

  constructor(private readonly options: RemoteSessionOptions) {
    this.kind = options.mode === 'sse' ? 'sse' : 'http';
  }

  /** Why the session ended; undefined while it is open. */
  get endReason(): string | undefined {
    return this.ended;
  }

  /** The server's `Mcp-Session-Id` (Streamable HTTP). */
  get sessionId(): string | undefined {
    return this.inner?.sessionId;
  }

  start(): Promise<void> {
    // SSE opens its event stream now, while the client starts; a failure is answered to the client's initialize,
    // so the client learns why instead of seeing the proxy exit. Streamable HTTP sends nothing before initialize.
    this.opening = this.open(this.kind);
    this.opening.catch(() => undefined);
    return Promise.resolve();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.closed) throw new Error(`the session with server "${this.options.serverName}" is closed`);
    // A 2026-era request is cancelled by aborting its POST (even one not sent yet); that era has no
    // notifications/cancelled to send.
    const eraId = eraRequestId(message);
    if (eraId !== undefined) this.options.eraRequests?.expect(eraId);
    if (isCancelOf(message, (id) => this.options.eraRequests?.cancel(id) ?? false)) {
      this.inFlight.sent(message, options);
      return;
    }
    await this.hold.pass(
      message,
      () => this.sendNow(message, options),
      () => this.kind === 'http',
    );
  }

  private async sendNow(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.reinitializing) await this.reinitializing.catch(() => undefined);
    this.handshake.outgoing(message);
    options = this.inFlight.sent(message, options);
    let used: SdkClientTransport | undefined;
    try {
      used = await this.current();
      await used.send(message, options);
      this.inFlight.accept(message);
    } catch (error) {
      this.markHandled(error);
      await this.recover(message, error, options, used);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ended = 'session closed by the proxy';
    this.handshake.cancel('the proxy is closing');
    const inner = this.inner;
    if (inner?.terminateSession && inner.sessionId !== undefined) {
      const ms = this.options.timeoutMs ?? 3000;
      const ended = withDeadline(inner.terminateSession(), ms, () => {
        throw new Error(`no answer within ${ms} ms`);
      });
      await ended.catch((error: unknown) => {
        this.markHandled(error);
        this.options.logger.debug({ server: this.options.serverName, err: error }, 'could not end the remote session (DELETE)');
      });
    }
    if (inner) this.retire(inner);
    this.onclose?.();
  }

  private current(): Promise<SdkClientTransport> {
    this.opening ??= this.open(this.kind);
    // A failed open is retried by the next message: the server may be back by then.
    return this.opening.catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
  }

  private async open(kind: RemoteKind): Promise<SdkClientTransport> {
    const transport: SdkClientTransport = await this.options.create(
      kind,
      (end) => this.streamEnded(transport, end),
      () => {
        if (transport === this.inner) this.hold.getStreamAnswered();
      },
    );
    this.kind = kind;
    this.inner = transport;
    transport.onmessage = (message) => this.fromServer(transport, message);
    transport.onerror = (error) => this.innerError(transport, error);
    transport.onclose = () => this.innerClosed(transport);
    this.handshake.prepare(transport);
    try {
      await transport.start();
    } catch (error) {
      this.markHandled(error);
      throw error;
    }
    return transport;
  }

  private retire(transport: SdkClientTransport): void {
    this.retired.add(transport);
    transport.onmessage = undefined;
    transport.onerror = undefined;
    transport.onclose = undefined;
    void transport.close().catch(() => undefined);
  }

  private fromServer(transport: SdkClientTransport, message: JSONRPCMessage): void {
    // A late answer to a request the proxy failed already (its stream had ended) is dropped.
    if (transport !== this.inner || this.handshake.incoming(message, transport) || !this.inFlight.delivers(message)) return;
    if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id != null) {
      this.options.eraRequests?.settled(message.id);
    }
    this.onmessage?.(message);
  }

  private async recover(
    message: JSONRPCMessage,
    error: unknown,
    options: TransportSendOptions | undefined,
    used: SdkClientTransport | undefined,
  ): Promise<void> {
    const status = httpStatusOf(error);
    if (isInitializeRequest(message) && this.options.mode === 'auto' && this.kind === 'http' && isSseFallback(error)) {
      this.options.logger.info({ server: this.options.serverName, status }, 'no Streamable HTTP endpoint; falling back to SSE');
      if (this.inner) this.retire(this.inner);
      this.opening = this.open('sse');
      try {
        await (await this.current()).send(message, options);
      } catch (sseError) {
        this.markHandled(sseError);
        this.fail(message, sseError);
      }
      return;
    }
    const isResponse = isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
    // The session was replaced while this request was on its way (the GET stream found it gone first, and closing the
    // old transport aborted this POST): it goes again on the new session, as one that met the 404 itself does.
    const cutByReplacement = used !== undefined && this.retired.has(used) && !this.closed;
    if (!isInitializeRequest(message) && !isResponse && this.handshake.canReplay && (isSessionGone(error) || cutByReplacement)) {
      try {
        // Requests that were in flight together all fail: only the first replaces the session, the others resend.
        await (used === this.inner ? this.reinitialize() : this.reinitializing);
        await (await this.current()).send(message, options);
      } catch (retryError) {
        this.markHandled(retryError);
        this.fail(message, retryError);
      }
      return;
    }
    this.fail(message, error);
  }

  /** Answers a failed request with a JSON-RPC error; a failed notification or response is the router's to log. */
  private fail(message: JSONRPCMessage, error: unknown): void {
    const status = httpStatusOf(error);
    if (isAuthStatus(status)) this.logAuthRejected(status);
    if (!isJSONRPCRequest(message)) throw error;
    this.handshake.forget(message.id);
    this.inFlight.failed(message.id);
    // The client cancelled it (its POST was aborted): it expects no answer.
    if (this.options.eraRequests?.takeCancelled(message.id)) return;
    this.options.eraRequests?.settled(message.id);
    if (isRefusedDiscover(message.method, status)) {
      this.options.logger.debug({ server: this.options.serverName, status }, 'server/discover refused: a 2025-era server');
    } else if (!isAuthStatus(status)) {
      this.options.logger.warn(
        { server: this.options.serverName, method: message.method, err: error },
        'request to the remote server failed',
      );
    }
    this.onmessage?.(failureResponse(message.id, error, this.options));
  }

  /** Replaces a session the server dropped: a new transport, the client's initialize replayed, its answer kept. */
  private reinitialize(): Promise<void> {
    this.reinitializing ??= (async () => {
      const { serverName, logger } = this.options;
      logger.info({ server: serverName }, 'the remote session is gone (expired or server restarted); starting a new one');
      // Answers the old session still owed cannot come now: their requests fail at once, rather than wait for ever.
      // They are not sent again: the server may have carried them out.
      const cut = this.inFlight.takeAccepted();
      if (cut.length > 0) logger.warn({ server: serverName, requests: cut.length }, 'the remote session ended before it answered');
      for (const id of cut) this.onmessage?.(streamEndedResponse(id, serverName, new Error('the server dropped the session')));
      if (this.inner) this.retire(this.inner);
      this.opening = this.open(this.kind);
      await this.handshake.replay(await this.current(), this.options.timeoutMs ?? 10_000);
      logger.info({ server: serverName, kind: this.kind }, 'new remote session ready');
    })().finally(() => {
      this.reinitializing = undefined;
    });
    return this.reinitializing;
  }

  private innerError(transport: SdkClientTransport, error: Error): void {
    if (transport !== this.inner) return;
    // The SDK calls onerror and then rejects send with the same error; wait until the send's catch has had a chance
    // to claim it, so a failure that is answered to the client is not also logged as a transport error.
    setImmediate(() => {
      if (this.handled.has(error) || this.closed) return;
      const status = httpStatusOf(error);
      if (this.kind === 'sse' && status !== undefined) {
        // The SSE event stream does not retry after an HTTP error: the session is over.
        if (isAuthStatus(status)) this.logAuthRejected(status);
        this.end(
          isAuthStatus(status)
            ? authRejectedMessage(this.options.serverName, status, this.options.secretNames, this.options.profile)
            : `the server closed the SSE stream (HTTP ${status})`,
        );
      } else if (isAuthStatus(status)) {
        this.logAuthRejected(status);
      } else if (transport.sessionId !== undefined && isSessionGone(error) && this.handshake.canReplay && !this.reinitializing) {
        // The GET stream found the session gone: start the new one now rather than on the next request.
        this.reinitialize().catch((reinitError: unknown) => {
          this.options.logger.warn({ server: this.options.serverName, err: reinitError }, 'could not start a new remote session');
        });
      } else {
        this.onerror?.(error);
      }
    });
  }

  /**
   * An event stream ended: the requests whose answers it should have carried fail (the SDK resumes only a stream
   * with event ids), a moment later so that the answers it did carry pass first. An SSE session's one event stream
   * carried every answer: the session is replaced, so that the next request works.
   */
  private streamEnded(transport: SdkClientTransport, end: StreamEnd): void {
    const sseStream = this.kind === 'sse' && end.method === 'GET';
    if (end.method === 'GET' && !sseStream) return;
    setTimeout(() => {
      if (transport !== this.inner || this.closed) return;
      const lost = this.inFlight.takeLost(sseStream ? undefined : end.ids);
      if (lost.length > 0) {
        const { serverName, logger } = this.options;
        logger.warn({ server: serverName, requests: lost.length, err: end.error }, 'a stream ended before the answers it carried');
      }
      for (const id of lost) this.onmessage?.(streamEndedResponse(id, this.options.serverName, end.error));
      if (sseStream && this.handshake.canReplay && !this.reinitializing) {
        this.reinitialize().catch((error: unknown) => {
          this.options.logger.warn({ server: this.options.serverName, err: error }, 'could not start a new remote session');
        });
      }
    }, STREAM_END_GRACE_MS).unref();
  }

  private innerClosed(transport: SdkClientTransport): void {
    if (transport === this.inner) this.end('the connection to the remote server closed');
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ended = reason;
    this.handshake.cancel(reason);
    if (this.inner) this.retire(this.inner);
    this.onclose?.();
  }

  private logAuthRejected(status: number | undefined): void {
    const { serverName, logger, secretNames, profile } = this.options;
    if (status === 401 && this.options.loginRequired?.()) {
      // No key was refused: the server asks for a login, which the proxy offers (or names, headless).
      logger.info({ server: serverName }, `server "${serverName}" answered 401 with an OAuth challenge: it needs a login`);
      return;
    }
    // Once at warn is enough to be seen; every later rejection would repeat the same line.
    logger[this.authLogged ? 'debug' : 'warn'](
      { server: serverName, status, secrets: secretNames },
      authRejectedMessage(serverName, status, secretNames, profile),
    );
    if (status !== undefined) this.options.onAuthRejected?.(status);
    this.authLogged = true;
  }

  private markHandled(error: unknown): void {
    if (typeof error === 'object' && error !== null) this.handled.add(error);
  }
}

/** True when `message` cancels a request that `cancel` took care of. */
function isCancelOf(message: JSONRPCMessage, cancel: (id: RequestId) => boolean): boolean {
  if (!('method' in message) || message.method !== 'notifications/cancelled' || 'id' in message) return false;
  const id = (message.params as { requestId?: unknown } | undefined)?.requestId;
  return (typeof id === 'string' || typeof id === 'number') && cancel(id);
}
