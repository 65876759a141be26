import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withDeadline } from '../../../src/timing/deadline.js';

describe('withDeadline', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('passes a value or an error through and clears its timer', async () => {
    await expect(withDeadline(Promise.resolve(42), 1_000, () => 0)).resolves.toBe(42);
    const boom = new Error('boom');
    await expect(withDeadline(Promise.reject(boom), 1_000, () => 0)).rejects.toBe(boom);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('settles with the fallback once the time is up', async () => {
    const outcome = withDeadline(new Promise<boolean>(() => undefined), 1_000, () => false);
    await vi.advanceTimersByTimeAsync(999);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(outcome).resolves.toBe(false);
  });

  it('rejects with what the timeout throws', async () => {
    const outcome = withDeadline(new Promise<string>(() => undefined), 500, () => {
      throw new Error('too slow');
    });
    const check = expect(outcome).rejects.toThrow('too slow');
    await vi.advanceTimersByTimeAsync(500);
    await check;
  });

  it('does not leave an unhandled rejection when the abandoned promise fails late', async () => {
    let rejectLate: (error: Error) => void = () => undefined;
    const late = new Promise<string>((_, reject) => {
      rejectLate = reject;
    });
    const check = expect(withDeadline(late, 100, () => 'timed out')).resolves.toBe('timed out');
    await vi.advanceTimersByTimeAsync(100);
    await check;
    rejectLate(new Error('too late'));
    await vi.advanceTimersByTimeAsync(0);
  });

  it('unrefs its timer so a wait that never ends cannot keep the process alive', () => {
    const unref = vi.fn();
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation((() => ({ unref })) as never);
    void withDeadline(new Promise(() => undefined), 1_000, () => undefined);
    expect(unref).toHaveBeenCalledOnce();
    spy.mockRestore();
  });
});
