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

function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
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

/** An error response; its id is absent when the error answers nothing in particular (a parse error). */
export function isJSONRPCErrorResponse(value: unknown): value is JSONRPCErrorResponse {
  return (
    isEnvelope(value) &&
    (value.id === undefined || isRequestId(value.id)) &&
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

/** The parsed JSON of one message, or an error that says what is wrong with it (never what it contains). */
export function toJSONRPCMessage(value: unknown): JSONRPCMessage {
  if (isJSONRPCRequest(value) || isJSONRPCNotification(value) || isJSONRPCResultResponse(value) || isJSONRPCErrorResponse(value)) {
    return value;
  }
  throw new Error('not a JSON-RPC 2.0 message (a request, notification, result or error)');
}
