import { describe, expect, it, vi } from 'vitest';
import { createLogger, logsWritten } from '../../../src/log/logger.js';
import { Scrubber, type ScrubHit } from '../../../src/log/scrubber.js';
import { startupFinished } from '../../../src/timing/startup-trace.js';

describe('createLogger', () => {
  it('scrubs every line and reports hits as "log"', async () => {
    const scrubber = new Scrubber();
    scrubber.add('github/TOKEN', 'log-canary-1234567');
    const hits: ScrubHit[] = [];
    scrubber.onhit = (hit) => hits.push(hit);
    const lines: string[] = [];
    createLogger({ level: 'info', scrubber, sink: { write: (line) => lines.push(line) } }).info({ env: 'log-canary-1234567' }, 'leaky');
    await logsWritten();
    expect(lines.join('')).toContain('[REDACTED:github/TOKEN]');
    expect(lines.join('')).not.toContain('log-canary-1234567');
    expect(hits).toEqual([{ label: 'github/TOKEN', server: 'github', name: 'TOKEN', where: 'log', count: 1 }]);
  });

  it('logs an error without its stack trace below debug, and with it at debug and trace', async () => {
    const lines = async (level: 'info' | 'debug' | 'trace'): Promise<Array<{ err: Record<string, unknown> }>> => {
      const out: string[] = [];
      const logger = createLogger({ level, scrubber: new Scrubber(), sink: { write: (line) => out.push(line) } });
      const inner = new Error('inner failure');
      logger.warn({ err: new AggregateError([inner], 'outer failure', { cause: inner }) }, 'with an object');
      logger.error(new Error('as the first argument'));
      await logsWritten();
      return out.map((line) => JSON.parse(line) as { err: Record<string, unknown> });
    };
    const info = await lines('info');
    expect(info.map((line) => line.err.message)).toEqual(['outer failure: inner failure', 'as the first argument']);
    expect(JSON.stringify(info)).not.toContain('stack');
    expect(JSON.stringify(info)).not.toMatch(/\n\s+at /);
    for (const level of ['debug', 'trace'] as const) {
      const shown = await lines(level);
      expect(shown.every((line) => typeof line.err.stack === 'string' && line.err.stack.includes('\n    at '))).toBe(true);
    }
  });

  it('leaves an object logged as err that is not an error as it is', async () => {
    const out: string[] = [];
    const logged = { stack: 'not a trace', reason: 'kept' };
    createLogger({ level: 'info', scrubber: new Scrubber(), sink: { write: (line) => out.push(line) } }).warn({ err: logged }, 'odd');
    await logsWritten();
    expect(logged.stack).toBe('not a trace');
    expect(JSON.parse(out[0]!)).toMatchObject({ err: { stack: 'not a trace', reason: 'kept' } });
  });

  it('writes the lines logged before pino is loaded in order, with the time they were logged, and drops those below the level', async () => {
    const out: string[] = [];
    const logger = createLogger({ level: 'info', scrubber: new Scrubber(), sink: { write: (line) => out.push(line) } });
    const before = Date.now();
    logger.debug('below the level');
    logger.warn({ n: 1 }, 'first');
    logger.info('second');
    expect(out, 'nothing is written before pino is loaded').toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    logger.error('third');
    await logsWritten();
    const lines = out.map((line) => JSON.parse(line) as { msg: string; level: number; time: number; n?: number });
    expect(lines.map(({ msg, level }) => [msg, level])).toEqual([
      ['first', 40],
      ['second', 30],
      ['third', 50],
    ]);
    expect(lines[0]!.n).toBe(1);
    expect(lines[0]!.time).toBeGreaterThanOrEqual(before);
    expect(lines[0]!.time, 'a waiting line keeps the time it was logged').toBeLessThan(before + 25);
    expect(lines[2]!.time).toBeGreaterThanOrEqual(before + 30);
  });

  it('writes nothing at the level silent', async () => {
    const out: string[] = [];
    const logger = createLogger({ level: 'silent', scrubber: new Scrubber(), sink: { write: (line) => out.push(line) } });
    logger.error('not shown');
    await logsWritten();
    expect(out).toEqual([]);
  });

  it('loads pino for an info line only once start-up has ended (the first answer), a warning at once', async () => {
    const out: string[] = [];
    const logger = createLogger({ level: 'info', scrubber: new Scrubber(), sink: { write: (line) => out.push(line) } });
    logger.info('server started');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(out, 'an info line waits for the end of start-up').toEqual([]);
    startupFinished();
    await vi.waitFor(() => expect(out).toHaveLength(1), { timeout: 5000 });
    expect(JSON.parse(out[0]!)).toMatchObject({ msg: 'server started', level: 30 });

    const warned: string[] = [];
    createLogger({ level: 'info', scrubber: new Scrubber(), sink: { write: (line) => warned.push(line) } }).warn('at once');
    await vi.waitFor(() => expect(warned).toHaveLength(1), { timeout: 5000 });
  });
});
