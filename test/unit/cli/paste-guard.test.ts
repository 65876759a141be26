import { describe, expect, it } from 'vitest';
import { PasteGuard, splitKeys } from '../../../src/cli/paste-guard.js';

const START = '\u001b[200~';
const END = '\u001b[201~';

function guard(): { guard: PasteGuard; refusals: () => number } {
  let refusals = 0;
  const paste = new PasteGuard(() => refusals++);
  return { guard: paste, refusals: () => refusals };
}

describe('PasteGuard', () => {
  it('passes typing through, editing keys included, and turns Ctrl-D into Enter', () => {
    const { guard: g, refusals } = guard();
    expect(['ab', '\u001b[D', 'c', '\u007f', '\t', '\r'].map((chunk) => g.filter(chunk)).join('')).toBe('ab\u001b[Dc\u007f\t\r');
    expect(g.filter('\u0004')).toBe('\r');
    expect(refusals()).toBe(0);
  });

  it('passes a one-line bracketed paste without its markers; a trailing line break submits', () => {
    const { guard: g } = guard();
    expect(g.filter(`${START}token-value${END}`)).toBe('token-value');
    expect(g.filter(`x${START}token-value\r\n${END}y`)).toBe('xtoken-value\ry');
  });

  it('reassembles a paste and its markers split across reads', () => {
    const { guard: g, refusals } = guard();
    const parts = ['\u001b[2', '00~tok', 'en-va', 'lue\u001b', '[201~'];
    expect(parts.map((part) => g.filter(part)).join('')).toBe('token-value');
    expect(refusals()).toBe(0);
  });

  it('refuses a bracketed paste of several lines, however it is split, and passes nothing after it', () => {
    const { guard: g, refusals } = guard();
    expect(g.filter(`${START}-----BEGIN KEY-----\rAAAA`)).toBe('');
    expect(g.filter(`BBBB\r-----END KEY-----\r${END}`)).toBe('');
    expect(refusals()).toBe(1);
    expect(g.refused).toBe(true);
    expect(g.filter('more')).toBe('');
  });

  it('refuses an unmarked paste: a line break with more input after it in one read', () => {
    const { guard: g, refusals } = guard();
    expect(g.filter('line one\nline two')).toBe('');
    expect(refusals()).toBe(1);
  });
});

describe('splitKeys', () => {
  it('cuts terminal input into keys: escape sequences whole, characters one by one', () => {
    expect(splitKeys('my-\u001b[D\u001b[1;5C\u001bOH\u001bbé😀\r')).toEqual([
      'm',
      'y',
      '-',
      '\u001b[D',
      '\u001b[1;5C',
      '\u001bOH',
      '\u001bb',
      'é',
      '😀',
      '\r',
    ]);
    expect(splitKeys('')).toEqual([]);
  });
});
