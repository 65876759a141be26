import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Scrubber } from '../../../../src/log/scrubber.js';
import { JsonLineReader } from '../../../../src/proxy/wire/json-lines.js';
import { Router } from '../../../../src/proxy/core/router.js';
import { StdioFrontTransport } from '../../../../src/proxy/wire/stdio-front-transport.js';
import { patternGuard, type MessageGuard } from '../../../../src/proxy/core/pattern-guard.js';
import { AuditLog, MemoryAuditSink } from '../../../../src/audit/audit-log.js';

/** A peer that records what it receives. */
async function peer(transport: InMemoryTransport): Promise<{ received: JSONRPCMessage[]; send: (m: JSONRPCMessage) => Promise<void> }> {
  const received: JSONRPCMessage[] = [];
  transport.onmessage = (message) => void received.push(message);
  await transport.start();
  return { received, send: (message) => transport.send(message) };
}

async function setup(serverNames: string[], scrubber = new Scrubber()) {
  const [clientSide, frontSide] = InMemoryTransport.createLinkedPair();
  const client = await peer(clientSide);
  const router = new Router(frontSide, {
    scrubber,
    logger: pino({ level: 'silent' }),
    // Route by a "server" field in params, as an aggregating router would by tool prefix.
    route: (request, links) => links.get(String((request as { params?: { server?: string } }).params?.server ?? serverNames[0])),
  });
  await router.start();
  const servers: Record<string, Awaited<ReturnType<typeof peer>>> = {};
  const downstreams: Record<string, InMemoryTransport> = {};
  for (const name of serverNames) {
    const [proxySide, serverSide] = InMemoryTransport.createLinkedPair();
    router.attach(name, proxySide);
    servers[name] = await peer(serverSide);
    downstreams[name] = serverSide;
  }
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { client, servers, downstreams, router, settle };
}

describe('Router', () => {
  it('forwards a request and its result unchanged, ids included', async () => {
    const { client, servers, settle } = await setup(['a']);
    const request: JSONRPCMessage = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo' } };
    await client.send(request);
    await settle();
    expect(servers.a!.received).toEqual([request]);
    await servers.a!.send({ jsonrpc: '2.0', id: 7, result: { content: [] } });
    await settle();
    expect(client.received).toEqual([{ jsonrpc: '2.0', id: 7, result: { content: [] } }]);
  });

  it('keeps two servers apart when both send server→client requests with the same id', async () => {
    const { client, servers, settle } = await setup(['a', 'b']);
    await servers.a!.send({ jsonrpc: '2.0', id: 0, method: 'sampling/createMessage', params: { from: 'a' } });
    await servers.b!.send({ jsonrpc: '2.0', id: 0, method: 'sampling/createMessage', params: { from: 'b' } });
    await settle();
    const [first, second] = client.received as unknown as Array<{ id: string | number; params: { from: string } }>;
    expect(first!.id).not.toEqual(second!.id);
    await client.send({ jsonrpc: '2.0', id: second!.id, result: { answer: second!.params.from } });
    await client.send({ jsonrpc: '2.0', id: first!.id, result: { answer: first!.params.from } });
    await settle();
    expect(servers.a!.received).toEqual([{ jsonrpc: '2.0', id: 0, result: { answer: 'a' } }]);
    expect(servers.b!.received).toEqual([{ jsonrpc: '2.0', id: 0, result: { answer: 'b' } }]);
  });

  it('maps a cancellation from the client to the server that has the request', async () => {
    const { client, servers, settle } = await setup(['a', 'b']);
    await client.send({ jsonrpc: '2.0', id: 'r1', method: 'tools/call', params: { server: 'b' } });
    await client.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'r1' } });
    await settle();
    expect(servers.a!.received).toEqual([]);
    expect(servers.b!.received.at(-1)).toEqual({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'r1' } });
  });

  it('answers in-flight requests with an error when a server goes away', async () => {
    const { client, downstreams, settle } = await setup(['a']);
    await client.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: {} });
    await settle();
    await downstreams.a!.close();
    await settle();
    expect(client.received).toEqual([{ jsonrpc: '2.0', id: 1, error: { code: -32000, message: 'Server "a" stopped before answering.' } }]);
  });

  it('forwards notifications both ways and scrubs secret values on the way to the client', async () => {
    const scrubber = new Scrubber();
    scrubber.add('a/KEY', 'super-secret-value');
    const { client, servers, settle } = await setup(['a'], scrubber);
    await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await servers.a!.send({ jsonrpc: '2.0', method: 'notifications/message', params: { data: 'key super-secret-value' } });
    await servers.a!.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 3, progress: 1 } });
    await settle();
    expect(servers.a!.received).toEqual([{ jsonrpc: '2.0', method: 'notifications/initialized' }]);
    expect(client.received).toEqual([
      { jsonrpc: '2.0', method: 'notifications/message', params: { data: 'key [REDACTED:a/KEY]' } },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 3, progress: 1 } },
    ]);
  });

  it("tells the server when a request of the proxy's own is cancelled, and drops its late answer", async () => {
    const { client, servers, router, settle } = await setup(['a']);
    const controller = new AbortController();
    const call = router.request(router.link('a')!, 'tools/call', { name: 'slow' }, { timeoutMs: Infinity, signal: controller.signal });
    await settle();
    const [sent] = servers.a!.received as Array<{ id: string }>;
    controller.abort('client cancelled');
    await expect(call).rejects.toThrow('The tools/call request to server "a" was cancelled.');
    await settle();
    expect(servers.a!.received[1]).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: sent!.id, reason: 'client cancelled' },
    });
    await servers.a!.send({ jsonrpc: '2.0', id: sent!.id, result: { content: [] } });
    await settle();
    expect(client.received).toEqual([]);
  });

  it('sends nothing for a request whose signal has already aborted', async () => {
    const { servers, router, settle } = await setup(['a']);
    const call = router.request(router.link('a')!, 'resources/read', { uri: 'x://y' }, { signal: AbortSignal.abort() });
    await expect(call).rejects.toThrow('was cancelled');
    await settle();
    expect(servers.a!.received).toEqual([]);
  });

  it('records the client initialize for later replay', async () => {
    const { client, router, settle } = await setup(['a']);
    const initialize = {
      jsonrpc: '2.0' as const,
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: { sampling: {} }, clientInfo: { name: 'c', version: '1' } },
    };
    await client.send(initialize);
    await settle();
    expect(router.clientInitialize).toEqual(initialize);
  });
});

describe('Router over stdio lines', () => {
  /** A router whose client side is a real StdioFrontTransport; `serverSays` hands it lines as a server wrote them. */
  async function stdioSetup(scrubber: Scrubber, guard?: MessageGuard) {
    const toProxy = new PassThrough();
    const fromProxy = new PassThrough();
    const written: string[] = [];
    fromProxy.on('data', (chunk: Buffer) => written.push(chunk.toString()));
    const router = new Router(new StdioFrontTransport(toProxy, fromProxy), {
      scrubber,
      guard,
      logger: pino({ level: 'silent' }),
      route: (_request, links) => links.get('a'),
    });
    await router.start();
    const [proxySide, serverSide] = InMemoryTransport.createLinkedPair();
    router.attach('a', proxySide);
    await serverSide.start();
    const server = new JsonLineReader(
      (message) => void serverSide.send(message),
      (error) => {
        throw error;
      },
    );
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const serverSays = async (line: string) => {
      server.push(Buffer.from(`${line}\n`));
      await settle();
    };
    return { written, serverSays };
  }

  const scrubberWith = (value: string) => {
    const scrubber = new Scrubber();
    scrubber.add('a/KEY', value);
    return scrubber;
  };

  it('writes a message it passes on unchanged as the very line it arrived as', async () => {
    const { written, serverSays } = await stdioSetup(scrubberWith('super-secret-value'));
    const line = '{ "method": "notifications/message",  "jsonrpc": "2.0", "params": {"data": "fine"} }';
    await serverSays(line);
    expect(written).toEqual([`${line}\n`]);
  });

  it('scrubs a digits-only secret written as a number with other digits (1.2345678e7), which no look at the line sees', async () => {
    const { written, serverSays } = await stdioSetup(scrubberWith('12345678'));
    await serverSays('{"jsonrpc":"2.0","method":"notifications/message","params":{"data":1.2345678e7}}');
    expect(written).toEqual(['{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"[REDACTED:a/KEY]"}}\n']);
  });

  it('re-serialises a message whose line holds a secret its parse does not (a duplicate key)', async () => {
    const { written, serverSays } = await stdioSetup(scrubberWith('super-secret-value'));
    await serverSays('{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"super-secret-value","data":"fine"}}');
    expect(written).toEqual(['{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"fine"}}\n']);
  });

  it('scrubs a secret spelled with \\u escapes in its line', async () => {
    const { written, serverSays } = await stdioSetup(scrubberWith('super-secret-value'));
    await serverSays('{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"\\u0073uper-secret-value"}}');
    expect(written).toEqual(['{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"[REDACTED:a/KEY]"}}\n']);
  });

  for (const [escape, spelled] of [
    ['\\/', 'super\\/secret\\/value'],
    ['\\u', '\\u0073uper/secret/value'],
  ] as const) {
    it(`does not pass on a shadowed duplicate spelled with ${escape}, which no text check could see`, async () => {
      const { written, serverSays } = await stdioSetup(scrubberWith('super/secret/value'));
      await serverSays(`{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"${spelled}","data":"fine"}}`);
      expect(written).toEqual(['{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"fine"}}\n']);
    });
  }

  it('does not pass on a credential the pattern guard looks for under a shadowed duplicate key', async () => {
    const guard = patternGuard(['a'], { audit: new AuditLog(new MemoryAuditSink()), logger: pino({ level: 'silent' }) });
    const { written, serverSays } = await stdioSetup(new Scrubber(), guard);
    const token = `ghp_${'A1b2C3d4E5'.repeat(3)}abcdef`;
    await serverSays(`{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"${token}","data":"fine"}}`);
    await serverSays('{ "jsonrpc":"2.0", "method":"notifications/message", "params":{"data":"clean"} }');
    expect(written).toEqual([
      '{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"fine"}}\n',
      '{ "jsonrpc":"2.0", "method":"notifications/message", "params":{"data":"clean"} }\n',
    ]);
  });
});

describe('Router: a server that ends before it is supervised', () => {
  it('is handed to superviseLinks when it is set (a server that dies at start-up must stop the proxy, not hang it)', async () => {
    const { downstreams, router, settle } = await setup(['early']);
    await downstreams.early!.close();
    await settle();
    const ended: string[] = [];
    router.superviseLinks((link) => ended.push(link.name));
    expect(ended).toEqual(['early']);
    // From then on, a link that ends is handed over as it ends.
    const [proxySide, serverSide] = InMemoryTransport.createLinkedPair();
    router.attach('late', proxySide);
    await serverSide.start();
    await serverSide.close();
    await settle();
    expect(ended).toEqual(['early', 'late']);
  });
});
