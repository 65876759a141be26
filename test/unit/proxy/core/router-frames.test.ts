import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { Scrubber } from '../../../../src/log/scrubber.js';
import { PROXY_LINK } from '../../../../src/proxy/core/link.js';
import { Router } from '../../../../src/proxy/core/router.js';
import { SetupServer } from '../../../../src/proxy/setup/setup-server.js';
import { InvalidFrameError } from '../../../../src/proxy/wire/json-rpc.js';
import { StdioFrontTransport } from '../../../../src/proxy/wire/stdio-front-transport.js';

/**
 * A router whose client side is a real StdioFrontTransport (the client writes lines, reads lines), routing every
 * request to one downstream: the proxy's own SDK server (as in the gated and aggregate modes), or a peer that
 * records what it receives and answers every request with `{ echoed: <id it saw> }`.
 */
async function setup(downstream: 'sdk-server' | 'recorder') {
  const toProxy = new PassThrough();
  const fromProxy = new PassThrough();
  let output = '';
  fromProxy.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const router = new Router(new StdioFrontTransport(toProxy, fromProxy), {
    scrubber: new Scrubber(),
    logger: pino({ level: 'silent' }),
    route: (_request, links) => links.values().next().value,
  });
  await router.start();
  const received: JSONRPCMessage[] = [];
  if (downstream === 'sdk-server') {
    const setupServer = new SetupServer({ name: 'test', version: '1', instructions: '', unavailableMessage: () => 'no' });
    await setupServer.transport.start();
    router.attach(PROXY_LINK, setupServer.transport);
  } else {
    const [proxySide, serverSide] = InMemoryTransport.createLinkedPair();
    router.attach('a', proxySide);
    serverSide.onmessage = (message) => {
      received.push(message);
      // A tools/call stays in flight (to be cancelled); every other request is answered at once.
      if ('method' in message && 'id' in message && message.method !== 'tools/call')
        void serverSide.send({ jsonrpc: '2.0', id: message.id, result: { echoed: message.id } });
    };
    await serverSide.start();
  }
  const replies = () =>
    output
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    router,
    received,
    send: (...lines: string[]) => void toProxy.write(lines.map((line) => `${line}\n`).join('')),
    /** Every line written to the client so far, as text. */
    lines: () => output.split('\n').filter((line) => line !== ''),
    replies,
    /** Waits until a reply with this id has arrived, and returns it. */
    replyTo: async (id: unknown) => vi.waitFor(() => replies().find((reply) => reply.id === id) ?? expect.fail(`no reply to ${id}`)),
  };
}

const invalid = (reason: string) => `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: ${reason}."}}`;

describe('Router: frames that are not messages', () => {
  it('answers each bad frame from the client with the JSON-RPC error, in order, and goes on serving', async () => {
    const client = await setup('recorder');
    client.send(
      '{"jsonrpc":"2.0","id":1,"method":"ping"',
      '[{"jsonrpc":"2.0","id":2,"method":"ping"}]',
      '{"jsonrpc":"2.0","id":null,"method":"ping"}',
      '{"jsonrpc":"2.0","id":{"n":3},"method":"ping"}',
      '{"jsonrpc":"2.0","id":[4],"method":"ping"}',
      '{"jsonrpc":"2.0","id":false,"method":"ping"}',
      '{"jsonrpc":"2.0","id":5,"method":7}',
      '17',
      '{"jsonrpc":"2.0","id":6,"method":"tools/list"}',
    );
    expect((await client.replyTo(6)).result).toEqual({ echoed: 6 });
    expect(client.lines().slice(0, 8)).toEqual([
      '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the line is not valid JSON."}}',
      invalid('a batch (a JSON array): MCP has no batches since 2025-06-18, send one message per line'),
      invalid('the id is null: an MCP id is a string or a number'),
      invalid('the id is not a string or a number'),
      invalid('the id is not a string or a number'),
      invalid('the id is not a string or a number'),
      invalid('a request or notification without a string \\"method\\"'),
      invalid('not a JSON object'),
    ]);
    // Nothing but the one good request reached the server.
    expect(client.received).toEqual([{ jsonrpc: '2.0', id: 6, method: 'tools/list' }]);
  });

  it('does not answer an error that answers nothing (id null or absent): two peers would answer each other for ever', async () => {
    const client = await setup('recorder');
    client.send(
      '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}',
      '{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"}}',
      '{"jsonrpc":"2.0","id":9,"method":"ping"}',
    );
    await client.replyTo(9);
    expect(client.lines()).toEqual(['{"jsonrpc":"2.0","id":9,"result":{"echoed":9}}']);
    expect(client.received).toEqual([{ jsonrpc: '2.0', id: 9, method: 'ping' }]);
  });

  it('answers only the client: a server printing junk on stdout is logged, and the client gets nothing', async () => {
    const client = await setup('recorder');
    const [proxySide, serverSide] = InMemoryTransport.createLinkedPair();
    const downstream = client.router.attach('junk', proxySide);
    await serverSide.start();
    // What a StdioChildTransport reports for a line the server printed that is not JSON-RPC.
    downstream.transport.onerror?.(new InvalidFrameError(-32700, 'the line is not valid JSON'));
    client.send('{"jsonrpc":"2.0","id":10,"method":"ping"}');
    await client.replyTo(10);
    expect(client.lines()).toEqual(['{"jsonrpc":"2.0","id":10,"result":{"echoed":10}}']);
  });
});

describe('Router: numeric ids', () => {
  it("the proxy's own SDK server answers a request whose id is a fraction or beyond 2^53, with that id", async () => {
    const client = await setup('sdk-server');
    client.send(
      '{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
      '{"jsonrpc":"2.0","id":1e300,"method":"tools/list"}',
      '{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}',
      '{"jsonrpc":"2.0","id":-0.25,"method":"prompts/list"}',
      '{"jsonrpc":"2.0","id":7,"method":"ping"}',
    );
    expect(await client.replyTo(1.5)).toEqual({ jsonrpc: '2.0', id: 1.5, result: {} });
    expect(await client.replyTo(1e300)).toEqual({ jsonrpc: '2.0', id: 1e300, result: { tools: [] } });
    expect(await client.replyTo(2 ** 53)).toEqual({ jsonrpc: '2.0', id: 2 ** 53, result: {} });
    expect(await client.replyTo(-0.25)).toEqual({ jsonrpc: '2.0', id: -0.25, result: { prompts: [] } });
    expect(await client.replyTo(7)).toEqual({ jsonrpc: '2.0', id: 7, result: {} });
    expect(client.lines()).toContain('{"result":{"tools":[]},"jsonrpc":"2.0","id":1e+300}');
  });

  it('sends such an id downstream as one of its own, maps the answer and a cancellation back; other ids pass as sent', async () => {
    const client = await setup('recorder');
    client.send(
      '{"jsonrpc":"2.0","id":2.5,"method":"ping"}',
      '{"jsonrpc":"2.0","id":4.5,"method":"tools/call","params":{"name":"slow"}}',
      '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":4.5}}',
      '{"jsonrpc":"2.0","id":"s","method":"ping"}',
      '{"jsonrpc":"2.0","id":3,"method":"ping"}',
    );
    const seenAs = (await client.replyTo(2.5)).result as { echoed: unknown };
    expect(seenAs.echoed).toMatch(/^mcp-keyproxy-/);
    await client.replyTo(3);
    const [ping, call, cancel, ...rest] = client.received as Array<{ id?: unknown; params?: { requestId?: unknown } }>;
    expect(ping!.id).toBe(seenAs.echoed);
    expect(call!.id).toMatch(/^mcp-keyproxy-/);
    expect(call!.id).not.toBe(ping!.id);
    expect(cancel!.params!.requestId).toBe(call!.id);
    expect(rest).toEqual([
      { jsonrpc: '2.0', id: 's', method: 'ping' },
      { jsonrpc: '2.0', id: 3, method: 'ping' },
    ]);
  });
});
