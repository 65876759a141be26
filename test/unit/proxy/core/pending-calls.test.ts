import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PendingCalls } from '../../../../src/proxy/core/pending-calls.js';

describe('pending calls', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('settles a call with its answer, once, and clears its timer', async () => {
    const calls = new PendingCalls<string>();
    const ended = vi.fn();
    const answer = calls.register('a', { timeoutMs: 1_000, onEnd: ended });
    expect(vi.getTimerCount()).toBe(1);
    expect(calls.has('a')).toBe(true);
    expect(calls.resolve('a', 'result')).toBe(true);
    await expect(answer).resolves.toBe('result');
    expect(calls.resolve('a', 'again')).toBe(false);
    expect(calls.size).toBe(0);
    expect(ended).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('says an answer to an id it does not know is not its own', () => {
    expect(new PendingCalls<string>().resolve('other', 'x')).toBe(false);
  });

  it('rejects a call that gets no answer in time with the timeout error', async () => {
    const calls = new PendingCalls<string>();
    const answer = calls.register(1, { timeoutMs: 1_000, onTimeout: () => new Error('too slow') });
    const outcome = expect(answer).rejects.toThrow('too slow');
    vi.advanceTimersByTime(999);
    expect(calls.has(1)).toBe(true);
    vi.advanceTimersByTime(1);
    await outcome;
    expect(calls.size).toBe(0);
    expect(calls.resolve(1, 'late')).toBe(false);
  });

  it('sets no timer without a limit', async () => {
    const calls = new PendingCalls<string>();
    const answer = calls.register('a', { timeoutMs: Infinity });
    expect(vi.getTimerCount()).toBe(0);
    calls.resolve('a', 'done');
    await expect(answer).resolves.toBe('done');
  });

  it('unrefs its timer, so a waiting call does not keep the process alive', () => {
    const unref = vi.spyOn(globalThis, 'setTimeout');
    const calls = new PendingCalls<string>();
    calls.register('a', { timeoutMs: 1_000 }).catch(() => undefined);
    const timer = unref.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    calls.rejectAll(new Error('closed'));
    unref.mockRestore();
  });

  it('rejects on abort with the abort error, clears its timer and removes its listener', async () => {
    const calls = new PendingCalls<string>();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const onAbort = vi.fn(() => new Error('cancelled'));
    const answer = calls.register('a', { timeoutMs: 1_000, signal: controller.signal, onAbort });
    controller.abort();
    await expect(answer).rejects.toThrow('cancelled');
    expect(onAbort).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
    expect(vi.getTimerCount()).toBe(0);
    expect(calls.size).toBe(0);
  });

  it('removes its abort listener when the answer comes first, so a later abort does nothing', async () => {
    const calls = new PendingCalls<string>();
    const controller = new AbortController();
    const onAbort = vi.fn(() => new Error('cancelled'));
    const answer = calls.register('a', { signal: controller.signal, onAbort });
    calls.resolve('a', 'result');
    controller.abort();
    await expect(answer).resolves.toBe('result');
    expect(onAbort).not.toHaveBeenCalled();
  });

  it('rejects at once for a signal that aborted already, and registers nothing', async () => {
    const calls = new PendingCalls<string>();
    const ended = vi.fn();
    const answer = calls.register('a', {
      timeoutMs: 1_000,
      signal: AbortSignal.abort(),
      onAbort: () => new Error('cancelled'),
      onEnd: ended,
    });
    await expect(answer).rejects.toThrow('cancelled');
    expect(calls.size).toBe(0);
    expect(ended).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails one call by id, and every call on close, leaving no timer behind', async () => {
    const calls = new PendingCalls<string>();
    const one = calls.register('one', { timeoutMs: 1_000 });
    const two = calls.register('two', { timeoutMs: 2_000 });
    const three = calls.register('three', { timeoutMs: 3_000 });
    expect(calls.reject('one', new Error('not sent'))).toBe(true);
    await expect(one).rejects.toThrow('not sent');
    calls.rejectAll(new Error('connection closed'));
    await expect(two).rejects.toThrow('connection closed');
    await expect(three).rejects.toThrow('connection closed');
    expect(calls.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses an id that is pending already, leaving the first call waiting', async () => {
    const calls = new PendingCalls<string>();
    const first = calls.register('a');
    await expect(calls.register('a')).rejects.toThrow(/pending already/);
    calls.resolve('a', 'first');
    await expect(first).resolves.toBe('first');
  });
});
