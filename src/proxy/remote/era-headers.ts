import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { EraRequests } from './era-cancel.js';

/** The `_meta` key that marks a 2026-era message and names its protocol version. */
export const PROTOCOL_VERSION_META = 'io.modelcontextprotocol/protocolVersion';

/** Which parameter names the target of a method, for the `Mcp-Name` header. */
const NAME_PARAMS: Record<string, string> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

/** Header values must be visible ASCII: a name that is not is left out rather than mangled. */
const HEADER_SAFE = /^[\x20-\x7e]+$/;

/** The 2026-era headers a POST body calls for; undefined when it is not one 2026-era message. */
export function eraHeadersOf(body: unknown): Record<string, string> | undefined {
  return eraMessageOf(body)?.headers;
}

/** The id of a 2026-era request (its `_meta` names a protocol version); undefined for anything else. */
export function eraRequestId(message: JSONRPCMessage): RequestId | undefined {
  if (!('method' in message) || !('id' in message)) return undefined;
  const meta = (message.params as { _meta?: Record<string, unknown> } | undefined)?._meta;
  return typeof meta?.[PROTOCOL_VERSION_META] === 'string' ? message.id : undefined;
}

/** The headers of a 2026-era POST body, and the id of its request (none for a notification). */
function eraMessageOf(body: unknown): { headers: Record<string, string>; id?: RequestId } | undefined {
  if (typeof body !== 'string') return undefined;
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  const { method, params, id } = message as {
    method?: unknown;
    params?: { _meta?: Record<string, unknown> } & Record<string, unknown>;
    id?: unknown;
  };
  const version = params?._meta?.[PROTOCOL_VERSION_META];
  if (typeof method !== 'string' || typeof version !== 'string' || !HEADER_SAFE.test(version)) return undefined;
  const headers: Record<string, string> = { 'mcp-protocol-version': version, 'mcp-method': method };
  const nameParam = NAME_PARAMS[method];
  const name = nameParam === undefined ? undefined : params?.[nameParam];
  if (typeof name === 'string' && HEADER_SAFE.test(name)) headers['mcp-name'] = name;
  return { headers, ...(typeof id === 'string' || typeof id === 'number' ? { id } : {}) };
}

/**
 * A fetch that gives each 2026-era message (its `_meta` names a protocol version) the headers that era requires:
 * `MCP-Protocol-Version` from that `_meta` (not the one a 2025 `initialize` agreed), `Mcp-Method`, and `Mcp-Name`
 * for tools/call, prompts/get and resources/read; and no session id, which that era does not have. A request's POST
 * follows its abort in `requests` too, which is how the era cancels it. Every other request passes unchanged.
 */
export function withEraHeaders(fetch: FetchLike, requests?: EraRequests): FetchLike {
  return (input, init) => {
    const era = (init?.method ?? 'GET').toUpperCase() === 'POST' ? eraMessageOf(init?.body) : undefined;
    if (!era) return fetch(input, init);
    const headers = new Headers(init?.headers);
    headers.delete('mcp-session-id');
    for (const [name, value] of Object.entries(era.headers)) headers.set(name, value);
    const signal = era.id !== undefined && requests ? requests.signalFor(era.id, init?.signal ?? undefined) : init?.signal;
    return fetch(input, { ...init, headers, signal });
  };
}
