import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { binPath, connectThroughProxy, inheritedEnv, waitFor, writeConfig } from '../helpers/proxy.js';
import { startGetStreamFixture, startModernFixture, type HttpServerProcess } from '../helpers/remote.js';

const started: HttpServerProcess[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.stop()));
});

async function fixture(start: () => Promise<HttpServerProcess> = startGetStreamFixture): Promise<HttpServerProcess> {
  const server = await start();
  started.push(server);
  return server;
}

/** Answers of one round: the tool call's result, and the server→client requests the client saw. */
interface Round {
  result?: JSONRPCMessage;
  asked: number;
  stderr: string;
}

/**
 * One client session through the proxy: initialize, initialized and a tool call written back to back (nothing
 * waits in between, as a client that pipelines its start does), the server's elicitation answered.
 */
async function pipelinedRound(config: string, round: number): Promise<Round> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [binPath, 'run', 'asker', '--config', config],
    env: inheritedEnv(),
    stderr: 'pipe',
  });
  const outcome: Round = { asked: 0, stderr: '' };
  transport.stderr?.on('data', (chunk: Buffer) => (outcome.stderr += chunk.toString()));
  transport.onmessage = (message) => {
    if ('method' in message && message.method === 'elicitation/create' && 'id' in message) {
      outcome.asked += 1;
      void transport.send({ jsonrpc: '2.0', id: message.id, result: { action: 'accept', content: { name: `Ada ${round}` } } });
    } else if ('id' in message && message.id === 2) {
      outcome.result = message;
    }
  };
  await transport.start();
  try {
    const initialize: JSONRPCMessage = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: { elicitation: { form: {} } },
        clientInfo: { name: 'pipelined', version: '1' },
      },
    };
    const sent = [
      transport.send(initialize),
      transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      transport.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'ask', arguments: { round } } }),
    ];
    await Promise.all(sent);
    await waitFor(() => outcome.result !== undefined, 30_000);
    return outcome;
  } finally {
    await transport.close();
  }
}

describe('remote: 2025 sessions over Streamable HTTP', () => {
  it('delivers a server request sent on the GET stream right after a pipelined tool call, every time', async () => {
    const server = await fixture();
    const config = await writeConfig({ asker: { url: `${server.origin}/mcp`, confirm: false } });
    for (let round = 1; round <= 10; round += 1) {
      const { result, asked, stderr } = await pipelinedRound(config, round);
      expect(result, `round ${round}: no answer to the tool call; proxy stderr:\n${stderr}`).toBeDefined();
      expect(JSON.stringify(result), `round ${round}`).toContain(`answered ${round}: {\\"name\\":\\"Ada ${round}\\"}`);
      expect(asked, `round ${round}`).toBe(1);
    }
    expect(server.events.filter((event) => event.event === 'ask').map((event) => event.outcome)).toEqual(Array(10).fill('accept'));
    // Ten proxies one after another: a busy machine needs more than the default bound.
  }, 180_000);
});

describe('remote: spec errors', () => {
  it('passes a 4xx JSON-RPC error (-32022 with data.supported) to the client unchanged, without trying SSE', async () => {
    const server = await fixture();
    const config = await writeConfig({ modern: { url: `${server.origin}/refuse`, confirm: false } });
    const refused = await connectThroughProxy({ config, server: 'modern' }).then(
      async (connection) => {
        await connection.client.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(McpError);
    expect(refused).toMatchObject({
      code: -32022,
      message: expect.stringContaining('Unsupported protocol version') as unknown,
      data: { supported: ['2026-07-28'], requested: '2025-11-25' },
    });
  });
});

describe('remote: 2026-era requests to a 2026-only server (v2 SDK)', () => {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 'modern-client', version: '1' },
  };

  it('sends MCP-Protocol-Version from _meta, Mcp-Method and Mcp-Name and no session id, so discover and tools/call work', async () => {
    const server = await fixture(startModernFixture);
    const config = await writeConfig({ modern: { url: `${server.origin}/mcp`, confirm: false } });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [binPath, 'run', 'modern', '--config', config],
      env: inheritedEnv(),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const answers = new Map<unknown, JSONRPCMessage>();
    transport.onmessage = (message) => void ('id' in message && answers.set(message.id, message));
    await transport.start();
    try {
      await transport.send({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } });
      await transport.send({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'echo', arguments: { message: 'modern' }, _meta: meta },
      });
      await waitFor(() => answers.size === 2, 30_000);
      expect(answers.get(1), stderr).toMatchObject({ result: { supportedVersions: ['2026-07-28'] } });
      expect(answers.get(2), stderr).toMatchObject({
        result: { content: [{ type: 'text', text: 'echo: modern' }], resultType: 'complete' },
      });
      expect(server.events.filter((event) => event.event === 'request').map((event) => event.mcp)).toEqual([
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover', 'mcp-name': null, 'mcp-session-id': 'absent' },
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo', 'mcp-session-id': 'absent' },
      ]);
    } finally {
      await transport.close();
    }
  });

  it('bridges a 2025 client to it: probed with server/discover first, every request is a 2026-era one (no initialize)', async () => {
    const server = await fixture(startModernFixture);
    const config = await writeConfig({ modern: { url: `${server.origin}/mcp`, confirm: false } });
    const { client } = await connectThroughProxy({ config, server: 'modern' });
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'modern-fixture' });
      expect(await client.callTool({ name: 'echo', arguments: { message: 'bridged' } })).toMatchObject({
        content: [{ type: 'text', text: 'echo: bridged' }],
      });
    } finally {
      await client.close();
    }
    const requests = server.events.filter((event) => event.event === 'request').map((event) => event.mcp);
    // A remote server is asked server/discover before the client's initialize, which then never goes out.
    expect(requests[0]).toMatchObject({ 'mcp-method': 'server/discover' });
    // The bridge also holds a subscriptions/listen open: the server announces tool list changes.
    expect(requests.map((mcp) => mcp?.['mcp-method']).sort()).toEqual(['server/discover', 'subscriptions/listen', 'tools/call']);
    for (const mcp of requests) expect(mcp).toMatchObject({ 'mcp-protocol-version': '2026-07-28', 'mcp-session-id': 'absent' });
  });
});
