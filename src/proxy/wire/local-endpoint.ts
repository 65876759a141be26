import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Implementation, JSONRPCMessage, JSONRPCRequest, RequestId, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { JsonRpcErrorCode } from './json-rpc.js';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './protocol-versions.js';
import { rpcError } from './rpc-error.js';

/** A request's params (an empty object when it has none). */
export type Params = Record<string, unknown>;

/**
 * Answers one request: resolves with its result, or throws an `RpcError` (see rpc-error.ts) for an error answer.
 * `signal` aborts when the client cancels the request or the endpoint closes; the answer is then dropped.
 */
export type RequestHandler = (params: Params, signal: AbortSignal) => Promise<Record<string, unknown>> | Record<string, unknown>;

/** What an endpoint says of itself in its `initialize` result. */
export interface EndpointInfo {
  serverInfo: Implementation;
  capabilities: ServerCapabilities;
  instructions?: string;
}

/**
 * A server of the proxy's own that the router reaches as a transport: the router `send`s it the client's messages
 * and it answers through `onmessage`. It answers `initialize` (the client's version when it is one we speak, the
 * newest otherwise) and `ping`, runs one handler per method, answers other methods with MethodNotFound, aborts a
 * handler's signal when the client cancels its request, and sends no request of its own.
 *
 * Hand-written, not the SDK's `Server` on an in-memory pair: that one loads the SDK's types (zod schemas, built at
 * load) and Ajv, about 25 ms of CPU in every start of the aggregate, for an endpoint that only answers. The setup
 * server, which asks the client things (elicitation), keeps the SDK's.
 */
export class LocalEndpoint implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly handlers = new Map<string, RequestHandler>();
  /** The requests being answered, by id, to abort on cancellation. */
  private readonly running = new Map<RequestId, AbortController>();
  private closed = false;

  constructor(private readonly info: EndpointInfo) {
    this.handle('ping', () => ({}));
    this.handle('initialize', (params) => this.initialize(params));
  }

  /** Answers `method` with `handler` from now on. */
  handle(method: string, handler: RequestHandler): void {
    this.handlers.set(method, handler);
  }

  async start(): Promise<void> {}

  /** A message from the client: a request is answered, a cancellation aborts its request; anything else is ignored. */
  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed || !('method' in message)) return;
    if ('id' in message) void this.answer(message);
    else if (message.method === 'notifications/cancelled') {
      const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (id !== undefined) this.running.get(id)?.abort();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const controller of this.running.values()) controller.abort();
    this.running.clear();
    this.onclose?.();
  }

  private async answer(request: JSONRPCRequest): Promise<void> {
    const controller = new AbortController();
    this.running.set(request.id, controller);
    try {
      // A turn first, so the answer never reaches the router inside its own `send`.
      await undefined;
      const handler = this.handlers.get(request.method);
      if (!handler) throw rpcError(JsonRpcErrorCode.MethodNotFound, 'Method not found');
      const result = await handler(request.params ?? {}, controller.signal);
      if (!controller.signal.aborted) this.reply({ jsonrpc: '2.0', id: request.id, result });
    } catch (error) {
      if (!controller.signal.aborted) this.reply({ jsonrpc: '2.0', id: request.id, error: errorBody(error) });
    } finally {
      if (this.running.get(request.id) === controller) this.running.delete(request.id);
    }
  }

  private reply(message: JSONRPCMessage): void {
    if (!this.closed) this.onmessage?.(message);
  }

  private initialize(params: Params): Record<string, unknown> {
    const requested = params.protocolVersion;
    const { serverInfo, capabilities, instructions } = this.info;
    return {
      protocolVersion:
        typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION,
      capabilities,
      serverInfo,
      ...(instructions === undefined ? {} : { instructions }),
    };
  }
}

/** `params[key]` when it is a string; otherwise an InvalidParams error that names it (`at`: where `params` is). */
export function stringParam(params: Params, key: string, method: string, at = 'params'): string {
  const value = params[key];
  if (typeof value !== 'string') throw rpcError(JsonRpcErrorCode.InvalidParams, `${method}: ${at}.${key} must be a string.`);
  return value;
}

/** The error of an answer: the code an `RpcError` carries (InternalError otherwise), its message and data. */
function errorBody(error: unknown): { code: number; message: string; data?: unknown } {
  const { code, message, data } = (error ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
  return {
    code: typeof code === 'number' && Number.isSafeInteger(code) ? code : JsonRpcErrorCode.InternalError,
    message: typeof message === 'string' ? message : 'Internal error',
    ...(data === undefined ? {} : { data }),
  };
}
