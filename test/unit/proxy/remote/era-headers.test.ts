import { describe, expect, it } from 'vitest';
import { eraHeadersOf, withEraHeaders } from '../../../../src/proxy/remote/era-headers.js';

const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const body = (method: string, params: Record<string, unknown>) => JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });

/** A fetch that records the headers each request went out with. */
function recording() {
  const seen: Headers[] = [];
  const fetch = (_input: string | URL, init?: RequestInit) => {
    seen.push(new Headers(init?.headers));
    return Promise.resolve(new Response('{}', { status: 200 }));
  };
  return { fetch, seen };
}

describe('2026-era request headers', () => {
  it('names the protocol version from _meta, the method, and the target of tools/call, prompts/get and resources/read', () => {
    expect(eraHeadersOf(body('tools/call', { name: 'echo', arguments: {}, _meta: meta }))).toEqual({
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'echo',
    });
    expect(eraHeadersOf(body('resources/read', { uri: 'file:///a.txt', _meta: meta }))).toMatchObject({ 'mcp-name': 'file:///a.txt' });
    expect(eraHeadersOf(body('prompts/get', { name: 'greet', _meta: meta }))).toMatchObject({ 'mcp-name': 'greet' });
    expect(eraHeadersOf(body('tools/list', { _meta: meta }))).toEqual({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
    // A name that cannot be a header value is left out, not mangled.
    expect(eraHeadersOf(body('tools/call', { name: 'grüß', _meta: meta }))).not.toHaveProperty('mcp-name');
  });

  it('leaves 2025-era messages, batches and anything not JSON alone', () => {
    expect(eraHeadersOf(body('tools/call', { name: 'echo', _meta: { progressToken: 1 } }))).toBeUndefined();
    expect(eraHeadersOf(body('initialize', { protocolVersion: '2025-11-25' }))).toBeUndefined();
    expect(eraHeadersOf(`[${body('tools/list', { _meta: meta })}]`)).toBeUndefined();
    expect(eraHeadersOf('not json')).toBeUndefined();
    expect(eraHeadersOf(undefined)).toBeUndefined();
  });

  it('sets them on a 2026-era POST in place of the agreed version, without the session id; other requests pass as they were', async () => {
    const { fetch, seen } = recording();
    const guarded = withEraHeaders(fetch);
    const headers = { authorization: 'Bearer x', 'mcp-session-id': 's-1', 'mcp-protocol-version': '2025-11-25' };
    await guarded('https://mcp.example/mcp', { method: 'POST', headers, body: body('tools/call', { name: 'echo', _meta: meta }) });
    await guarded('https://mcp.example/mcp', { method: 'POST', headers, body: body('tools/call', { name: 'echo' }) });
    await guarded('https://mcp.example/mcp', { method: 'GET', headers });
    const [modern, legacy, get] = seen.map((h) => Object.fromEntries(h.entries()));
    expect(modern).toEqual({
      authorization: 'Bearer x',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'echo',
    });
    expect(legacy).toEqual(headers);
    expect(get).toEqual(headers);
  });
});
