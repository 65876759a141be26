import { describe, expect, it } from 'vitest';
import { HeldWrites } from '../../../../src/proxy/downstream/held-writes.js';

/** A write that records when it ran and finishes when told to. */
function slowWrite(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    write: async () => {
      log.push(`${name} began`);
      await done;
      log.push(`${name} done`);
    },
    finish: () => finish(),
  };
}

describe('HeldWrites (the source-cache writes of a start)', () => {
  it('holds writes until it opens, then runs them; later ones run at once', async () => {
    const log: string[] = [];
    const writes = new HeldWrites();
    const a = writes.run(async () => void log.push('a'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual([]);
    writes.open();
    await a;
    expect(log).toEqual(['a']);
    await writes.run(async () => void log.push('b'));
    expect(log).toEqual(['a', 'b']);
  });

  it('flush opens the gate and waits for every write under way', async () => {
    const log: string[] = [];
    const writes = new HeldWrites();
    const slow = slowWrite(log, 'slow');
    void writes.run(slow.write);
    const flushed = writes.flush(5_000).then(() => log.push('flushed'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['slow began']);
    slow.finish();
    await flushed;
    expect(log).toEqual(['slow began', 'slow done', 'flushed']);
  });

  it('flush gives up on a write that does not end, and a failed write rejects nothing', async () => {
    const writes = new HeldWrites();
    const failed = writes.run(() => Promise.reject(new Error('keychain down')));
    void writes.run(() => new Promise<void>(() => undefined));
    const started = performance.now();
    await writes.flush(50);
    expect(performance.now() - started).toBeLessThan(5_000);
    await expect(failed).resolves.toBeUndefined();
  });
});
