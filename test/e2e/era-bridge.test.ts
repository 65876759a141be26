import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioClientTransportV2 } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { V2_FIXTURE_TOOLS, prefixed, runCell } from '../helpers/era-clients.js';
import { startGetStreamFixture } from '../helpers/remote.js';
import { binPath, connectThroughProxy, inheritedEnv, waitFor, writeConfig } from '../helpers/proxy.js';
import { eraStdio, startEraHttp, type EraHttpServer } from '../helpers/era-servers.js';

const stdioModern = { ...eraStdio('modern'), confirm: false };
let httpModern: EraHttpServer;

beforeAll(async () => {
  httpModern = await startEraHttp('modern');
});

afterAll(async () => {
  await httpModern?.stop();
});

function proxyTarget(config: string, server: string) {
  return { command: process.execPath, args: [binPath, 'run', server, '--config', config], env: inheritedEnv() };
}

describe('era bridge: a 2025 client (SDK 1.32) and a server that speaks only 2026-07-28', { timeout: 90_000 }, () => {
  it('direct, the server refuses the client; through the proxy every step works (stdio)', async () => {
    const direct = await runCell('sdk-1.32', { command: process.execPath, args: stdioModern.args }, V2_FIXTURE_TOOLS);
    expect(direct.steps.connect).toBe(false);
    expect(direct.errors.connect).toContain('-32022');
    const config = await writeConfig({ modern: stdioModern });
    const bridged = await runCell('sdk-1.32', proxyTarget(config, 'modern'), V2_FIXTURE_TOOLS);
    expect(bridged.errors).toEqual({});
  });

  it('through the proxy every step works (Streamable HTTP)', async () => {
    const config = await writeConfig({ modern: { url: httpModern.url, confirm: false } });
    const bridged = await runCell('sdk-1.32', proxyTarget(config, 'modern'), V2_FIXTURE_TOOLS);
    expect(bridged.errors).toEqual({});
  });

  it('answers ping and logging/setLevel itself and turns subscriptions/listen events into list_changed', async () => {
    const config = await writeConfig({ modern: stdioModern });
    const client = new Client({ name: 'bridge-test', version: '1' }, { capabilities: {} });
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (changed += 1));
    await client.connect(new StdioClientTransport({ ...proxyTarget(config, 'modern'), stderr: 'ignore' }));
    try {
      expect(client.getServerCapabilities()?.tools).toMatchObject({ listChanged: true });
      await expect(client.ping()).resolves.toEqual({});
      await expect(client.setLoggingLevel('debug')).resolves.toEqual({});
      expect((await client.listTools()).tools.map((tool) => tool.name)).not.toContain('grown');
      await client.callTool({ name: 'grow', arguments: {} });
      expect(await waitFor(() => changed > 0, 10_000)).toBe(true);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('grown');
    } finally {
      await client.close();
    }
  });
});

describe('remote: 2026-era requests', { timeout: 90_000 }, () => {
  it('cancels a 2026-era request by closing its POST (a v2 client pinned to 2026-07-28 cancels a tool call)', async () => {
    const config = await writeConfig({ modern: { url: httpModern.url, confirm: false } });
    const client = new ClientV2({ name: 'cancel-test', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StdioClientTransportV2({ ...proxyTarget(config, 'modern'), stderr: 'ignore' }));
    try {
      const count = (name: string) => httpModern.events.filter((event) => event === name).length;
      const [started, cancelled] = [count('slow-started'), count('cancelled')];
      const abort = new AbortController();
      const call = client.callTool({ name: 'slow', arguments: {} }, { signal: abort.signal });
      const rejected = expect(call).rejects.toThrow();
      expect(await waitFor(() => count('slow-started') > started, 15_000)).toBe(true);
      abort.abort('enough');
      await rejected;
      expect(await waitFor(() => count('cancelled') > cancelled, 10_000)).toBe(true);
      // The session goes on.
      expect(await client.callTool({ name: 'echo', arguments: { message: 'after' } })).toMatchObject({
        content: [{ type: 'text', text: 'echo: after' }],
      });
    } finally {
      await client.close();
    }
  });

  it('passes a 5xx answer with a JSON-RPC error body to the client as the server sent it', async () => {
    const config = await writeConfig({ failing: { url: `${httpModern.origin}/fail`, confirm: false } });
    const refused = await runCell('sdk-1.32', proxyTarget(config, 'failing'), V2_FIXTURE_TOOLS);
    expect(refused.errors.connect).toContain('fixture failed inside');
    const client = new Client({ name: 'fail-test', version: '1' }, { capabilities: {} });
    const error = await client.connect(new StdioClientTransport({ ...proxyTarget(config, 'failing'), stderr: 'ignore' })).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    await client.close();
    expect(error).toMatchObject({ code: -32603, data: { where: 'fixture' } });
  });
});

describe('aggregate: members of the 2026 era', { timeout: 90_000 }, () => {
  it('a 2026-only member joins through the bridge: a 2025 client passes every step through the aggregate', async () => {
    const config = await writeConfig({ modern: stdioModern });
    const target = { command: process.execPath, args: [binPath, 'run', '--config', config], env: inheritedEnv() };
    const result = await runCell('sdk-1.32', target, prefixed(V2_FIXTURE_TOOLS, 'modern'));
    expect(result.errors).toEqual({});
  });

  it('a member that refuses every protocol version mcp-keyproxy speaks is failed for good, with a clear status', async () => {
    const refusing = await startGetStreamFixture();
    try {
      const config = await writeConfig({ refusing: { url: `${refusing.origin}/refuse`, confirm: false } });
      const { client } = await connectThroughProxy({ config });
      try {
        const status = async () => JSON.stringify(await client.callTool({ name: 'keyproxy__status', arguments: {} }));
        expect(await waitFor(async () => (await status()).includes('failed'), 20_000)).toBe(true);
        expect(await status()).toContain('speaks none of the protocol versions mcp-keyproxy speaks (it supports 2026-07-28)');
        expect(await status()).not.toContain('restarting');
      } finally {
        await client.close();
      }
    } finally {
      await refusing.stop();
    }
  });
});
