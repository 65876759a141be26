import { randomBytes } from 'node:crypto';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession } from '../helpers/keyring.js';
import { connectThroughProxy, runBin, writeConfig } from '../helpers/proxy.js';
import { remoteServerEntry, startRemoteFixture, storeSecret, type HttpServerProcess } from '../helpers/remote.js';

const token = `remote-canary-${randomBytes(16).toString('hex')}`;
const id = randomBytes(4).toString('hex');
const names = {
  http: `e2e-remote-http-${id}`,
  auto: `e2e-remote-auto-${id}`,
  sse: `e2e-remote-sse-${id}`,
  wrong: `e2e-remote-wrong-${id}`,
  wrongSse: `e2e-remote-wrong-sse-${id}`,
  missing: `e2e-remote-missing-${id}`,
};
let httpServer: HttpServerProcess;
let sseServer: HttpServerProcess;
let config: string;

beforeAll(async () => {
  requireKeyringSession();
  [httpServer, sseServer] = await Promise.all([startRemoteFixture({ token }), startRemoteFixture({ token, mode: 'sse' })]);
  config = await writeConfig({
    [names.http]: remoteServerEntry(`${httpServer.origin}/mcp`, { transport: 'http' }),
    [names.auto]: remoteServerEntry(`${sseServer.origin}/sse`),
    [names.sse]: remoteServerEntry(`${sseServer.origin}/sse`, { transport: 'sse' }),
    [names.wrong]: remoteServerEntry(`${httpServer.origin}/mcp`),
    [names.wrongSse]: remoteServerEntry(`${sseServer.origin}/sse`, { transport: 'sse' }),
    [names.missing]: { ...remoteServerEntry(`${httpServer.origin}/mcp`), secrets: { api_key: { label: 'API key', required: false } } },
  });
  for (const server of [names.http, names.auto, names.sse]) await storeSecret(config, server, 'api_key', token);
  for (const server of [names.wrong, names.wrongSse])
    await storeSecret(config, server, 'api_key', `not-the-token-${randomBytes(8).toString('hex')}`);
});

afterAll(async () => {
  await Promise.all([httpServer?.stop(), sseServer?.stop()]);
  for (const server of Object.values(names)) await runBin(['secrets', 'clear', server, '--yes']);
});

describe('remote: the API key from the keychain as a header', () => {
  for (const [label, server, fixture] of [
    ['Streamable HTTP', () => names.http, () => httpServer],
    ['auto, falling back to SSE', () => names.auto, () => sseServer],
    ['SSE', () => names.sse, () => sseServer],
  ] as const) {
    it(`${label}: the header arrives, tools work, clientInfo passes unchanged, the key never leaks`, async () => {
      const before = fixture().events.length;
      const { client, stderr } = await connectThroughProxy({
        config,
        server: server(),
        capabilities: { sampling: {} },
        extraArgs: ['--log-level', 'trace'],
      });
      try {
        const tools = (await client.listTools()).tools.map((tool) => tool.name);
        expect(tools).toEqual(expect.arrayContaining(['echo', 'whoami']));
        const echoed = await client.callTool({ name: 'echo', arguments: { message: 'through the proxy' } });
        expect(JSON.stringify(echoed.content)).toContain('echo: through the proxy');
        const whoami = JSON.stringify((await client.callTool({ name: 'whoami', arguments: {} })).content);
        expect(whoami).toContain('\\"name\\":\\"e2e-client\\"');
        expect(whoami).toContain('\\"sampling\\":{}');

        const requests = fixture()
          .events.slice(before)
          .filter((event) => event.event === 'request');
        expect(requests.length).toBeGreaterThan(0);
        expect(requests.every((request) => request.auth === 'ok')).toBe(true);
        expect(requests.some((request) => request.headers?.includes('x-plain'))).toBe(true);
        // One session only: a single initialize, the client's own.
        expect(requests.filter((request) => request.rpc?.includes('initialize') && request.path !== '/sse').length).toBe(1);
        expect(stderr()).not.toContain(token);
        expect(JSON.stringify([tools, echoed, whoami])).not.toContain(token);
      } finally {
        await client.close();
      }
    });
  }

  for (const [label, server] of [
    ['a wrong key (Streamable HTTP)', () => names.wrong],
    ['a wrong key (SSE)', () => names.wrongSse],
    ['a missing optional key', () => names.missing],
  ] as const) {
    it(`${label} gives the client a clear error naming the fix, logged without the value`, async () => {
      const attempt = connectThroughProxy({ config, server: server(), extraArgs: ['--log-level', 'debug'] });
      const error = await attempt.then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      expect(error).toBeInstanceOf(McpError);
      const message = (error as McpError).message;
      expect(message).toContain(`run \`mcp-keyproxy secrets set ${server()} api_key\``);
      expect(message).toMatch(new RegExp(`The API key for ${server()} was rejected \\(HTTP 401\\)`));
      expect(message).not.toContain(token);
    });
  }
});

describe('remote: a long session', () => {
  it('stays quiet on stderr over hundreds of calls (no MaxListenersExceededWarning from shared abort signals)', async () => {
    const { client, stderr } = await connectThroughProxy({ config, server: names.http, extraArgs: ['--log-level', 'warn'] });
    try {
      // Node warns at the 11th listener on one signal: a listener left behind per call shows long before 300.
      for (let i = 0; i < 300; i++) await client.callTool({ name: 'echo', arguments: { message: `call ${i}` } });
      expect(stderr()).toBe('');
    } finally {
      await client.close();
    }
  }, 120_000);
});

describe('remote: doctor', () => {
  it('reports whether each remote server answers and accepts its key, without printing the key', async () => {
    const doctorConfig = await writeConfig({
      [names.http]: remoteServerEntry(`${httpServer.origin}/mcp`, { transport: 'http' }),
      [names.wrong]: remoteServerEntry(`${httpServer.origin}/mcp`),
    });
    const deletes = httpServer.events.filter((event) => event.event === 'delete').length;
    const result = await runBin(['doctor', '--config', doctorConfig]);
    expect(result.stdout).toMatch(
      new RegExp(
        `OK +${names.http}: remote server http://127\\.0\\.0\\.1:\\d+ answered \\(remote-fixture 1\\.0\\.0\\) and accepted its credentials`,
      ),
    );
    expect(result.stdout).toMatch(
      new RegExp(
        `FAIL +${names.wrong}: The API key for ${names.wrong} was rejected \\(HTTP 401\\); run \`mcp-keyproxy secrets set ${names.wrong} api_key\``,
      ),
    );
    expect(result.code).toBe(1);
    expect(`${result.stdout}${result.stderr}`).not.toContain(token);
    // The doctor's session is ended like the proxy's.
    expect(httpServer.events.filter((event) => event.event === 'delete').length).toBe(deletes + 1);
  });
});

describe('remote: URL policy', () => {
  it('refuses plain http to a non-loopback host without allow_http, before any network use', async () => {
    const server = `e2e-remote-cleartext-${id}`;
    const cleartext = await writeConfig({ [server]: remoteServerEntry('http://mcp.example.invalid/mcp') });
    const result = await runBin(['run', server, '--config', cleartext, '--headless']);
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('plain http:// to a non-loopback host');
    expect(result.stderr).toContain('allow_http');
  });
});
