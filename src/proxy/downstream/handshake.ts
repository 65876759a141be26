import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { InitializeRequest, JSONRPCMessage, RequestId, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { KeyproxyError } from '../../errors.js';
import { isJSONRPCErrorResponse, isJSONRPCResultResponse } from '../wire/json-rpc.js';

/** What the downstream said during the handshake. */
export interface HandshakeResult {
  /** Names of the tools it lists right after initializing. */
  toolNames: string[];
  /** The capabilities it declared in its `initialize` result. */
  capabilities: ServerCapabilities;
}

/**
 * Initializes a downstream that starts after the proxy answered the client's `initialize` itself: replays the
 * client's own `initialize` (so capability-gated features appear), sends `notifications/initialized`, and lists
 * its tools. Runs on the started transport before it is attached to the router; the replies are the proxy's, not
 * the client's. Rejects when the server ends or errors first, e.g. because it rejected its key.
 */
export async function handshake(
  transport: Transport,
  initialize: InitializeRequest,
  describeEnd: () => string | undefined,
  timeoutMs = 30_000,
): Promise<HandshakeResult> {
  const pending = new Map<RequestId, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  const fail = (error: Error): void => {
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
  };
  transport.onmessage = (message: JSONRPCMessage) => {
    if (!(isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) || message.id === undefined) return;
    const entry = pending.get(message.id);
    pending.delete(message.id);
    if (!entry) return;
    if (isJSONRPCErrorResponse(message)) entry.reject(new Error(message.error.message));
    else entry.resolve(message.result);
  };
  transport.onclose = () => fail(new Error(`it ended during start-up (${describeEnd() ?? 'connection closed'})`));
  transport.onerror = () => undefined;

  let timer: NodeJS.Timeout | undefined;
  const request = (id: string, method: string, params: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      transport.send({ jsonrpc: '2.0', id, method, params } as JSONRPCMessage).catch(reject);
    });
  try {
    timer = setTimeout(() => fail(new Error(`it did not answer initialize within ${timeoutMs / 1000} s`)), timeoutMs);
    timer.unref();
    const initialized = (await request('mcp-keyproxy-initialize', 'initialize', initialize.params)) as {
      capabilities?: ServerCapabilities;
    };
    await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const capabilities = initialized.capabilities ?? {};
    if (!capabilities.tools) return { toolNames: [], capabilities };
    const listed = (await request('mcp-keyproxy-tools', 'tools/list', {})) as { tools?: Array<{ name: string }> };
    return { toolNames: (listed.tools ?? []).map((tool) => tool.name), capabilities };
  } catch (error) {
    throw new KeyproxyError('DOWNSTREAM_FAILED', `The server could not start: ${(error as Error).message}.`, { cause: error });
  } finally {
    clearTimeout(timer);
    transport.onmessage = undefined;
    transport.onclose = undefined;
  }
}
