import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/logger.js';
import { Scrubber, type ScrubHit } from '../../../src/log/scrubber.js';

describe('createLogger', () => {
  it('scrubs every line and reports hits as "log"', () => {
    const scrubber = new Scrubber();
    scrubber.add('github/TOKEN', 'log-canary-1234567');
    const hits: ScrubHit[] = [];
    scrubber.onhit = (hit) => hits.push(hit);
    const lines: string[] = [];
    createLogger({ level: 'info', scrubber, sink: { write: (line) => lines.push(line) } }).info({ env: 'log-canary-1234567' }, 'leaky');
    expect(lines.join('')).toContain('[REDACTED:github/TOKEN]');
    expect(lines.join('')).not.toContain('log-canary-1234567');
    expect(hits).toEqual([{ label: 'github/TOKEN', server: 'github', name: 'TOKEN', where: 'log', count: 1 }]);
  });

  it('logs an error without its stack trace below debug, and with it at debug and trace', () => {
    const lines = (level: 'info' | 'debug' | 'trace'): Array<{ err: Record<string, unknown> }> => {
      const out: string[] = [];
      const logger = createLogger({ level, scrubber: new Scrubber(), sink: { write: (line) => out.push(line) } });
      const inner = new Error('inner failure');
      logger.warn({ err: new AggregateError([inner], 'outer failure', { cause: inner }) }, 'with an object');
      logger.error(new Error('as the first argument'));
      return out.map((line) => JSON.parse(line) as { err: Record<string, unknown> });
    };
    const info = lines('info');
    expect(info.map((line) => line.err.message)).toEqual(['outer failure: inner failure', 'as the first argument']);
    expect(JSON.stringify(info)).not.toContain('stack');
    expect(JSON.stringify(info)).not.toMatch(/\n\s+at /);
    for (const level of ['debug', 'trace'] as const) {
      const shown = lines(level);
      expect(shown.every((line) => typeof line.err.stack === 'string' && line.err.stack.includes('\n    at '))).toBe(true);
    }
  });

  it('leaves an object logged as err that is not an error as it is', () => {
    const out: string[] = [];
    const logged = { stack: 'not a trace', reason: 'kept' };
    createLogger({ level: 'info', scrubber: new Scrubber(), sink: { write: (line) => out.push(line) } }).warn({ err: logged }, 'odd');
    expect(logged.stack).toBe('not a trace');
    expect(JSON.parse(out[0]!)).toMatchObject({ err: { stack: 'not a trace', reason: 'kept' } });
  });
});
