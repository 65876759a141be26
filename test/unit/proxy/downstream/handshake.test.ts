import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { InitializeRequest, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { handshake } from '../../../../src/proxy/downstream/handshake.js';

const initialize: InitializeRequest = {
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'test', version: '1.0.0' } },
};

/**
 * A server on the far side of an in-memory pair that answers `initialize` with tools and `tools/list` with one tool
 * and a cursor; `changeFirst` has it announce a change of its tools just before it answers the list.
 */
async function serverSide({ changeFirst = false } = {}) {
  const [ours, theirs] = InMemoryTransport.createLinkedPair();
  theirs.onmessage = (message: JSONRPCMessage) => {
    if (!('id' in message) || !('method' in message)) return;
    if (message.method === 'initialize') {
      void theirs.send({
        jsonrpc: '2.0',
        id: message.id,
        result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 's', version: '1' } },
      });
    } else if (message.method === 'tools/list') {
      if (changeFirst) void theirs.send({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
      void theirs.send({
        jsonrpc: '2.0',
        id: message.id,
        result: { tools: [{ name: 'echo', inputSchema: { type: 'object' } }], nextCursor: 'page-2' },
      });
    }
  };
  await theirs.start();
  await ours.start();
  return ours;
}

describe('handshake', () => {
  it('keeps the first page of tools as the server answered it', async () => {
    const result = await handshake(await serverSide(), initialize, () => undefined);
    expect(result.toolNames).toEqual(['echo']);
    expect(result.toolsPage).toEqual({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }], nextCursor: 'page-2' });
  });

  it('keeps no page when the server told of a change to its tools during the handshake', async () => {
    const result = await handshake(await serverSide({ changeFirst: true }), initialize, () => undefined);
    expect(result.toolNames).toEqual(['echo']);
    expect(result.toolsPage).toBeUndefined();
  });
});
