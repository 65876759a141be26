/** A JSON-RPC error as the SDK's protocol layer sends it. */
export type RpcError = Error & { code: number; data?: unknown };

/**
 * An error that an SDK request handler reports to its peer as `{code, message, data}`. Unlike the SDK's
 * `McpError` its message is not prefixed with "MCP error <code>:", which the receiving client adds again.
 */
export function rpcError(code: number, message: string, data?: unknown): RpcError {
  return Object.assign(new Error(message), { code, ...(data === undefined ? {} : { data }) });
}
