import type { JSONRPCErrorResponse } from '@modelcontextprotocol/sdk/types.js';

/** The error object of a JSON-RPC error response. */
export type JsonRpcErrorObject = JSONRPCErrorResponse['error'];

/**
 * The HTTP status behind an SDK transport error, when there is one. The Streamable HTTP transport and the SSE
 * event stream put it in `code`; the SSE transport's POST puts it only in the message ("(HTTP 404)").
 */
export function httpStatusOf(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'number' && code >= 100 && code <= 599) return code;
  const match = /\(HTTP (\d{3})\)/.exec(error.message);
  return match ? Number(match[1]) : undefined;
}

/** True for 401 and 403: the server refused the credentials. */
export function isAuthStatus(status: number | undefined): boolean {
  return status === 401 || status === 403;
}

/** How the SDK's Streamable HTTP transport words an HTTP error answer to a POST: this marker, then the body. */
const POST_ERROR_MARKER = 'Error POSTing to endpoint: ';

/**
 * The JSON-RPC error a server sent as the body of a 4xx or 5xx answer to a POST (e.g. -32020, -32021, -32022 with
 * its `data.supported`, 404 with -32601, a 500 with the server's internal error), exactly as sent; undefined when
 * the body is anything else. Clients choose the protocol era from these errors, so they pass to the client
 * unchanged. 401/403 are left out: their answer names the command that fixes the key.
 */
export function specErrorOf(error: unknown): JsonRpcErrorObject | undefined {
  const status = httpStatusOf(error);
  if (status === undefined || status < 400 || status > 599 || isAuthStatus(status)) return undefined;
  const { message } = error as Error;
  const at = message.indexOf(POST_ERROR_MARKER);
  if (at < 0) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(message.slice(at + POST_ERROR_MARKER.length));
  } catch {
    return undefined;
  }
  const { jsonrpc, error: candidate } = (typeof body === 'object' && body !== null ? body : {}) as { jsonrpc?: unknown; error?: unknown };
  if (jsonrpc !== '2.0' || typeof candidate !== 'object' || candidate === null) return undefined;
  const { code, message: text } = candidate as { code?: unknown; message?: unknown };
  return Number.isInteger(code) && typeof text === 'string' ? (candidate as JsonRpcErrorObject) : undefined;
}

/**
 * How old HTTP+SSE servers answer a Streamable HTTP POST (no such route, or method not allowed): the cue to fall
 * back to SSE. Auth, timeout and rate-limit answers are not: they mean the endpoint exists. Neither is an answer
 * whose body is a JSON-RPC error: that is a Streamable HTTP server speaking (e.g. refusing the protocol version).
 */
export function isSseFallback(error: unknown): boolean {
  return isSseFallbackStatus(httpStatusOf(error)) && specErrorOf(error) === undefined;
}

/** The status half of `isSseFallback`. */
export function isSseFallbackStatus(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status);
}

/** Spec errors that are about the request, never about the session: -32601, and the 2026 era's header errors. */
const NOT_SESSION_CODES = new Set([-32601, -32020, -32021, -32022]);

/**
 * True when the server says the session is gone: 404 per the spec; many servers built from the SDK examples
 * answer 400 "No valid session ID provided" instead, so a 400 that speaks of the session counts too. A 404
 * carrying "method not found" (or a protocol-version error) is about the request, not the session.
 */
export function isSessionGone(error: unknown): boolean {
  const status = httpStatusOf(error);
  const spec = specErrorOf(error);
  if (spec !== undefined && NOT_SESSION_CODES.has(spec.code)) return false;
  if (status === 404) return true;
  return status === 400 && error instanceof Error && /session/i.test(error.message);
}
