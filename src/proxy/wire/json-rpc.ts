import type {
  InitializeRequest,
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  JSONRPCResultResponse,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';

/**
 * JSON-RPC 2.0 message shapes, checked by hand. The SDK's guards run a zod schema per call and loading its
 * schemas costs tens of milliseconds at start-up; the proxy only needs to tell the four kinds of message apart
 * and find their ids, on every message it forwards.
 */

/** The error codes the proxy answers with (the values of the SDK's `ErrorCode`). */
export const JsonRpcErrorCode = {
  ConnectionClosed: -32000,
  RequestTimeout: -32001,
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON-RPC allows any number as an id (`1.5`, `1e300`); only one JSON.parse cannot hold (`1e400`) is refused. */
function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function isEnvelope(value: unknown): value is Fields {
  return isObject(value) && value.jsonrpc === '2.0';
}

export function isJSONRPCRequest(value: unknown): value is JSONRPCRequest {
  return (
    isEnvelope(value) && typeof value.method === 'string' && isRequestId(value.id) && (value.params === undefined || isObject(value.params))
  );
}

export function isJSONRPCNotification(value: unknown): value is JSONRPCNotification {
  return (
    isEnvelope(value) && typeof value.method === 'string' && !('id' in value) && (value.params === undefined || isObject(value.params))
  );
}

export function isJSONRPCResultResponse(value: unknown): value is JSONRPCResultResponse {
  return isEnvelope(value) && isRequestId(value.id) && isObject(value.result);
}

/**
 * An error response; its id is absent or null when the error answers nothing in particular (a parse error). Such an
 * error is never answered: two peers that answered each other's would never stop.
 */
export function isJSONRPCErrorResponse(value: unknown): value is JSONRPCErrorResponse {
  return (
    isEnvelope(value) &&
    (value.id === undefined || value.id === null || isRequestId(value.id)) &&
    isObject(value.error) &&
    typeof value.error.code === 'number' &&
    typeof value.error.message === 'string'
  );
}

export function isInitializeRequest(value: unknown): value is InitializeRequest {
  return isJSONRPCRequest(value) && value.method === 'initialize' && isObject(value.params);
}

export function isInitializedNotification(value: unknown): value is JSONRPCNotification {
  return isJSONRPCNotification(value) && value.method === 'notifications/initialized';
}

/**
 * A frame that is not a message: what is wrong with it (never what it contains) and the JSON-RPC error code it is
 * answered with, -32700 (not JSON) or -32600 (not a valid request or other message).
 */
export class InvalidFrameError extends Error {
  constructor(
    readonly code: typeof JsonRpcErrorCode.ParseError | typeof JsonRpcErrorCode.InvalidRequest,
    readonly reason: string,
    message = `skipped a line that is not JSON-RPC: ${reason}`,
  ) {
    super(message);
    this.name = 'InvalidFrameError';
  }
}

/** The answer to an invalid frame: its id could not be read, so it is null, as JSON-RPC 2.0 requires. */
export function invalidFrameReply(error: InvalidFrameError): JSONRPCMessage {
  const kind = error.code === JsonRpcErrorCode.ParseError ? 'Parse error' : 'Invalid Request';
  // `id: null` is what JSON-RPC 2.0 specifies here; the SDK's types only know an absent id.
  return { jsonrpc: '2.0', id: null, error: { code: error.code, message: `${kind}: ${error.reason}.` } } as unknown as JSONRPCMessage;
}

/**
 * True when `value` carries members of both a request (`method`, `params`) and a response (`result`, `error`), or
 * both `result` and `error`: JSON-RPC 2.0 forbids the latter, and no peer can tell which the former is (the SDK's
 * strict schemas drop such a line without an answer, so the sender would wait for ever). Other members a future
 * revision may add pass untouched.
 */
function mixesKinds(value: Fields): boolean {
  const response = 'result' in value || 'error' in value;
  return (response && ('method' in value || 'params' in value)) || ('result' in value && 'error' in value);
}

/** The parsed JSON of one message, or an `InvalidFrameError` that says what is wrong with it. */
export function toJSONRPCMessage(value: unknown): JSONRPCMessage {
  if (isObject(value) && mixesKinds(value)) {
    throw new InvalidFrameError(JsonRpcErrorCode.InvalidRequest, 'it mixes the members of a request and of a response');
  }
  if (isJSONRPCRequest(value) || isJSONRPCNotification(value) || isJSONRPCResultResponse(value) || isJSONRPCErrorResponse(value)) {
    return value;
  }
  throw new InvalidFrameError(JsonRpcErrorCode.InvalidRequest, fault(value));
}

/** Why `value`, which no guard accepted, is not a message (only the first fault found). */
function fault(value: unknown): string {
  if (Array.isArray(value)) return 'a batch (a JSON array): MCP has no batches since 2025-06-18, send one message per line';
  if (!isObject(value)) return 'not a JSON object';
  if (value.jsonrpc !== '2.0') return 'the "jsonrpc" member is not "2.0"';
  if (value.id === null) return 'the id is null: an MCP id is a string or a number';
  if ('id' in value && !isRequestId(value.id)) return 'the id is not a string or a number';
  if ('method' in value || !('result' in value || 'error' in value)) {
    if (typeof value.method !== 'string') return 'a request or notification without a string "method"';
    return 'the "params" member is not an object';
  }
  if (!('id' in value)) return 'a response without an id';
  if ('result' in value && !isObject(value.result)) return 'the "result" member is not an object';
  return 'the "error" member is not an object with a number "code" and a string "message"';
}
