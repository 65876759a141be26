import { getEventListeners } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createGuardedFetch } from '../../../../src/proxy/remote/guarded-fetch.js';
import { requestSignal, SignalFanout } from '../../../../src/proxy/remote/signal-fanout.js';

describe('SignalFanout', () => {
  it('gives each request a signal of its own, with one listener on the shared signal however many there are', async () => {
    const shared = new AbortController();
    const seen: AbortSignal[] = [];
    const fetch = createGuardedFetch({
      serverName: 'linear',
      origin: 'https://mcp.example.com',
      secretHeaders: new Set(),
      allowHttp: false,
      logger: pino({ level: 'silent' }),
      fetch: (_url, init) => {
        seen.push(init!.signal!);
        return Promise.resolve(new Response('{}'));
      },
    });
    for (let i = 0; i < 3000; i++) await fetch('https://mcp.example.com/mcp', { method: 'POST', signal: shared.signal });
    expect(new Set(seen).size).toBe(3000);
    expect(seen).not.toContain(shared.signal);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
  });

  it('aborts every live request signal, with the reason, when the shared signal aborts', () => {
    const shared = new AbortController();
    const first = requestSignal(shared.signal);
    const second = requestSignal(shared.signal);
    expect(first.aborted || second.aborted).toBe(false);
    shared.abort(new Error('session closed'));
    expect(first.aborted && second.aborted).toBe(true);
    expect((first.reason as Error).message).toBe('session closed');
    expect(requestSignal(shared.signal).aborted).toBe(true);
  });

  it('forgets the signals of requests that were collected', async () => {
    const fanout = new SignalFanout(new AbortController().signal);
    for (let i = 0; i < 2000; i++) fanout.child();
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) return expect.fail('run with --expose-gc (vitest.config.ts sets it for the unit project)');
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(fanout.size).toBeLessThan(2000);
  });
});
