import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { authRejectedMessage } from '../../../../src/proxy/remote/failure-response.js';
import { httpStatusOf, isSessionGone, isSseFallbackStatus } from '../../../../src/proxy/remote/http-errors.js';

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

  it('names every command that fixes rejected keys, and the config when no secret is involved', () => {
    expect(authRejectedMessage('stripe', 403, ['key', 'account'])).toBe(
      'The API keys for stripe were rejected (HTTP 403); run `mcp-keyproxy secrets set stripe key` or `mcp-keyproxy secrets set stripe account` to store a valid one, then restart the server in your MCP client.',
    );
    expect(authRejectedMessage('internal', 401, [])).toContain('check the "headers" of "internal"');
  });
});
