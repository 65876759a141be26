import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GET_STREAM_WAIT_MS, HandshakeHold } from '../../../../src/proxy/remote/handshake-hold.js';

const initialize: JSONRPCMessage = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
};
const initialized: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
const call: JSONRPCMessage = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'ask' } };
const ping: JSONRPCMessage = { jsonrpc: '2.0', id: 3, method: 'ping' };

/** A send whose POST returns when `finish` is called; records when it started. */
function posting(name: string, log: string[]) {
  let finish!: () => void;
  const returned = new Promise<void>((resolve) => (finish = resolve));
  return {
    send: () => {
      log.push(name);
      return returned;
    },
    finish,
  };
}

const ticks = async () => {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
};

afterEach(() => {
  vi.useRealTimers();
});

describe('HandshakeHold', () => {
  it('sends nothing before the initialize POST returned, nor before the GET stream after initialized was answered', async () => {
    const hold = new HandshakeHold();
    const log: string[] = [];
    const init = posting('initialize', log);
    const ready = posting('initialized', log);
    const tool = posting('tools/call', log);
    const sends = [
      hold.pass(initialize, init.send, () => true),
      hold.pass(initialized, ready.send, () => true),
      hold.pass(call, tool.send, () => true),
      hold.pass(
        ping,
        () => (log.push('ping'), Promise.resolve()),
        () => true,
      ),
    ];
    await ticks();
    expect(log).toEqual(['initialize']);
    init.finish();
    await ticks();
    expect(log).toEqual(['initialize', 'initialized']);
    ready.finish();
    await ticks();
    // The POST returned, but the GET stream it opens is not answered yet.
    expect(log).toEqual(['initialize', 'initialized']);
    hold.getStreamAnswered();
    await ticks();
    expect(log).toEqual(['initialize', 'initialized', 'tools/call', 'ping']);
    tool.finish();
    await Promise.all(sends);
  });

  it('waits for the GET stream a bounded time, and not at all when the transport opens none', async () => {
    vi.useFakeTimers();
    const hold = new HandshakeHold();
    const log: string[] = [];
    const sent = (name: string) => () => (log.push(name), Promise.resolve());
    void hold.pass(initialized, sent('initialized'), () => true);
    void hold.pass(call, sent('tools/call'), () => true);
    await ticks();
    expect(log).toEqual(['initialized']);
    await vi.advanceTimersByTimeAsync(GET_STREAM_WAIT_MS + 10);
    expect(log).toEqual(['initialized', 'tools/call']);

    const sse = new HandshakeHold();
    const sseLog: string[] = [];
    void sse.pass(
      initialized,
      () => (sseLog.push('initialized'), Promise.resolve()),
      () => false,
    );
    void sse.pass(
      call,
      () => (sseLog.push('tools/call'), Promise.resolve()),
      () => false,
    );
    await ticks();
    expect(sseLog).toEqual(['initialized', 'tools/call']);
  });

  it('lets later messages go when a handshake POST fails, and reports the failure to its sender', async () => {
    const hold = new HandshakeHold();
    const log: string[] = [];
    const failed = hold.pass(
      initialized,
      () => Promise.reject(new Error('HTTP 500')),
      () => true,
    );
    const next = hold.pass(
      call,
      () => (log.push('tools/call'), Promise.resolve()),
      () => true,
    );
    await expect(failed).rejects.toThrow('HTTP 500');
    await next;
    expect(log).toEqual(['tools/call']);
  });
});
