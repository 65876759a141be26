import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createGuardedFetch } from '../../../../src/proxy/remote/guarded-fetch.js';

interface Hop {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that answers from a table of URL → response and records every request. */
function fakeFetch(routes: Record<string, () => Response>): {
  fetch: (url: string | URL, init?: RequestInit) => Promise<Response>;
  hops: Hop[];
} {
  const hops: Hop[] = [];
  return {
    hops,
    fetch: (url, init) => {
      expect(init?.redirect).toBe('manual');
      hops.push({
        url: String(url),
        method: init?.method ?? 'GET',
        headers: Object.fromEntries(new Headers(init?.headers).entries()),
        body: init?.body,
      });
      const route = routes[String(url)];
      return Promise.resolve(route ? route() : new Response('not found', { status: 404 }));
    },
  };
}

const redirect = (status: number, location: string) => () => new Response(null, { status, headers: { location } });
const ok = () => new Response('{}', { status: 200 });

function logCapture() {
  const lines: string[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) };
}

function guarded(routes: Record<string, () => Response>, allowHttp = false) {
  const fake = fakeFetch(routes);
  const log = logCapture();
  const fetch = createGuardedFetch({
    serverName: 'linear',
    origin: 'https://mcp.example.com',
    secretHeaders: new Set(['x-api-key']),
    allowHttp,
    logger: log.logger,
    fetch: fake.fetch,
  });
  return { fetch, hops: fake.hops, log: log.lines };
}

const headers = { Authorization: 'Bearer secret-token-123', 'X-Api-Key': 'secret-token-123', Cookie: 'a=b', 'X-Plain': 'visible' };

describe('guarded fetch', () => {
  it('keeps every header on a same-origin redirect, method and body included', async () => {
    const { fetch, hops } = guarded({ 'https://mcp.example.com/mcp': redirect(307, '/v2/mcp'), 'https://mcp.example.com/v2/mcp': ok });
    const response = await fetch('https://mcp.example.com/mcp', { method: 'POST', headers, body: '{"x":1}' });
    expect(response.status).toBe(200);
    expect(hops).toHaveLength(2);
    expect(hops[1]).toMatchObject({ url: 'https://mcp.example.com/v2/mcp', method: 'POST', body: '{"x":1}' });
    expect(hops[1]?.headers).toMatchObject({
      authorization: 'Bearer secret-token-123',
      'x-api-key': 'secret-token-123',
      'x-plain': 'visible',
    });
  });

  it('withholds secret-bearing and credential headers from another origin, and logs it without values', async () => {
    const { fetch, hops, log } = guarded({
      'https://mcp.example.com/mcp': redirect(308, 'https://other.example.net/mcp'),
      'https://other.example.net/mcp': ok,
    });
    await fetch('https://mcp.example.com/mcp', { method: 'POST', headers, body: '{}' });
    expect(hops[1]?.url).toBe('https://other.example.net/mcp');
    expect(Object.keys(hops[1]?.headers ?? {})).toEqual(['x-plain']);
    expect(log.join('\n')).toContain('redirected to another origin (https://other.example.net)');
    expect(log.join('\n')).toContain('"withheld":["authorization","cookie","x-api-key"]');
    expect(log.join('\n')).not.toContain('secret-token-123');
  });

  it('sends the headers again when a redirect chain comes back to the configured origin', async () => {
    const { fetch, hops } = guarded({
      'https://mcp.example.com/a': redirect(307, 'https://cdn.example.net/b'),
      'https://cdn.example.net/b': redirect(307, 'https://mcp.example.com/c'),
      'https://mcp.example.com/c': ok,
    });
    await fetch('https://mcp.example.com/a', { method: 'GET', headers });
    expect(hops.map((hop) => 'authorization' in hop.headers)).toEqual([true, false, true]);
  });

  it('does not follow a redirect that would turn a POST into a GET', async () => {
    const { fetch, hops } = guarded({ 'https://mcp.example.com/mcp': redirect(302, '/elsewhere') });
    const response = await fetch('https://mcp.example.com/mcp', { method: 'POST', headers, body: '{}' });
    expect(response.status).toBe(302);
    expect(hops).toHaveLength(1);
  });

  it('refuses a redirect to plain http on another host, unless allow_http', async () => {
    const routes = { 'https://mcp.example.com/mcp': redirect(307, 'http://mcp.example.com/mcp'), 'http://mcp.example.com/mcp': ok };
    await expect(guarded(routes).fetch('https://mcp.example.com/mcp', { headers })).rejects.toThrow(/plain http:\/\//);
    expect((await guarded(routes, true).fetch('https://mcp.example.com/mcp', { headers })).status).toBe(200);
  });

  it('stops after five redirects and returns the last redirect response', async () => {
    const { fetch, hops } = guarded({ 'https://mcp.example.com/loop': redirect(307, '/loop') });
    expect((await fetch('https://mcp.example.com/loop', { headers })).status).toBe(307);
    expect(hops).toHaveLength(6);
  });
});
