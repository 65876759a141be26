import type { InitializeRequest, InitializeResult, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { META } from './envelope.js';

/** What a 2026-era server says of itself in its `server/discover` result. */
export interface DiscoverResult {
  supportedVersions?: string[];
  capabilities?: ServerCapabilities;
  instructions?: string;
  _meta?: Record<string, unknown>;
}

/**
 * The `initialize` result a 2025 client gets from a server that speaks only the stateless era: the server's
 * capabilities, name and instructions from `server/discover`, and the protocol version the client asked for (the
 * bridge speaks it towards the client).
 */
export function initializeAnswer(initialize: InitializeRequest['params'], discover: DiscoverResult): InitializeResult {
  const info = discover._meta?.[META.serverInfo] as { name?: unknown; version?: unknown } | undefined;
  const serverInfo =
    typeof info?.name === 'string' && typeof info.version === 'string'
      ? (info as InitializeResult['serverInfo'])
      : { name: 'unknown', version: '0' };
  return {
    protocolVersion: initialize.protocolVersion,
    capabilities: discover.capabilities ?? {},
    serverInfo,
    ...(typeof discover.instructions === 'string' ? { instructions: discover.instructions } : {}),
  };
}
