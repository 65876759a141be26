import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { binPath, connectThroughProxy, inheritedEnv, waitFor, writeConfig } from '../helpers/proxy.js';
import { startGetStreamFixture, type HttpServerProcess } from '../helpers/remote.js';

const started: HttpServerProcess[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.stop()));
});

async function fixture(): Promise<HttpServerProcess> {
  const server = await startGetStreamFixture();
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
  });
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
