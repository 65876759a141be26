import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession } from '../helpers/keyring.js';
import { connectThroughProxy, isAlive, runBin, waitFor, writeConfig } from '../helpers/proxy.js';
import { establishedConnections, remoteServerEntry, startRemoteFixture, storeSecret, type HttpServerProcess } from '../helpers/remote.js';

const token = `session-canary-${randomBytes(16).toString('hex')}`;
const id = randomBytes(4).toString('hex');
const names = { main: `e2e-remote-session-${id}`, redirect: `e2e-remote-redirect-${id}`, sse: `e2e-remote-sse-end-${id}` };
const started: HttpServerProcess[] = [];
let config: string;

async function fixture(options: Parameters<typeof startRemoteFixture>[0]): Promise<HttpServerProcess> {
  const server = await startRemoteFixture(options);
  started.push(server);
  return server;
}

async function echo(client: Awaited<ReturnType<typeof connectThroughProxy>>['client'], message: string): Promise<string> {
  return JSON.stringify((await client.callTool({ name: 'echo', arguments: { message } })).content);
}

beforeAll(() => {
  requireKeyringSession();
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.stop()));
});

afterAll(async () => {
  for (const server of Object.values(names)) await runBin(['secrets', 'clear', server, '--yes']);
});

async function configFor(servers: Record<string, Record<string, unknown>>): Promise<string> {
  config = await writeConfig(servers);
  for (const server of Object.keys(servers)) await storeSecret(config, server, 'api_key', token);
  return config;
}

describe('remote: redirects', () => {
  it('follows a redirect to another origin without the secret-bearing headers, and says so', async () => {
    const target = await fixture({});
    const origin = await fixture({ token, redirect: target.origin });
    await configFor({
      [names.redirect]: remoteServerEntry(`${origin.origin}/mcp`, {
        headers: { Authorization: 'Bearer ${secret:api_key}', 'X-Api-Key': '${secret:api_key}', 'X-Plain': 'visible' },
      }),
    });
    const { client, stderr } = await connectThroughProxy({ config, server: names.redirect });
    try {
      expect(await echo(client, 'redirected')).toContain('echo: redirected');
      const atOrigin = origin.events.filter((event) => event.event === 'request');
      const atTarget = target.events.filter((event) => event.event === 'request');
      expect(atOrigin.length).toBeGreaterThan(0);
      expect(atOrigin.every((event) => event.auth === 'ok' && event.headers?.includes('x-api-key'))).toBe(true);
      expect(atTarget.length).toBeGreaterThan(0);
      for (const event of atTarget) {
        expect(event.auth).toBe('missing');
        expect(event.headers).not.toContain('x-api-key');
        expect(event.headers).toContain('x-plain');
      }
      expect(stderr()).toContain('redirected to another origin');
      expect(stderr()).not.toContain(token);
    } finally {
      await client.close();
    }
  });
});

describe('remote: sessions', () => {
  it('re-initializes transparently with the client initialize when the server drops the session', async () => {
    const server = await fixture({ token });
    await configFor({ [names.main]: remoteServerEntry(`${server.origin}/mcp`) });
    const { client, stderr } = await connectThroughProxy({ config, server: names.main, capabilities: { sampling: {} } });
    try {
      expect(await echo(client, 'before')).toContain('echo: before');
      await fetch(`${server.origin}/__drop-sessions`, { method: 'POST' });
      expect(await echo(client, 'after drop')).toContain('echo: after drop');
      const whoami = JSON.stringify((await client.callTool({ name: 'whoami', arguments: {} })).content);
      // The new session was initialized with the client's own initialize: same clientInfo and capabilities.
      expect(whoami).toContain('\\"name\\":\\"e2e-client\\"');
      expect(whoami).toContain('\\"sampling\\":{}');
      const initializes = server.events.filter((event) => event.rpc?.includes('initialize'));
      expect(initializes.length).toBe(2);
      expect(server.events.filter((event) => event.rpc?.includes('notifications/initialized')).length).toBe(2);
      expect(stderr()).toContain('starting a new one');
    } finally {
      await client.close();
    }
  });

  it('fails a call the old session accepted when the GET stream finds the session gone, and goes on with a new one', async () => {
    const server = await fixture({ token });
    await configFor({ [names.main]: remoteServerEntry(`${server.origin}/mcp`) });
    const { client, stderr } = await connectThroughProxy({ config, server: names.main });
    try {
      expect(await echo(client, 'before')).toContain('echo: before');
      const getStreamOpen = () => server.events.some((event) => event.event === 'request' && event.method === 'GET' && event.sessionId);
      expect(await waitFor(async () => getStreamOpen(), 10_000)).toBe(true);
      // A slow call is accepted when the server forgets the session and ends the GET stream: the stream's
      // reconnection (about 1 s later) meets 404 and the session is replaced before the call's answer came. That
      // answer can no longer come: the call fails at once, saying so, rather than waiting for ever. It is not sent
      // again: the server may have carried it out.
      const slow = client.callTool({ name: 'slow_echo', arguments: { message: 'cut short', ms: 60_000 } }, undefined, { timeout: 120_000 });
      const calls = () => server.events.filter((event) => event.rpc?.includes('tools/call')).length;
      expect(await waitFor(async () => calls() === 2, 10_000)).toBe(true);
      await fetch(`${server.origin}/__drop-sessions?streams=1`, { method: 'POST' });
      await expect(slow).rejects.toThrow(/the server dropped the session\)\. The request may or may not have been carried out/);
      expect(stderr()).toContain('the remote session ended before it answered');
      expect(calls()).toBe(2);
      expect(await echo(client, 'after')).toContain('echo: after');
    } finally {
      await client.close();
    }
  });

  it('keeps working across a server restart', async () => {
    const first = await fixture({ token });
    await configFor({ [names.main]: remoteServerEntry(`${first.origin}/mcp`) });
    const { client } = await connectThroughProxy({ config, server: names.main });
    try {
      expect(await echo(client, 'before restart')).toContain('echo: before restart');
      await first.stop();
      const second = await fixture({ token, port: first.port });
      expect(await echo(client, 'after restart')).toContain('echo: after restart');
      expect(second.events.some((event) => event.rpc?.includes('initialize'))).toBe(true);
    } finally {
      await client.close();
    }
  });

  for (const how of ['stdin closed', 'SIGTERM'] as const) {
    it(`sends DELETE for the session on shutdown (${how}) and leaves no process or connection`, async () => {
      const server = await fixture({ token });
      await configFor({ [names.main]: remoteServerEntry(`${server.origin}/mcp`) });
      const { client, transport, proxyPid } = await connectThroughProxy({ config, server: names.main });
      await client.listTools();
      const session = server.events.find((event) => event.sessionId)?.sessionId;
      expect(session).toBeTruthy();
      expect(await establishedConnections(server.port)).toBeGreaterThan(0);
      if (how === 'stdin closed') await transport.close();
      else process.kill(proxyPid, how);
      expect(await waitFor(async () => !(await isAlive(proxyPid)), 8000)).toBe(true);
      expect(server.events).toContainEqual({ event: 'delete', sessionId: session });
      expect(await waitFor(async () => (await establishedConnections(server.port)) === 0, 5000)).toBe(true);
      await client.close();
    });
  }

  it('ends with a reason on stderr when an SSE server refuses the stream for good', async () => {
    const first = await fixture({ token, mode: 'sse' });
    await configFor({ [names.sse]: remoteServerEntry(`${first.origin}/sse`, { transport: 'sse' }) });
    const { client, stderr, transport, proxyPid } = await connectThroughProxy({ config, server: names.sse });
    const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
    expect(await echo(client, 'sse')).toContain('echo: sse');
    await first.stop();
    // Back on the same port with another key: the event stream reconnects and is refused with 401.
    await fixture({ token: `another-${token}`, mode: 'sse', port: first.port });
    await closed;
    expect(stderr()).toMatch(/ended unexpectedly \(The API key for e2e-remote-sse-end-\w+ was rejected \(HTTP 401\)/);
    expect(await waitFor(async () => !(await isAlive(proxyPid)), 5000)).toBe(true);
    await client.close();
  });
});
