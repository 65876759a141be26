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
});
