import type { JSONRPCErrorResponse, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { httpStatusOf, isAuthStatus, specErrorOf } from './http-errors.js';
import { secretsSetCommand } from '../../secrets/hints.js';
import { loginRequiredError } from '../../oauth/provider.js';
import { LOGIN_REQUIRED_MARK } from '../downstream/login-answer.js';

/** JSON-RPC error code sent to the client when the remote server refuses the configured credentials. */
export const AUTH_REJECTED_CODE = -32030;
/** JSON-RPC error code sent to the client when the remote server cannot be reached or answers with an HTTP error. */
export const REMOTE_FAILED_CODE = -32031;

/** Who the failure is about: the server, and the secrets its headers or url carry. */
export interface FailureContext {
  serverName: string;
  secretNames: readonly string[];
  /** The credential profile, named in the fix of a rejected key. */
  profile?: string;
  /**
   * True when the server has no credential of its own and its 401 carried a Bearer challenge: it wants an OAuth
   * login, and the answer says so (marked `data.login: "oauth"`) instead of blaming a key.
   */
  loginRequired?: () => boolean;
}

/** The message for rejected credentials: names the server and the exact command that fixes it, never a value. */
export function authRejectedMessage(
  serverName: string,
  status: number | undefined,
  secretNames: readonly string[],
  profile: string | undefined,
): string {
  const http = status === undefined ? '' : ` (HTTP ${status})`;
  if (secretNames.length === 0) {
    return `Server "${serverName}" rejected its credentials${http}; check the "headers" of "${serverName}" in the mcp-keyproxy config.`;
  }
  const noun = secretNames.length === 1 ? 'the API key' : 'the API keys';
  const commands = secretNames.map((name) => `\`${secretsSetCommand(serverName, name, profile)}\``).join(' or ');
  return `${noun.charAt(0).toUpperCase()}${noun.slice(1)} for ${serverName} ${secretNames.length === 1 ? 'was' : 'were'} rejected${http}; run ${commands} to store a valid one, then restart the server in your MCP client.`;
}

/** A short, value-free description of a transport failure, for the client. */
function failureSummary(error: unknown): string {
  const status = httpStatusOf(error);
  if (status !== undefined) return `HTTP ${status}`;
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (typeof cause?.code === 'string') return cause.code;
    return error.message;
  }
  return String(error);
}

/** A JSON-RPC error response for `id`. */
function errorResponse(id: RequestId, code: number, message: string, data?: Record<string, unknown>): JSONRPCErrorResponse {
  return { jsonrpc: '2.0', id, error: { code, message, ...(data ? { data } : {}) } };
}

/**
 * The answer to a request whose HTTP exchange failed: the rejected-key message for 401/403, the server's own
 * JSON-RPC error unchanged when a 4xx body carried one (see `specErrorOf`), else what failed.
 */
export function failureResponse(id: RequestId, error: unknown, context: FailureContext): JSONRPCErrorResponse {
  const { serverName, secretNames, profile } = context;
  const status = httpStatusOf(error);
  const spec = specErrorOf(error);
  if (spec !== undefined) return { jsonrpc: '2.0', id, error: spec };
  const data = { server: serverName, ...(status === undefined ? {} : { httpStatus: status }) };
  if (status === 401 && context.loginRequired?.()) {
    const why = 'it answered HTTP 401 with an OAuth challenge';
    return errorResponse(id, AUTH_REJECTED_CODE, loginRequiredError(serverName, why).message, { ...data, login: LOGIN_REQUIRED_MARK });
  }
  if (isAuthStatus(status))
    return errorResponse(id, AUTH_REJECTED_CODE, authRejectedMessage(serverName, status, secretNames, profile), data);
  return errorResponse(
    id,
    REMOTE_FAILED_CODE,
    `Server "${serverName}" could not be reached or refused the request (${failureSummary(error)}).`,
    data,
  );
}

/**
 * The answer to a request whose answer was due on an event stream that broke or closed first: nothing else will
 * answer it. The server may have carried it out, so retrying is the caller's call.
 */
export function streamEndedResponse(id: RequestId, serverName: string, error: unknown): JSONRPCErrorResponse {
  const how =
    error === undefined
      ? 'the server closed the response stream before answering'
      : `the connection broke before the answer arrived (${failureSummary(error)})`;
  return errorResponse(
    id,
    REMOTE_FAILED_CODE,
    `Server "${serverName}": ${how}. The request may or may not have been carried out; retry it if that is safe.`,
    { server: serverName, reason: 'stream-ended' },
  );
}
