import { describe, expect, it } from 'vitest';
import { spawnChild } from '../../../../src/proxy/local/child-process.js';
import { StdioChildTransport } from '../../../../src/proxy/local/stdio-child-transport.js';

describe('StdioChildTransport: a child that writes and ends before start()', () => {
  it('keeps its stderr lines and stdout messages (Node drops a pipe’s unread data once the child has closed)', async () => {
    const script =
      "process.stdout.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'hi' } }) + '\\n');" +
      "console.error('npm error 404 Not Found'); process.exit(1)";
    const spawned = await spawnChild({ command: process.execPath, args: ['-e', script], env: { PATH: process.env.PATH ?? '' } });
    const transport = new StdioChildTransport(spawned);
    const stderr: string[] = [];
    transport.onstderr = (line) => stderr.push(line);
    // The child has ended, and its stdio has closed, before the transport starts.
    await spawned.closed;
    const messages: unknown[] = [];
    let closed = false;
    transport.onmessage = (message) => messages.push(message);
    transport.onclose = () => (closed = true);
    await transport.start();
    await expect.poll(() => closed, { timeout: 5000 }).toBe(true);
    expect(stderr).toEqual(['npm error 404 Not Found']);
    expect(messages).toEqual([{ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'hi' } }]);
    expect(transport.exit).toEqual({ code: 1, signal: null });
  });
});
