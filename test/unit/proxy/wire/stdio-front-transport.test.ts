import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { StdioFrontTransport } from '../../../../src/proxy/wire/stdio-front-transport.js';

function front() {
  const input = new PassThrough();
  const output = new PassThrough();
  const transport = new StdioFrontTransport(input, output);
  const received: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  let closed = 0;
  transport.onmessage = (message) => void received.push(message);
  transport.onerror = (error) => void errors.push(error);
  transport.onclose = () => void closed++;
  return { input, output, transport, received, errors, closed: () => closed };
}

describe('StdioFrontTransport', () => {
  it('reads the client lines and writes replies as lines', async () => {
    const { input, output, transport, received } = front();
    await transport.start();
    input.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toEqual([{ jsonrpc: '2.0', id: 1, method: 'ping' }]);
    await transport.send({ jsonrpc: '2.0', id: 1, result: {} });
    expect(String(output.read())).toBe('{"jsonrpc":"2.0","id":1,"result":{}}\n');
  });

  it('closes, without throwing, when the client is gone and a write fails', async () => {
    const { output, transport, errors, closed } = front();
    await transport.start();
    output.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors.map((error) => error.message)).toEqual(['write EPIPE']);
    expect(closed()).toBe(1);
    expect(() => output.emit('error', new Error('late EPIPE'))).not.toThrow();
  });

  it('stops reading once closed', async () => {
    const { input, transport, received, closed } = front();
    await transport.start();
    await transport.close();
    await transport.close();
    input.write('{"jsonrpc":"2.0","method":"late"}\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toEqual([]);
    expect(closed()).toBe(1);
  });
});
