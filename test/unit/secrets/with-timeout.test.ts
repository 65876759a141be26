import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyproxyError } from '../../../src/errors.js';
import { withTimeout } from '../../../src/secrets/with-timeout.js';

describe('withTimeout', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('rejects a never-settling call with KEYCHAIN_LOCKED after 5 s', async () => {
    const pending = withTimeout(new Promise<string>(() => undefined));
    const outcome = pending.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(4999);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(KeyproxyError);
    expect(error).toMatchObject({ code: 'KEYCHAIN_LOCKED', exitCode: 69 });
    expect((error as Error).message).toBe(
      'The keychain is locked or not answering (no reply within 5 s). Unlock it (for example log in to your ' +
        'desktop session) or run `mcp-keyproxy doctor`.',
    );
  });

  it('ends the call it gives up on (onAbandon), and only then', async () => {
    const onAbandon = vi.fn();
    await expect(withTimeout(Promise.resolve(1), 1000, onAbandon)).resolves.toBe(1);
    const pending = withTimeout(new Promise(() => undefined), 1000, onAbandon);
    const check = expect(pending).rejects.toMatchObject({ code: 'KEYCHAIN_LOCKED' });
    await vi.advanceTimersByTimeAsync(999);
    expect(onAbandon).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await check;
    expect(onAbandon).toHaveBeenCalledTimes(1);
  });

  it('honours a custom timeout in the message', async () => {
    const pending = withTimeout(new Promise<string>(() => undefined), 1500);
    const check = expect(pending).rejects.toThrow('no reply within 1.5 s');
    await vi.advanceTimersByTimeAsync(1500);
    await check;
  });

  it('passes a value or an error through and clears its timer', async () => {
    await expect(withTimeout(Promise.resolve(42))).resolves.toBe(42);
    const boom = new Error('boom');
    await expect(withTimeout(Promise.reject(boom))).rejects.toBe(boom);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not leave an unhandled rejection when the abandoned call fails late', async () => {
    let rejectLate: (error: Error) => void = () => undefined;
    const late = new Promise<string>((_, reject) => {
      rejectLate = reject;
    });
    const check = expect(withTimeout(late, 100)).rejects.toMatchObject({ code: 'KEYCHAIN_LOCKED' });
    await vi.advanceTimersByTimeAsync(100);
    await check;
    rejectLate(new Error('too late'));
    await vi.advanceTimersByTimeAsync(0);
  });

  it('unrefs its timer so a hanging keychain call cannot keep the process alive', () => {
    const unref = vi.fn();
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation((() => ({ unref })) as never);
    void withTimeout(new Promise(() => undefined)).catch(() => undefined);
    expect(unref).toHaveBeenCalledOnce();
    spy.mockRestore();
  });
});
