import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Scrubber } from '../../../../src/log/scrubber.js';
import { Router } from '../../../../src/proxy/core/router.js';

/** A router with a client and two servers "a" and "b"; requests go to params.server, rewritten without it. */
async function setup() {
  const [clientSide, frontSide] = InMemoryTransport.createLinkedPair();
  const received: Record<string, JSONRPCMessage[]> = { client: [], a: [], b: [] };
  clientSide.onmessage = (message) => void received.client!.push(message);
  await clientSide.start();
  const router = new Router(frontSide, {
    scrubber: new Scrubber(),
    logger: pino({ level: 'silent' }),
    route: (request, links) => {
      const { server, ...params } = (request.params ?? {}) as { server?: string };
      const link = links.get(String(server));
      return link && { link, request: { ...request, params } };
    },
  });
  await router.start();
  const servers: Record<string, InMemoryTransport> = {};
  for (const name of ['a', 'b']) {
    const [proxySide, serverSide] = InMemoryTransport.createLinkedPair();
    router.attach(name, proxySide);
    serverSide.onmessage = (message) => void received[name]!.push(message);
    await serverSide.start();
    servers[name] = serverSide;
  }
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { client: clientSide, servers, received, router, settle };
}

describe('Router (several servers)', () => {
  it('sends the request as the route rewrote it', async () => {
    const { client, received, settle } = await setup();
    await client.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { server: 'b', name: 'echo' } });
    await settle();
    expect(received.b).toEqual([{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } }]);
  });

  it('answers its own requests from the link, and rejects them when the link closes', async () => {
    const { servers, received, router, settle } = await setup();
    const link = router.link('a')!;
    const answered = router.request(link, 'tools/list', {});
    await settle();
    const sent = received.a!.at(-1) as { id: string; method: string };
    expect(sent.method).toBe('tools/list');
    await servers.a!.send({ jsonrpc: '2.0', id: sent.id, result: { tools: [] } });
    await expect(answered).resolves.toEqual({ tools: [] });
    const failed = router.request(link, 'prompts/list', {});
    const failing = router.request(link, 'resources/list', {});
    await settle();
    const second = received.a!.at(-1) as { id: string };
    await servers.a!.send({ jsonrpc: '2.0', id: second.id, error: { code: -32601, message: 'no resources' } });
    await expect(failing).rejects.toMatchObject({ code: -32601, message: 'no resources' });
    await servers.a!.close();
    await expect(failed).rejects.toMatchObject({ code: -32000 });
    expect(received.client).toEqual([]);
  });

  it('keeps the progress tokens of two servers apart and routes the client progress back', async () => {
    const { client, servers, received, settle } = await setup();
    const sampling = (id: number) => ({
      jsonrpc: '2.0' as const,
      id,
      method: 'sampling/createMessage',
      params: { _meta: { progressToken: 5 } },
    });
    await servers.a!.send(sampling(0));
    await servers.b!.send(sampling(0));
    await settle();
    const [first, second] = received.client as Array<{ id: string | number; params: { _meta: { progressToken: string | number } } }>;
    expect(first!.params._meta.progressToken).not.toEqual(second!.params._meta.progressToken);
    expect(first!.id).not.toEqual(second!.id);
    await client.send({
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: second!.params._meta.progressToken, progress: 1 },
    });
    await client.send({
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: first!.params._meta.progressToken, progress: 2 },
    });
    await settle();
    expect(received.a).toEqual([{ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 5, progress: 2 } }]);
    expect(received.b).toEqual([{ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 5, progress: 1 } }]);
  });

  it('does not send notifications/initialized again to a server attached after the client initialized', async () => {
    const { client, router, settle } = await setup();
    await client.send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' }, server: 'a' },
    });
    const [proxySide, serverSide] = InMemoryTransport.createLinkedPair();
    const late: JSONRPCMessage[] = [];
    serverSide.onmessage = (message) => void late.push(message);
    await serverSide.start();
    router.attach('late', proxySide);
    await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await client.send({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
    await settle();
    expect(late).toEqual([{ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }]);
  });
});
