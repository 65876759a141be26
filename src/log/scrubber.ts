import { KeyproxyError } from '../errors.js';
import { secretsSetCommand } from '../secrets/hints.js';
import { EscapedSpellingMatcher, type SpellingMatch } from './escaped-spelling.js';
import { mapJsonStrings } from './json-strings.js';
import { LiteralMatcher } from './literal-matcher.js';
import { literalForms } from './secret-forms.js';

/** Values shorter than this many characters cannot be scrubbed: the proxy refuses to inject them. */
export const MIN_SCRUB_LENGTH = 4;
/** Values shorter than this many characters are refused when stored: scrubbing them would hit ordinary text. */
export const MIN_STORED_LENGTH = 8;

/** The length of a value in characters (code points), as both length rules count it. */
export function characterLength(value: string): number {
  return [...value].length;
}

/** Where a scrubbed value was about to go: a JSON-RPC message kind sent to the client, a log line or stderr. */
export type ScrubWhere = 'result' | 'error' | 'request' | 'notification' | 'log' | 'stderr' | 'other';

/** One scrub call replaced `count` occurrences of one secret (names only: the value is never reported). */
export interface ScrubHit {
  /** `<server>/<name>`, as shown in `[REDACTED:…]`. */
  label: string;
  server: string;
  name: string;
  where: ScrubWhere;
  count: number;
}

interface RegisteredSecret {
  label: string;
  value: string;
}

interface Compiled {
  /** Finds every fixed form (leftmost, longest first) in one pass that skips most of a clean text. */
  finder: LiteralMatcher;
  labelByForm: Map<string, string>;
  /** Finds the spellings that mix escapes and plain characters (percent-encoding, `\uXXXX`). */
  spellings: EscapedSpellingMatcher;
  /** Labels of the values written as a JSON number (`12345678`), by that number; empty for most secrets. */
  labelByNumber: Map<number, string>;
  /** True when some fixed form could sit inside a number's decimal text, so numbers must be looked at. */
  numeric: boolean;
}

const jsonNumber = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
const numberText = /^[-+.0-9e]+$/;

/** The kind of a JSON-RPC message (result, error, request, notification), for hit reports and audit events. */
export function messageKind(value: unknown): ScrubWhere {
  if (value === null || typeof value !== 'object') return 'other';
  if ('result' in value) return 'result';
  if ('error' in value) return 'error';
  if ('method' in value) return 'id' in value ? 'request' : 'notification';
  return 'other';
}

/**
 * Replaces every known secret value (in every form: see secret-forms.ts and escaped-spelling.ts) with
 * `[REDACTED:<label>]`, the longest form first where two overlap, and a JSON number that spells one with that
 * string. The matchers are built once when the set changes, so a scrub is a single pass over a clean text; `onhit`
 * hears which secret was replaced where (for the audit log), never the value.
 */
export class Scrubber {
  /** Called after a scrub that replaced something, once per secret with the number of occurrences. */
  onhit?: (hit: ScrubHit) => void;

  private readonly secrets: RegisteredSecret[] = [];
  private compiled: Compiled | null = null;
  private compileScheduled = false;

  /** `profile`: the credential profile of the values it is given, named in the fix of one that is too short. */
  constructor(private readonly options: { profile?: string } = {}) {}

  /**
   * Registers a value to scrub; `label` (e.g. `github/TOKEN`) is what replaces it. Throws for a value shorter than
   * {@link MIN_SCRUB_LENGTH}: a value that cannot be scrubbed must not be injected, and this runs first.
   */
  add(label: string, value: string): void {
    if (characterLength(value) < MIN_SCRUB_LENGTH) {
      const slash = label.indexOf('/');
      const [server, name] = slash === -1 ? [undefined, label] : [label.slice(0, slash), label.slice(slash + 1)];
      throw new KeyproxyError(
        'SECRET_INVALID',
        `The value of secret ${name}${server ? ` of server "${server}"` : ''} is shorter than ${MIN_SCRUB_LENGTH} characters (a declared default, or a value stored before ${MIN_STORED_LENGTH} characters were required). A value that short cannot be scrubbed from what the server sends back, so it is not injected and the server does not start. Store a value of at least ${MIN_STORED_LENGTH} characters with:\n  ${secretsSetCommand(server, name, this.options.profile)}`,
      );
    }
    this.secrets.push({ label, value });
    this.compiled = null;
    this.compileSoon();
  }

  /** True when at least one value is registered. */
  get active(): boolean {
    return this.secrets.length > 0;
  }

  /**
   * True when a JSON number can spell a registered value by its value alone (`1.2345678e7` for `12345678`), which
   * no look at the text finds: then only `scrubJson` is sure to catch it.
   */
  get scrubsNumbers(): boolean {
    return this.compile()?.numeric ?? false;
  }

  /** The text with every registered value replaced; `where` is only used in hit reports. */
  scrub(text: string, where: ScrubWhere = 'other'): string {
    const compiled = this.compile();
    if (compiled === null) return text;
    const counts = new Map<string, number>();
    const scrubbed = this.replaceIn(compiled, text, counts);
    if (counts.size > 0) this.report(counts, where);
    return scrubbed;
  }

  /**
   * A JSON-serialisable value with every registered secret replaced in its strings (keys included) and numbers;
   * the same object when nothing matched, else a copy that shares every unchanged part. `where` defaults to the
   * JSON-RPC message kind. Walking the strings instead of serialising the message avoids copying a large result.
   */
  scrubJson<T>(value: T, where?: ScrubWhere): T {
    const compiled = this.compile();
    if (compiled === null) return value;
    const counts = new Map<string, number>();
    const mapNumber = compiled.numeric ? (number: number) => this.replaceNumber(compiled, number, counts) : undefined;
    const scrubbed = mapJsonStrings(value, (text) => this.replaceIn(compiled, text, counts), compiled.finder.window, mapNumber);
    if (counts.size > 0) this.report(counts, where ?? messageKind(value));
    return keepResponseId(value, scrubbed);
  }

  /** True when the text holds any registered value in any of its forms (nothing is reported). */
  finds(text: string): boolean {
    const compiled = this.compile();
    if (compiled === null || text.length < compiled.finder.window) return false;
    return compiled.finder.find(text) !== undefined || compiled.spellings.finds(text);
  }

  private replaceIn(compiled: Compiled, text: string, counts: Map<string, number>): string {
    if (text.length < compiled.finder.window) return text;
    // Escaped spellings first: what is left of them afterwards holds no secret, and the fixed forms are then found.
    const spelled = compiled.spellings.findAll(text);
    const unescaped = spelled.length === 0 ? text : redact(text, spelled, counts);
    let match = compiled.finder.find(unescaped);
    if (match === undefined) return unescaped;
    const found: SpellingMatch[] = [];
    while (match !== undefined) {
      found.push({ index: match.index, length: match.pattern.length, label: compiled.labelByForm.get(match.pattern) ?? 'secret' });
      match = compiled.finder.find(unescaped, match.index + match.pattern.length);
    }
    return redact(unescaped, found, counts);
  }

  /** A number whose decimal text holds a secret, or whose value is one written as a number, becomes a string. */
  private replaceNumber(compiled: Compiled, number: number, counts: Map<string, number>): unknown {
    const label = compiled.labelByNumber.get(number);
    if (label !== undefined) {
      counts.set(label, (counts.get(label) ?? 0) + 1);
      return `[REDACTED:${label}]`;
    }
    const text = String(number);
    const scrubbed = this.replaceIn(compiled, text, counts);
    return scrubbed === text ? number : scrubbed;
  }

  private report(counts: Map<string, number>, where: ScrubWhere): void {
    if (!this.onhit) return;
    for (const [label, count] of counts) {
      const slash = label.indexOf('/');
      const server = slash === -1 ? '' : label.slice(0, slash);
      this.onhit({ label, server, name: label.slice(slash + 1), where, count });
    }
  }

  /**
   * Builds the matchers as soon as the event loop is free: values are added just before a server is spawned, so
   * they are built while it boots instead of when its first answer is on its way to the client.
   */
  private compileSoon(): void {
    if (this.compileScheduled) return;
    this.compileScheduled = true;
    setImmediate(() => {
      this.compileScheduled = false;
      this.compile();
    }).unref();
  }

  private compile(): Compiled | null {
    if (this.compiled !== null || this.secrets.length === 0) return this.compiled;
    const labelByForm = new Map<string, string>();
    const labelByNumber = new Map<number, string>();
    for (const { label, value } of this.secrets) {
      for (const form of literalForms(value)) {
        if (form.length >= 2 && !labelByForm.has(form)) labelByForm.set(form, label);
      }
      // Parsed, a long number loses digits (12345678901234567890 prints as 12345678901234567000): compare values.
      if (jsonNumber.test(value) && !labelByNumber.has(Number(value))) labelByNumber.set(Number(value), label);
    }
    this.compiled = {
      finder: new LiteralMatcher([...labelByForm.keys()]),
      labelByForm,
      spellings: new EscapedSpellingMatcher(this.secrets),
      labelByNumber,
      numeric: labelByNumber.size > 0 || [...labelByForm.keys()].some((form) => numberText.test(form)),
    };
    return this.compiled;
  }
}

/** The text with each match (left to right, not overlapping) replaced by `[REDACTED:<label>]`, counted by label. */
function redact(text: string, matches: readonly SpellingMatch[], counts: Map<string, number>): string {
  const parts: string[] = [];
  let done = 0;
  for (const { index, length, label } of matches) {
    counts.set(label, (counts.get(label) ?? 0) + 1);
    parts.push(text.slice(done, index), `[REDACTED:${label}]`);
    done = index + length;
  }
  parts.push(text.slice(done));
  return parts.join('');
}

/** A response's id is the client's own (the router put it back): changed, it would leave the client waiting. */
function keepResponseId<T>(original: T, scrubbed: T): T {
  if (scrubbed === original || typeof original !== 'object' || original === null || !('id' in original)) return scrubbed;
  const kind = messageKind(original);
  const id = (original as { id: unknown }).id;
  if ((kind !== 'result' && kind !== 'error') || (scrubbed as { id: unknown }).id === id) return scrubbed;
  return { ...scrubbed, id };
}
