import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../../src/proxy/core/clock.js';
import { HeldRequests } from '../../../../src/proxy/core/held-requests.js';

const call = (id: number): JSONRPCRequest => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo' } });

describe('requests held while a server restarts', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('lets them go in arrival order, with their timers stopped', () => {
    const expire = vi.fn();
    const held = new HeldRequests(systemClock, expire, 10, 1_000);
    held.hold(call(1));
    held.hold(call(2));
    expect(held.size).toBe(2);
    expect(held.release().map((request) => request.id)).toEqual([1, 2]);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5_000);
    expect(expire).not.toHaveBeenCalled();
  });

  it('refuses one more than the limit at once, and gives up on one that waits too long', () => {
    const expire = vi.fn();
    const held = new HeldRequests(systemClock, expire, 2, 1_000);
    held.hold(call(1));
    vi.advanceTimersByTime(500);
    held.hold(call(2));
    held.hold(call(3));
    expect(expire).toHaveBeenCalledWith(call(3), 'full');
    vi.advanceTimersByTime(500);
    expect(expire).toHaveBeenCalledWith(call(1), 'timeout');
    expect(held.release().map((request) => request.id)).toEqual([2]);
  });
});
