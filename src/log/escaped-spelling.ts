import { LiteralMatcher } from './literal-matcher.js';

/** Where an escaped spelling was found, and which secret it spells. */
export interface SpellingMatch {
  index: number;
  length: number;
  label: string;
}

const NONE: readonly SpellingMatch[] = [];
/** The longest text one character can take: `\\uXXXX\\uXXXX` (a surrogate pair, backslashes doubled). */
const MAX_SPELLING_PER_CHARACTER = 14;
const SHORT_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Finds a secret spelled with escapes that decoders undo, mixed freely with plain characters: percent-encoding
 * (`%XX` of the UTF-8 bytes, hex in either case; `+` for a space), `\uXXXX` (also with the backslash doubled, as a
 * log line quotes it) and JSON's short escapes. Such a spelling holds a trigger (`%` or `\u`), so only the text
 * near a trigger is decoded, and the secret's plain value searched in what it decodes to: a text without a
 * trigger costs two scans and nothing more.
 */
export class EscapedSpellingMatcher {
  /** Built on the first text that holds a trigger: most texts never need it, nor do most runs. */
  private finderIfBuilt: LiteralMatcher | undefined;
  private readonly labelByValue = new Map<string, string>();
  /** The longest text one spelling of a secret can take. */
  private readonly span: number;

  /** Builds the matcher for these secrets (each at least 2 characters long). */
  constructor(secrets: readonly { label: string; value: string }[]) {
    for (const { label, value } of secrets) {
      // Form encoding writes a space as `+`; decoding leaves `+` alone, as a `+` in a secret may be written plain.
      for (const plain of [value, value.replaceAll(' ', '+')]) if (!this.labelByValue.has(plain)) this.labelByValue.set(plain, label);
    }
    this.span = MAX_SPELLING_PER_CHARACTER * Math.max(0, ...secrets.map(({ value }) => value.length));
  }

  /** Every spelling in the text, left to right, none overlapping; empty when the text holds no trigger. */
  findAll(text: string): readonly SpellingMatch[] {
    // Most texts hold no trigger: answer them without allocating anything.
    if (!text.includes('%') && !text.includes('\\u')) return NONE;
    const found: SpellingMatch[] = [];
    const nextTrigger = triggersIn(text);
    let trigger = nextTrigger(0);
    while (trigger !== -1) {
      // Any spelling that holds this trigger lies within `span` of it; near triggers share one decoded range.
      const last = found[found.length - 1];
      const start = Math.max(last ? last.index + last.length : 0, trigger - this.span);
      let end = Math.min(text.length, trigger + this.span);
      for (let next = nextTrigger(trigger + 1); next !== -1 && next - this.span <= end; next = nextTrigger(next + 1)) {
        end = Math.min(text.length, next + this.span);
      }
      this.searchDecoded(text, start, end, found);
      trigger = nextTrigger(end);
    }
    return found;
  }

  /** True when the text holds a spelling of any secret. */
  finds(text: string): boolean {
    return this.findAll(text).length > 0;
  }

  private get finder(): LiteralMatcher {
    return (this.finderIfBuilt ??= new LiteralMatcher([...this.labelByValue.keys()]));
  }

  private searchDecoded(text: string, start: number, end: number, found: SpellingMatch[]): void {
    const { decoded, starts } = decode(text, start, end);
    const finder = this.finder;
    for (let match = finder.find(decoded); match !== undefined; match = finder.find(decoded, match.index + match.pattern.length)) {
      const index = starts[match.index]!;
      found.push({
        index,
        length: starts[match.index + match.pattern.length]! - index,
        label: this.labelByValue.get(match.pattern) ?? 'secret',
      });
    }
  }
}

/** A function giving the first trigger at or after `from` (called with `from` never decreasing), or -1. */
function triggersIn(text: string): (from: number) => number {
  // Each kind is searched again only once passed: a text dense with one kind is not rescanned for the other.
  let percent = text.indexOf('%');
  let escape = text.indexOf('\\u');
  return (from) => {
    if (percent !== -1 && percent < from) percent = text.indexOf('%', from);
    if (escape !== -1 && escape < from) escape = text.indexOf('\\u', from);
    return percent === -1 ? escape : escape === -1 ? percent : Math.min(percent, escape);
  };
}

/**
 * `text[start, end)` with its escapes undone, and where each decoded character began in `text` (`starts` has one
 * more entry: the end). What is not a complete escape stays as it is. Written for speed: no allocation per escape.
 */
function decode(text: string, start: number, end: number): { decoded: string; starts: Int32Array } {
  const units = new Uint16Array(end - start);
  const starts = new Int32Array(end - start + 1);
  let n = 0;
  let i = start;
  while (i < end) {
    const code = text.charCodeAt(i);
    starts[n] = i;
    if (code === 0x25 /* % */) {
      const next = decodePercent(text, i, end, units, n);
      if (next !== -1) {
        // A high surrogate here is the first of a pair: both units start at this escape.
        if (units[n]! >= 0xd800 && units[n]! <= 0xdbff) starts[++n] = i;
        n++;
        i = next;
        continue;
      }
    } else if (code === 0x5c /* \ */ && i + 1 < end) {
      const doubled = text.charCodeAt(i + 1) === 0x5c && text.charCodeAt(i + 2) === 0x75 ? 1 : 0;
      const unit = text.charCodeAt(i + 1 + doubled) === 0x75 /* u */ && i + 6 + doubled <= end ? hexAt(text, i + 2 + doubled, 4) : -1;
      if (unit !== -1) {
        units[n++] = unit;
        i += 6 + doubled;
        continue;
      }
      const short = SHORT_ESCAPES[text[i + 1]!];
      if (short !== undefined) {
        units[n++] = short.charCodeAt(0);
        i += 2;
        continue;
      }
    }
    units[n++] = code;
    i++;
  }
  starts[n] = end;
  return { decoded: Buffer.from(units.buffer, 0, n * 2).toString('utf16le'), starts };
}

/**
 * Decodes the character that `%XX…` at `at` spells (one to four bytes of UTF-8) into `units[n]`, and `units[n+1]`
 * for a surrogate pair; returns the index after it, or -1 when it is no complete escape.
 */
function decodePercent(text: string, at: number, end: number, units: Uint16Array, n: number): number {
  const lead = at + 3 <= end ? hexAt(text, at + 1, 2) : -1;
  if (lead === -1) return -1;
  if (lead < 0x80) {
    units[n] = lead;
    return at + 3;
  }
  const extra = lead >= 0xf0 && lead <= 0xf4 ? 3 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xc2 && lead <= 0xdf ? 1 : 0;
  if (extra === 0 || at + 3 * (extra + 1) > end) return -1;
  let point = lead & (0x3f >> extra);
  for (let k = 1; k <= extra; k++) {
    const byte = text.charCodeAt(at + 3 * k) === 0x25 ? hexAt(text, at + 3 * k + 1, 2) : -1;
    if (byte < 0x80 || byte > 0xbf) return -1;
    point = (point << 6) | (byte & 0x3f);
  }
  if (point >= 0xd800 && point <= 0xdfff) return -1;
  if (point > 0xffff) {
    units[n] = 0xd800 + ((point - 0x10000) >> 10);
    units[n + 1] = 0xdc00 + ((point - 0x10000) & 0x3ff);
  } else {
    units[n] = point;
  }
  return at + 3 * (extra + 1);
}

// Hex digit values by character code, -1 for anything else.
const HEX = new Int8Array(128).fill(-1);
for (let digit = 0; digit < 16; digit++) {
  HEX[digit.toString(16).charCodeAt(0)] = digit;
  HEX[digit.toString(16).toUpperCase().charCodeAt(0)] = digit;
}

/** The number written by `digits` hex digits (either case) at `at`, or -1. */
function hexAt(text: string, at: number, digits: number): number {
  let value = 0;
  for (let k = 0; k < digits; k++) {
    const code = text.charCodeAt(at + k);
    // NaN (past the end) fails the test too.
    const digit = code < 128 ? HEX[code]! : -1;
    if (digit === -1) return -1;
    value = value * 16 + digit;
  }
  return value;
}
