import { describe, expect, it } from 'vitest';
import { Scrubber, type ScrubHit } from '../../../src/log/scrubber.js';

describe('Scrubber', () => {
  const value = 'sk-test/VALUE+with"quote\\and&more';
  const scrubber = new Scrubber();
  scrubber.add('github/TOKEN', value);

  it('replaces the raw value and says which secret it was', () => {
    expect(scrubber.scrub(`key=${value}; again ${value}`)).toBe('key=[REDACTED:github/TOKEN]; again [REDACTED:github/TOKEN]');
  });

  it.each([
    ['base64', Buffer.from(value).toString('base64')],
    ['base64 without padding', Buffer.from(value).toString('base64').replace(/=+$/, '')],
    ['base64url', Buffer.from(value).toString('base64url')],
    ['percent-encoded', encodeURIComponent(value)],
    ['JSON-escaped', JSON.stringify(value).slice(1, -1)],
  ])('replaces the %s form', (_form, encoded) => {
    expect(scrubber.scrub(`before ${encoded} after`)).toBe('before [REDACTED:github/TOKEN] after');
  });

  it('scrubs JSON messages and keeps them valid, returning the same object when nothing matched', () => {
    const clean = { result: { text: 'nothing here' } };
    expect(scrubber.scrubJson(clean)).toBe(clean);
    const leaked = scrubber.scrubJson({ result: { text: `token is ${value}` } });
    expect(leaked).toEqual({ result: { text: 'token is [REDACTED:github/TOKEN]' } });
  });

  it('scrubs values of 4 to 7 characters too, and refuses shorter ones (spellings.test.ts has the rest)', () => {
    const short = new Scrubber();
    short.add('s/short', 'abc1234');
    expect(short.active).toBe(true);
    expect(short.scrub('x abc1234 y')).toBe('x [REDACTED:s/short] y');
    expect(() => short.add('s/tiny', 'abc')).toThrow(/shorter than 4 characters/);
  });

  it('says when a JSON number may spell a value (then only scrubJson catches it), and not otherwise', () => {
    const letters = new Scrubber();
    letters.add('s/KEY', 'ghp_abcdefgh12345678');
    expect(letters.scrubsNumbers).toBe(false);
    const digits = new Scrubber();
    digits.add('s/PIN', '12345678');
    expect(digits.scrubsNumbers).toBe(true);
    expect(digits.scrubJson({ value: 1.2345678e7 })).toEqual({ value: '[REDACTED:s/PIN]' });
  });

  it('prefers the longer of two overlapping secrets', () => {
    const overlapping = new Scrubber();
    overlapping.add('a/SHORT', 'secret-value');
    overlapping.add('a/LONG', 'secret-value-extended');
    expect(overlapping.scrub('x secret-value-extended y secret-value')).toBe('x [REDACTED:a/LONG] y [REDACTED:a/SHORT]');
  });
});

describe('Scrubber hit reports', () => {
  const value = 'canary-4f7c1e9a2b';
  const make = () => {
    const scrubber = new Scrubber();
    scrubber.add('github/TOKEN', value);
    scrubber.add('github/OTHER', 'another-secret-value');
    const hits: ScrubHit[] = [];
    scrubber.onhit = (hit) => hits.push(hit);
    return { scrubber, hits };
  };

  it('reports which secret matched, how often and where, never the value', () => {
    const { scrubber, hits } = make();
    scrubber.scrub(`${value} and ${Buffer.from(value).toString('base64')}`, 'stderr');
    expect(hits).toEqual([{ label: 'github/TOKEN', server: 'github', name: 'TOKEN', where: 'stderr', count: 2 }]);
    expect(JSON.stringify(hits)).not.toContain(value);
  });

  it('reports nothing when nothing matched', () => {
    const { scrubber, hits } = make();
    scrubber.scrub('clean text that is long enough', 'log');
    scrubber.scrubJson({ result: { text: 'clean' } });
    expect(hits).toEqual([]);
  });

  it.each([
    [{ jsonrpc: '2.0', id: 1, result: { text: value } }, 'result'],
    [{ jsonrpc: '2.0', id: 1, error: { code: -1, message: value } }, 'error'],
    [{ jsonrpc: '2.0', method: 'notifications/message', params: { data: value } }, 'notification'],
    [{ jsonrpc: '2.0', id: 7, method: 'sampling/createMessage', params: { text: value } }, 'request'],
  ])('infers where from the JSON-RPC message kind (%#)', (message, where) => {
    const { scrubber, hits } = make();
    scrubber.scrubJson(message);
    expect(hits).toEqual([expect.objectContaining({ name: 'TOKEN', where, count: 1 })]);
  });

  it('counts hits across all strings of one message, one report per secret', () => {
    const { scrubber, hits } = make();
    scrubber.scrubJson({ result: { a: value, b: [value, 'another-secret-value'], [value]: 1 } });
    expect(hits).toEqual([expect.objectContaining({ name: 'TOKEN', count: 3 }), expect.objectContaining({ name: 'OTHER', count: 1 })]);
  });
});

describe('Scrubber.scrubJson', () => {
  const value = 'sk-test/VALUE+with"quote\\and&more';
  const scrubber = new Scrubber();
  scrubber.add('github/TOKEN', value);

  it('scrubs object keys and nested arrays, sharing every unchanged part', () => {
    const untouched = { deep: ['a', { b: 'c' }] };
    const message = { result: { untouched, list: ['x', `y ${value}`], [value]: true } };
    const scrubbed = scrubber.scrubJson(message);
    expect(scrubbed).toEqual({ result: { untouched, list: ['x', 'y [REDACTED:github/TOKEN]'], '[REDACTED:github/TOKEN]': true } });
    expect(scrubbed.result.untouched).toBe(untouched);
    expect(message.result.list[1]).toContain(value);
  });

  it('finds the value whether raw in a string or JSON-escaped inside embedded JSON text', () => {
    const embedded = JSON.stringify({ env: { TOKEN: value } });
    const scrubbed = scrubber.scrubJson({ result: { content: [{ type: 'text', text: embedded }] } });
    expect(JSON.stringify(scrubbed)).not.toContain(value);
    expect(JSON.stringify(scrubbed)).not.toContain(JSON.stringify(value).slice(1, -1));
    expect(JSON.parse(scrubbed.result.content[0]!.text)).toEqual({ env: { TOKEN: '[REDACTED:github/TOKEN]' } });
  });

  it('gives the same text as scrubbing the serialised message', () => {
    const message = { id: 1, result: { a: `${value}${value}`, b: encodeURIComponent(value), c: 'plain', n: 3, z: null } };
    expect(JSON.stringify(scrubber.scrubJson(message))).toBe(scrubber.scrub(JSON.stringify(message)));
  });

  it('keeps a "__proto__" key as data', () => {
    const message = JSON.parse(`{"__proto__": {"x": "${value.replace(/["\\]/g, '\\$&')}"}, "y": 1}`) as Record<string, unknown>;
    const scrubbed = scrubber.scrubJson(message);
    expect(Object.getPrototypeOf(scrubbed)).toBe(Object.prototype);
    expect(JSON.stringify(scrubbed)).toBe('{"__proto__":{"x":"[REDACTED:github/TOKEN]"},"y":1}');
  });

  it('scrubs what toJSON serialises', () => {
    const holder = { toJSON: () => ({ text: value }) };
    expect(JSON.stringify(scrubber.scrubJson({ result: holder }))).toBe('{"result":{"text":"[REDACTED:github/TOKEN]"}}');
  });

  it('scrubs a value in a large result and leaves a large clean result as it is', () => {
    const filler = 'The quick brown fox jumps over the lazy dog. '.repeat(50_000);
    const clean = { result: { content: [{ type: 'text', text: filler }] } };
    expect(scrubber.scrubJson(clean)).toBe(clean);
    const leaked = scrubber.scrubJson({ result: { content: [{ type: 'text', text: `${filler}${value}${filler}` }] } });
    expect(leaked.result.content[0]!.text).toBe(`${filler}[REDACTED:github/TOKEN]${filler}`);
  });
});
