import { describe, expect, it } from 'vitest';
import { Scrubber } from '../../../src/log/scrubber.js';

// Characters that each spelling treats differently: `/` and `+` (base64 vs base64url, percent), a space (form
// encoding), a quote (JSON), a letter that is a hex digit, and one outside ASCII (UTF-8 bytes, `\uXXXX`).
const KEY = 'sk-Te5t/+ key"é9';
const LABEL = '[REDACTED:srv/KEY]';

function scrubberFor(value: string): Scrubber {
  const scrubber = new Scrubber();
  scrubber.add('srv/KEY', value);
  return scrubber;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const b64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const percentAll = (text: string, upper: boolean) =>
  [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`[upper ? 'toUpperCase' : 'toLowerCase']()).join('');
const escapeAllUnicode = (text: string) => [...text].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');

/** True when some base64 decoding of some part of `text` (any offset, either alphabet) holds the key. */
function base64Reveals(text: string, value: string): boolean {
  const bytes = Buffer.from(value, 'utf8');
  for (const piece of text.split(LABEL)) {
    for (let skip = 0; skip < 4; skip++) {
      const part = piece.slice(skip).replaceAll('-', '+').replaceAll('_', '/');
      if (Buffer.from(part, 'base64').includes(bytes)) return true;
    }
  }
  return false;
}

/** True when percent / form / JSON decoding of some part of `text` holds the key. */
function decodedReveals(text: string, value: string): boolean {
  for (const piece of text.split(LABEL)) {
    const tries = [
      () => decodeURIComponent(piece),
      () => new URLSearchParams(`x=${piece}`).get('x') ?? '',
      () => JSON.parse(`"${piece}"`) as string,
    ];
    for (const attempt of tries) {
      try {
        if (attempt().includes(value)) return true;
      } catch {
        // not decodable this way
      }
    }
  }
  return false;
}

describe('Scrubber: base64 at every alignment', () => {
  const scrubber = scrubberFor(KEY);
  const cases: Array<[string, string]> = [];
  for (const [prefix, suffix] of [
    ['', ''],
    ['A', ''],
    ['AB', ''],
    ['', 'Z'],
    ['A', 'YZ'],
    ['AB', 'Z'],
    ['API_TOKEN=', '\n'],
    ['tok:', ''],
  ]) {
    const data = `${prefix}${KEY}${suffix}`;
    cases.push([`standard, padded: ${JSON.stringify(prefix)}+key+${JSON.stringify(suffix)}`, b64(data)]);
    cases.push([`standard, unpadded: ${JSON.stringify(prefix)}+key+${JSON.stringify(suffix)}`, b64(data).replace(/=+$/, '')]);
    cases.push([`url-safe: ${JSON.stringify(prefix)}+key+${JSON.stringify(suffix)}`, b64url(data)]);
  }

  it.each(cases)('%s', (_name, encoded) => {
    const scrubbed = scrubber.scrub(`blob ${encoded} end`);
    expect(scrubbed).toContain(LABEL);
    expect(base64Reveals(scrubbed, KEY)).toBe(false);
  });

  it('the spelling the issue found: base64("API_TOKEN=<key>\\n") in a resource blob', () => {
    const blob = { contents: [{ uri: 'file:///.env', blob: b64(`API_TOKEN=${KEY}\n`) }] };
    const scrubbed = JSON.stringify(scrubber.scrubJson({ jsonrpc: '2.0', id: 1, result: blob }));
    expect(base64Reveals(scrubbed, KEY)).toBe(false);
  });
});

describe('Scrubber: percent, form and JSON escapes, any mix', () => {
  const scrubber = scrubberFor(KEY);
  const component = encodeURIComponent(KEY);
  it.each([
    ["encodeURIComponent's", component],
    ['uppercase hex', component.replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase())],
    ['lowercase hex', component.replace(/%[0-9a-f]{2}/gi, (escape) => escape.toLowerCase())],
    ['every byte encoded, uppercase', percentAll(KEY, true)],
    ['every byte encoded, lowercase', percentAll(KEY, false)],
    ['form encoding (+ for a space)', new URLSearchParams({ k: KEY }).toString().slice(2)],
    ['a mix of %XX and plain', 'sk%2DTe5t/%2b%20k%65y%22%c3%A99'],
    ['encodeURI (/ and + left plain)', encodeURI(KEY)],
    ['JSON-escaped', JSON.stringify(KEY).slice(1, -1)],
    ['every character as \\uXXXX', escapeAllUnicode(KEY)],
    ['\\uXXXX mixed with plain', 'sk-Te5t/+ \\u006bey\\"\\u00E99'],
    ['\\uXXXX with the backslash doubled (a log line)', escapeAllUnicode(KEY).replaceAll('\\', '\\\\')],
  ])('%s', (_name, spelled) => {
    const scrubbed = scrubber.scrub(`url=https://x.test/?k=${spelled}&next=1`);
    expect(scrubbed).toBe(`url=https://x.test/?k=${LABEL}&next=1`);
    expect(decodedReveals(scrubbed, KEY)).toBe(false);
  });

  it('form encoding of a value whose only special characters are spaces (no % at all)', () => {
    expect(scrubberFor('open sesame 42').scrub('q=open+sesame+42&x=1')).toBe(`q=${LABEL}&x=1`);
  });

  it('in a JSON message, where the strings are decoded once already', () => {
    const message = { jsonrpc: '2.0', id: 3, result: { content: [{ type: 'text', text: `GET /?token=${percentAll(KEY, true)}` }] } };
    expect(JSON.stringify(scrubber.scrubJson(message))).toContain(`GET /?token=${LABEL}`);
  });

  it('a secret outside the BMP, percent-encoded and as a \\u surrogate pair', () => {
    const emoji = scrubberFor('key-🔑-value');
    expect(emoji.scrub(encodeURIComponent('key-🔑-value'))).toBe(LABEL);
    expect(emoji.scrub(JSON.stringify('key-🔑-value', null).slice(1, -1))).toBe(LABEL);
    expect(emoji.scrub('key-\\ud83d\\uDD11-value')).toBe(LABEL);
  });

  it('finds() sees the escaped spellings too (the original-line check)', () => {
    expect(scrubber.finds(`{"text":"${percentAll(KEY, false)}"}`)).toBe(true);
    expect(scrubber.finds('{"text":"100% clean, \\u0041 only"}')).toBe(false);
  });
});

describe('Scrubber: hex', () => {
  const scrubber = scrubberFor(KEY);
  it.each([
    ['lowercase', Buffer.from(KEY).toString('hex')],
    ['uppercase', Buffer.from(KEY).toString('hex').toUpperCase()],
  ])('%s hex of the UTF-8 bytes', (_name, hex) => {
    expect(scrubber.scrub(`dump: 00ff${hex}ff00`)).toBe(`dump: 00ff${LABEL}ff00`);
  });
});

describe('Scrubber: numbers', () => {
  const scrubber = new Scrubber();
  scrubber.add('srv/PIN', '73917355');
  scrubber.add('srv/BIG', '98765432109876543210');

  it('replaces a JSON number that is, or holds, an all-digit secret with the redaction string', () => {
    const message = { jsonrpc: '2.0', method: 'notifications/message', params: { data: { pin: 73917355, inside: 1739173550, ok: 42 } } };
    expect(scrubber.scrubJson(message)).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: { data: { pin: '[REDACTED:srv/PIN]', inside: '1[REDACTED:srv/PIN]0', ok: 42 } },
    });
  });

  it('a number too long to survive parsing is matched by its value', () => {
    const parsed = JSON.parse('{"jsonrpc":"2.0","id":1,"result":{"n":98765432109876543210,"m":[7.3917355e7]}}') as object;
    expect(scrubber.scrubJson(parsed)).toEqual({ jsonrpc: '2.0', id: 1, result: { n: '[REDACTED:srv/BIG]', m: ['[REDACTED:srv/PIN]'] } });
  });

  it("leaves a response's id alone: it is the client's own", () => {
    const response = { jsonrpc: '2.0', id: 73917355, result: { pin: 73917355 } };
    expect(scrubber.scrubJson(response)).toEqual({ jsonrpc: '2.0', id: 73917355, result: { pin: '[REDACTED:srv/PIN]' } });
  });

  it('does not look at numbers when no secret could be written as one', () => {
    const message = { jsonrpc: '2.0', id: 1, result: { n: 12345678 } };
    expect(scrubberFor('not-a-number').scrubJson(message)).toBe(message);
  });
});

describe('Scrubber: length classes', () => {
  it.each(['', 'a', 'ab', 'abc', '🔑🔑🔑'])('refuses to register %j (under 4 characters): it must not be injected', (value) => {
    const scrubber = new Scrubber();
    expect(() => scrubber.add('srv/KEY', value)).toThrow(/shorter than 4 characters[\s\S]*mcp-keyproxy secrets set srv KEY/);
    expect(scrubber.active).toBe(false);
  });

  it.each(['abcd', '1234', 'pass12', 'abc1234'])('scrubs %j (4 to 7 characters) in every spelling', (value) => {
    const scrubber = scrubberFor(value);
    expect(scrubber.active).toBe(true);
    for (const spelled of [value, b64(value), b64(`x${value}y`), b64url(`xy${value}`), percentAll(value, true), escapeAllUnicode(value)]) {
      const scrubbed = scrubber.scrub(`[${spelled}]`);
      expect(scrubbed).toContain(LABEL);
      expect(base64Reveals(scrubbed, value) || decodedReveals(scrubbed, value) || scrubbed.includes(value)).toBe(false);
    }
  });

  it('scrubs a short all-digit value sent as a number', () => {
    expect(scrubberFor('4711').scrubJson({ jsonrpc: '2.0', method: 'x', params: { code: 4711 } })).toEqual({
      jsonrpc: '2.0',
      method: 'x',
      params: { code: LABEL },
    });
  });
});
