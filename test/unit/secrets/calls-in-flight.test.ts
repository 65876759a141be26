import { afterEach, describe, expect, it, vi } from 'vitest';
import { endKeychainCalls, keychainCallsInFlight, trackKeychainCall } from '../../../src/secrets/calls-in-flight.js';

describe('keychain calls in flight', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts a call until it settles, answered or failed', async () => {
    const before = keychainCallsInFlight();
    let answer: (value: string) => void = () => undefined;
    const answered = trackKeychainCall(new Promise<string>((resolve) => (answer = resolve)));
    const failed = trackKeychainCall(Promise.reject(new Error('boom')));
    expect(keychainCallsInFlight()).toBe(before + 2);
    await expect(failed).rejects.toThrow('boom');
    expect(keychainCallsInFlight()).toBe(before + 1);
    answer('v');
    await expect(answered).resolves.toBe('v');
    expect(keychainCallsInFlight()).toBe(before);
  });

  it('endKeychainCalls: true at once with nothing in flight, true once the calls return', async () => {
    await expect(endKeychainCalls(50)).resolves.toBe(true);
    let answer: () => void = () => undefined;
    void trackKeychainCall(new Promise<void>((resolve) => (answer = resolve)));
    const ended = endKeychainCalls(10_000);
    answer();
    await expect(ended).resolves.toBe(true);
  });

  it('endKeychainCalls: false when a call does not return in time (the caller must end the process)', async () => {
    vi.useFakeTimers();
    void trackKeychainCall(new Promise(() => undefined));
    const ended = endKeychainCalls(2000);
    await vi.advanceTimersByTimeAsync(2000);
    await expect(ended).resolves.toBe(false);
  });
});
