import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  JSONRPCResultResponse,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import {
  isInitializedNotification,
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
} from '../wire/json-rpc.js';
import { PendingCalls } from '../core/pending-calls.js';

/**
 * What a new session needs from the client's handshake: its `initialize` and `notifications/initialized` as they
 * passed, and the protocol version the server chose. The SDK's Client sets the protocol version header itself
 * after initialize; the proxy forwards raw messages, so it does that here.
 */
export class SessionReplay {
  private initialize: JSONRPCRequest | undefined;
  private initialized: JSONRPCNotification | undefined;
  private protocolVersion: string | undefined;
  private readonly initializeIds = new Set<RequestId>();
  /** The replayed `initialize`s waiting for their answers, which are kept from the client. */
  private readonly replays = new PendingCalls<JSONRPCResultResponse | JSONRPCErrorResponse>();
  private replayCount = 0;

  /** True once the client's `initialize` went out: a dropped session can then be replaced. */
  get canReplay(): boolean {
    return this.initialize !== undefined;
  }

  /** Records the handshake messages on their way to the server. */
  outgoing(message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message) && isInitializeRequest(message)) {
      this.initialize = message;
      this.initializeIds.add(message.id);
    } else if (isInitializedNotification(message)) {
      this.initialized = message;
    }
  }

  /** Sees a message from the server; true when it answers a replay and must not reach the client. */
  incoming(message: JSONRPCMessage, transport: Transport): boolean {
    if (!(isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) || message.id === undefined) return false;
    if (this.initializeIds.delete(message.id) && isJSONRPCResultResponse(message) && typeof message.result.protocolVersion === 'string') {
      this.protocolVersion = message.result.protocolVersion;
      transport.setProtocolVersion?.(this.protocolVersion);
    }
    return this.replays.resolve(message.id, message);
  }

  /** Forgets a request that will get no answer from the server. */
  forget(id: RequestId): void {
    this.initializeIds.delete(id);
  }

  /** Gives a fresh transport the protocol version already agreed. */
  prepare(transport: Transport): void {
    if (this.protocolVersion) transport.setProtocolVersion?.(this.protocolVersion);
  }

  /** Initializes a new session on `transport` with the client's own messages; the server's answer is kept. */
  async replay(transport: Transport, timeoutMs: number): Promise<void> {
    if (!this.initialize) throw new Error('no initialize to replay');
    // Its id comes from a prefix no client uses.
    const id = `mcp-keyproxy-replay-${++this.replayCount}`;
    const answer = this.replays.register(id, {
      timeoutMs,
      onTimeout: () => new Error(`no answer to the replayed initialize within ${timeoutMs} ms`),
    });
    // The caller may stop waiting (the send failed): a later rejection must not become an unhandled one.
    answer.catch(() => undefined);
    this.initializeIds.add(id);
    try {
      await transport.send({ ...this.initialize, id });
    } catch (error) {
      this.replays.reject(id, new Error('not sent'));
      throw error;
    }
    const response = await answer;
    if (isJSONRPCErrorResponse(response)) throw new Error(`the server refused the replayed initialize: ${response.error.message}`);
    if (this.initialized) await transport.send(this.initialized);
  }

  /** Stops waiting for any replay (the session is closing). */
  cancel(reason: string): void {
    this.replays.rejectAll(new Error(reason));
  }
}
