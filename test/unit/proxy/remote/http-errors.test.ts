import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { authRejectedMessage } from '../../../../src/proxy/remote/failure-response.js';
import { httpStatusOf, isSessionGone, isSseFallback, isSseFallbackStatus, specErrorOf } from '../../../../src/proxy/remote/http-errors.js';

describe('HTTP errors of the SDK transports', () => {
  it('finds the status in a Streamable HTTP error, an SSE stream error and an SSE POST message', () => {
    expect(httpStatusOf(new StreamableHTTPError(403, 'Error POSTing to endpoint: forbidden'))).toBe(403);
    expect(httpStatusOf(Object.assign(new Error('SSE error: Non-200 status code (401)'), { code: 401 }))).toBe(401);
    expect(httpStatusOf(new Error('Error POSTing to endpoint (HTTP 404): not found'))).toBe(404);
    expect(httpStatusOf(new TypeError('fetch failed'))).toBeUndefined();
    expect(httpStatusOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  });

  it('falls back to SSE on the answers of old servers only', () => {
    for (const status of [400, 404, 405, 406, 415]) expect(isSseFallbackStatus(status)).toBe(true);
    for (const status of [undefined, 401, 403, 408, 429, 500, 502]) expect(isSseFallbackStatus(status)).toBe(false);
  });

  it('recognises a dropped session: 404, or a 400 that speaks of the session', () => {
    expect(isSessionGone(new StreamableHTTPError(404, 'Error POSTing to endpoint: Session not found'))).toBe(true);
    expect(isSessionGone(new StreamableHTTPError(400, 'Error POSTing to endpoint: Bad Request: No valid session ID provided'))).toBe(true);
    expect(isSessionGone(new StreamableHTTPError(400, 'Error POSTing to endpoint: Parse error'))).toBe(false);
    expect(isSessionGone(new StreamableHTTPError(401, 'Error POSTing to endpoint: session'))).toBe(false);
  });

  it('finds the JSON-RPC error a 4xx or 5xx body carries, exactly as sent, and nothing else', () => {
    const unsupported = { code: -32022, message: 'Unsupported protocol version', data: { supported: ['2026-07-28'], requested: 'x' } };
    const body = (error: unknown) => `Error POSTing to endpoint: ${JSON.stringify({ jsonrpc: '2.0', id: null, error })}`;
    expect(specErrorOf(new StreamableHTTPError(400, body(unsupported)))).toEqual(unsupported);
    expect(specErrorOf(new StreamableHTTPError(404, body({ code: -32601, message: 'Method not found' })))).toEqual({
      code: -32601,
      message: 'Method not found',
    });
    // Not a JSON-RPC error: plain text, JSON without jsonrpc, a code that is not an integer, JSON null.
    expect(specErrorOf(new StreamableHTTPError(404, 'Error POSTing to endpoint: Cannot POST /mcp'))).toBeUndefined();
    expect(specErrorOf(new StreamableHTTPError(400, 'Error POSTing to endpoint: {"error":{"code":1,"message":"m"}}'))).toBeUndefined();
    expect(specErrorOf(new StreamableHTTPError(400, body({ code: 'x', message: 'm' })))).toBeUndefined();
    expect(specErrorOf(new StreamableHTTPError(400, 'Error POSTing to endpoint: null'))).toBeUndefined();
    // A server error passes as sent too; the rejected-key answers do not, nor anything below 400.
    expect(specErrorOf(new StreamableHTTPError(500, body({ code: -32603, message: 'Internal error' })))).toEqual({
      code: -32603,
      message: 'Internal error',
    });
    expect(specErrorOf(new StreamableHTTPError(302, body({ code: -32603, message: 'Internal error' })))).toBeUndefined();
    expect(specErrorOf(new StreamableHTTPError(401, body({ code: -32001, message: 'Unauthorized' })))).toBeUndefined();
    expect(specErrorOf(new TypeError('fetch failed'))).toBeUndefined();
  });

  it('falls back to SSE only when the refusal carries no JSON-RPC error, and a 404 "method not found" keeps the session', () => {
    const methodNotFound = new StreamableHTTPError(
      404,
      'Error POSTing to endpoint: {"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}',
    );
    expect(isSseFallback(new StreamableHTTPError(405, 'Error POSTing to endpoint: Method Not Allowed'))).toBe(true);
    expect(isSseFallback(methodNotFound)).toBe(false);
    expect(
      isSseFallback(
        new StreamableHTTPError(400, 'Error POSTing to endpoint: {"jsonrpc":"2.0","id":0,"error":{"code":-32020,"message":"m"}}'),
      ),
    ).toBe(false);
    expect(isSessionGone(methodNotFound)).toBe(false);
    expect(
      isSessionGone(
        new StreamableHTTPError(
          404,
          'Error POSTing to endpoint: {"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}',
        ),
      ),
    ).toBe(true);
  });

  it('names every command that fixes rejected keys, and the config when no secret is involved', () => {
    expect(authRejectedMessage('stripe', 403, ['key', 'account'], undefined)).toBe(
      'The API keys for stripe were rejected (HTTP 403); run `mcp-keyproxy secrets set stripe key` or `mcp-keyproxy secrets set stripe account` to store a valid one, then restart the server in your MCP client.',
    );
    expect(authRejectedMessage('internal', 401, [], 'work')).toContain('check the "headers" of "internal"');
  });
});
