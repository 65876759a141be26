import type { InitializeRequest, JSONRPCErrorResponse } from '@modelcontextprotocol/sdk/types.js';

/**
 * The 2026-07-28 per-request `_meta` envelope: a 2026-era request names its protocol version and the client's
 * capabilities (and who the client is, and the log level it wants) instead of agreeing on them once in
 * `initialize`.
 */
export const META = {
  version: 'io.modelcontextprotocol/protocolVersion',
  capabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** The stateless protocol versions the bridge speaks, newest first. */
export const MODERN_VERSIONS: readonly string[] = ['2026-07-28'];

/** The error a server answers a request in a protocol version it does not speak with (data: `supported`). */
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/** The client capabilities the 2026 era knows (2025's `tasks` has no 2026 counterpart). */
const MODERN_CAPABILITIES = ['experimental', 'sampling', 'elicitation', 'roots', 'extensions'] as const;

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `_meta` a 2025 client's requests carry once bridged: what its `initialize` said, in the 2026 shape. */
export function envelopeFrom(initialize: InitializeRequest['params'], version: string): Fields {
  const declared: Fields = isObject(initialize.capabilities) ? initialize.capabilities : {};
  const capabilities: Fields = {};
  for (const name of MODERN_CAPABILITIES) if (declared[name] !== undefined) capabilities[name] = declared[name];
  return {
    [META.version]: version,
    [META.capabilities]: capabilities,
    ...(isObject(initialize.clientInfo) ? { [META.clientInfo]: initialize.clientInfo } : {}),
  };
}

/** `params` with the envelope added to its `_meta` (keys the request set itself, e.g. its progress token, kept). */
export function stamped(params: Fields | undefined, envelope: Fields): Fields {
  const meta = isObject(params?._meta) ? params._meta : {};
  return { ...params, _meta: { ...meta, ...envelope } };
}

/**
 * The stateless version to bridge to when a server refused `initialize` with -32022: the newest of its
 * `supported` versions that the bridge speaks; undefined for any other answer.
 */
export function modernVersionOffered(error: JSONRPCErrorResponse['error']): string | undefined {
  if (error.code !== UNSUPPORTED_PROTOCOL_VERSION || !isObject(error.data) || !Array.isArray(error.data.supported)) return undefined;
  const supported = error.data.supported as unknown[];
  return MODERN_VERSIONS.find((version) => supported.includes(version));
}
