import { LATEST_PROTOCOL_VERSION as SDK_LATEST, SUPPORTED_PROTOCOL_VERSIONS as SDK_SUPPORTED } from '@modelcontextprotocol/sdk/types.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { LocalEndpoint, stringParam } from '../../../../src/proxy/wire/local-endpoint.js';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '../../../../src/proxy/wire/protocol-versions.js';
import { rpcError } from '../../../../src/proxy/wire/rpc-error.js';

/** An endpoint and the answers it sent, with a way to wait (bounded) for the answer to an id. */
function endpoint() {
  const served = new LocalEndpoint({
    serverInfo: { name: 'own', version: '1.2.3' },
    capabilities: { tools: { listChanged: true } },
    instructions: 'hello',
  });
  const answers: JSONRPCMessage[] = [];
  served.onmessage = (message) => answers.push(message);
  const answer = async (id: number) => {
    for (let turn = 0; turn < 100; turn++) {
      const found = answers.find((message) => 'id' in message && message.id === id);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    throw new Error(`no answer to ${id}`);
  };
  return { served, answers, answer };
}

describe('the proxy’s own endpoint (no SDK Server)', () => {
  it('knows the protocol versions the SDK knows', () => {
    expect(LATEST_PROTOCOL_VERSION).toBe(SDK_LATEST);
    expect(SUPPORTED_PROTOCOL_VERSIONS).toEqual(SDK_SUPPORTED);
  });

  it('answers initialize with the client’s version when it speaks it, the newest otherwise; and ping', async () => {
    const { served, answer } = endpoint();
    await served.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } });
    await served.send({ jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: '1999-01-01', capabilities: {} } });
    await served.send({ jsonrpc: '2.0', id: 3, method: 'ping' });
    expect(await answer(1)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: {
        protocolVersion: '2025-06-18',
        capabilities: { tools: { listChanged: true } },
        serverInfo: { name: 'own', version: '1.2.3' },
        instructions: 'hello',
      },
    });
    expect(await answer(2)).toMatchObject({ result: { protocolVersion: SDK_LATEST } });
    expect(await answer(3)).toEqual({ jsonrpc: '2.0', id: 3, result: {} });
  });

  it('answers a handled method, an unknown one with MethodNotFound, and a handler’s error with its code', async () => {
    const { served, answer } = endpoint();
    served.handle('tools/call', (params) => {
      const name = stringParam(params, 'name', 'tools/call');
      if (name === 'bad') throw rpcError(-32602, 'no such tool', { name });
      if (name === 'crash') throw new Error('boom');
      return { content: [{ type: 'text', text: name }] };
    });
    await served.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } });
    await served.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'bad' } });
    await served.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 7 } });
    await served.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'crash' } });
    await served.send({ jsonrpc: '2.0', id: 5, method: 'nope/nothing' });
    expect(await answer(1)).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'echo' }] } });
    expect(await answer(2)).toEqual({ jsonrpc: '2.0', id: 2, error: { code: -32602, message: 'no such tool', data: { name: 'bad' } } });
    expect(await answer(3)).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: { code: -32602, message: 'tools/call: params.name must be a string.' },
    });
    expect(await answer(4)).toEqual({ jsonrpc: '2.0', id: 4, error: { code: -32603, message: 'boom' } });
    expect(await answer(5)).toEqual({ jsonrpc: '2.0', id: 5, error: { code: -32601, message: 'Method not found' } });
  });

  it('aborts a request the client cancels and sends no answer for it; closing aborts the rest', async () => {
    const { served, answers, answer } = endpoint();
    const signals: AbortSignal[] = [];
    served.handle('slow', (_params, signal) => {
      signals.push(signal);
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ late: true })));
    });
    let closed = false;
    served.onclose = () => (closed = true);
    await served.send({ jsonrpc: '2.0', id: 1, method: 'slow' });
    await served.send({ jsonrpc: '2.0', id: 2, method: 'slow' });
    await served.send({ jsonrpc: '2.0', id: 3, method: 'ping' });
    await answer(3);
    await served.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    expect(signals.map((signal) => signal.aborted)).toEqual([true, false]);
    await served.close();
    expect(signals[1]!.aborted).toBe(true);
    expect(closed).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(answers.filter((message) => 'id' in message && message.id !== 3)).toEqual([]);
  });
});
