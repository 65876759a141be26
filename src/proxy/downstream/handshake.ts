import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { InitializeRequest, JSONRPCMessage, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { KeyproxyError } from '../../errors.js';
import { isJSONRPCErrorResponse, isJSONRPCResultResponse } from '../wire/json-rpc.js';
import { PendingCalls } from '../core/pending-calls.js';
import { rpcError } from '../wire/rpc-error.js';
import { withDeadline } from '../../timing/deadline.js';

/** What the downstream said during the handshake. */
export interface HandshakeResult {
  /** Names of the tools it lists right after initializing. */
  toolNames: string[];
  /** The capabilities it declared in its `initialize` result. */
  capabilities: ServerCapabilities;
  /**
   * The first page of tools it listed, as it answered (`tools`, `nextCursor`); absent when it has no tools, or told
   * of a change to them before the handshake was over.
   */
  toolsPage?: Record<string, unknown>;
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
  const calls = new PendingCalls<unknown>();
  let toolsChanged = false;
  transport.onmessage = (message: JSONRPCMessage) => {
    if ('method' in message && message.method === 'notifications/tools/list_changed') toolsChanged = true;
    if (!(isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) || message.id === undefined) return;
    if (isJSONRPCErrorResponse(message)) calls.reject(message.id, rpcError(message.error.code, message.error.message, message.error.data));
    else calls.resolve(message.id, message.result);
  };
  transport.onclose = () => calls.rejectAll(new Error(`it ended during start-up (${describeEnd() ?? 'connection closed'})`));
  transport.onerror = () => undefined;

  let over = false;
  const request = (id: string, method: string, params: unknown): Promise<unknown> => {
    if (over) return Promise.reject(new Error('the handshake is over'));
    const answer = calls.register(id);
    transport.send({ jsonrpc: '2.0', id, method, params } as JSONRPCMessage).catch((error: Error) => calls.reject(id, error));
    return answer;
  };
  const steps = async (): Promise<HandshakeResult> => {
    const initialized = (await request('mcp-keyproxy-initialize', 'initialize', initialize.params)) as {
      capabilities?: ServerCapabilities;
    };
    await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const capabilities = initialized.capabilities ?? {};
    if (!capabilities.tools) return { toolNames: [], capabilities };
    const listed = (await request('mcp-keyproxy-tools', 'tools/list', {})) as { tools?: Array<{ name: string }> };
    const toolNames = (listed.tools ?? []).map((tool) => tool.name);
    return toolsChanged ? { toolNames, capabilities } : { toolNames, capabilities, toolsPage: listed };
  };
  try {
    return await withDeadline(steps(), timeoutMs, () => {
      throw new Error(`it did not answer initialize within ${timeoutMs / 1000} s`);
    });
  } catch (error) {
    throw new KeyproxyError('DOWNSTREAM_FAILED', `The server could not start: ${(error as Error).message}.`, { cause: error });
  } finally {
    // After a timeout the steps still wait: end them, and send nothing more (their rejection goes nowhere).
    over = true;
    calls.rejectAll(new Error('the handshake is over'));
    transport.onmessage = undefined;
    transport.onclose = undefined;
  }
}
