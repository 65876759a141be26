import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/** The `_meta` key that marks a 2026-era message and names its protocol version. */
export const PROTOCOL_VERSION_META = 'io.modelcontextprotocol/protocolVersion';

/** Which parameter names the target of a method, for the `Mcp-Name` header. */
const NAME_PARAMS: Record<string, string> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

/** Header values must be visible ASCII: a name that is not is left out rather than mangled. */
const HEADER_SAFE = /^[\x20-\x7e]+$/;

/** The 2026-era headers a POST body calls for; undefined when it is not one 2026-era message. */
export function eraHeadersOf(body: unknown): Record<string, string> | undefined {
  if (typeof body !== 'string') return undefined;
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  const { method, params } = message as { method?: unknown; params?: { _meta?: Record<string, unknown> } & Record<string, unknown> };
  const version = params?._meta?.[PROTOCOL_VERSION_META];
  if (typeof method !== 'string' || typeof version !== 'string' || !HEADER_SAFE.test(version)) return undefined;
  const headers: Record<string, string> = { 'mcp-protocol-version': version, 'mcp-method': method };
  const nameParam = NAME_PARAMS[method];
  const name = nameParam === undefined ? undefined : params?.[nameParam];
  if (typeof name === 'string' && HEADER_SAFE.test(name)) headers['mcp-name'] = name;
  return headers;
}

/**
 * A fetch that gives each 2026-era message (its `_meta` names a protocol version) the headers that era requires:
 * `MCP-Protocol-Version` from that `_meta` (not the one a 2025 `initialize` agreed), `Mcp-Method`, and `Mcp-Name`
 * for tools/call, prompts/get and resources/read; and no session id, which that era does not have. Every other
 * request passes unchanged.
 */
export function withEraHeaders(fetch: FetchLike): FetchLike {
  return (input, init) => {
    const era = (init?.method ?? 'GET').toUpperCase() === 'POST' ? eraHeadersOf(init?.body) : undefined;
    if (!era) return fetch(input, init);
    const headers = new Headers(init?.headers);
    headers.delete('mcp-session-id');
    for (const [name, value] of Object.entries(era)) headers.set(name, value);
    return fetch(input, { ...init, headers });
  };
}
