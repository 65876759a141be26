import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { StreamableHTTPReconnectionOptions } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { EraRequests } from './era-cancel.js';
import { withEraHeaders } from './era-headers.js';
import { watchEventStreams, type StreamEnd } from './stream-watch.js';

/** The wire protocol of one remote session. */
export type RemoteKind = 'http' | 'sse';

/** What every SDK client transport to the server is built from. */
export interface InnerTransportOptions {
  url: URL;
  /** Resolved headers, secrets included; they travel only through the guarded fetch. */
  headers: Record<string, string>;
  fetch: FetchLike;
  /** The OAuth provider of a server with `auth`: the SDK asks it for tokens and runs `auth()` with it on a 401. */
  authProvider?: OAuthClientProvider;
  reconnection?: StreamableHTTPReconnectionOptions;
  /** Told when an event stream of this transport ends (see `watchEventStreams`). */
  onStreamEnd?: (end: StreamEnd) => void;
  /** Told when a GET that opens an event stream was answered or failed (see `watchEventStreams`). */
  onGetAnswered?: () => void;
  /** The open 2026-era requests, each POST abortable on its own (see `EraRequests`). */
  eraRequests?: EraRequests;
}

/** An SDK client transport, with the Streamable HTTP session extras when it has them. */
export type SdkClientTransport = Transport & { terminateSession?: () => Promise<void>; readonly sessionId?: string | undefined };

/**
 * The server's GET stream reconnects with growing delays: 0.5 s, 0.75 s, … up to 30 s, for about two minutes
 * per outage (the SDK's default gives up after two tries).
 */
const DEFAULT_RECONNECTION: StreamableHTTPReconnectionOptions = {
  initialReconnectionDelay: 500,
  maxReconnectionDelay: 30_000,
  reconnectionDelayGrowFactor: 1.5,
  maxRetries: 12,
};

/** Creates (not starts) an SDK client transport of `kind`. SSE is loaded only when used: it is rarely needed. */
export async function createInnerTransport(kind: RemoteKind, options: InnerTransportOptions): Promise<SdkClientTransport> {
  const base = kind === 'http' ? withEraHeaders(options.fetch, options.eraRequests) : options.fetch;
  const fetch = options.onStreamEnd ? watchEventStreams(base, options.onStreamEnd, options.onGetAnswered) : base;
  const common = {
    requestInit: { headers: options.headers },
    fetch,
    redirectPolicy: 'follow' as const,
    ...(options.authProvider ? { authProvider: options.authProvider } : {}),
  };
  if (kind === 'http') {
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    return new StreamableHTTPClientTransport(options.url, { ...common, reconnectionOptions: options.reconnection ?? DEFAULT_RECONNECTION });
  }
  const { SSEClientTransport } = await import('@modelcontextprotocol/sdk/client/sse.js');
  return new SSEClientTransport(options.url, common);
}
