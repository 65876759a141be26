import { mapJsonStrings } from './json-strings.js';
import { LiteralMatcher } from './literal-matcher.js';

/** Values shorter than this are not scrubbed: they would match too much ordinary text. */
export const MIN_SCRUB_LENGTH = 8;

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
  /** Finds every form (leftmost, longest first) in one pass that skips most of a clean text. */
  finder: LiteralMatcher;
  labelByForm: Map<string, string>;
}

/** The textual forms in which a secret value can leak: raw, base64, base64url, percent-encoded, JSON-escaped. */
function encodedForms(value: string): string[] {
  const base64 = Buffer.from(value, 'utf8').toString('base64');
  const forms = new Set([
    value,
    base64,
    base64.replace(/=+$/, ''),
    Buffer.from(value, 'utf8').toString('base64url'),
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
    // A JSON-escaped value seen inside a JSON string that was itself JSON-encoded (e.g. a log line).
    JSON.stringify(JSON.stringify(value).slice(1, -1)).slice(1, -1),
  ]);
  return [...forms].filter((form) => form.length >= MIN_SCRUB_LENGTH);
}

/** The kind of a JSON-RPC message (result, error, request, notification), for hit reports and audit events. */
export function messageKind(value: unknown): ScrubWhere {
  if (value === null || typeof value !== 'object') return 'other';
  if ('result' in value) return 'result';
  if ('error' in value) return 'error';
  if ('method' in value) return 'id' in value ? 'request' : 'notification';
  return 'other';
}

/**
 * Replaces every known secret value (in every encoded form) with `[REDACTED:<label>]`, the longest form first
 * where two overlap. The matcher is built once when the set changes, so a scrub is a single pass; `onhit` hears
 * which secret was replaced where (for the audit log), never the value.
 */
export class Scrubber {
  /** Called after a scrub that replaced something, once per secret with the number of occurrences. */
  onhit?: (hit: ScrubHit) => void;

  private readonly secrets: RegisteredSecret[] = [];
  private compiled: Compiled | null = null;

  /** Registers a value to scrub; `label` (e.g. `github/TOKEN`) is what replaces it. Short values are ignored. */
  add(label: string, value: string): void {
    if (value.length < MIN_SCRUB_LENGTH) return;
    this.secrets.push({ label, value });
    this.compiled = null;
  }

  /** True when at least one value is registered. */
  get active(): boolean {
    return this.secrets.length > 0;
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
   * A JSON-serialisable value with every registered secret replaced in its strings (keys included); the same
   * object when nothing matched, else a copy that shares every unchanged part. `where` defaults to the
   * JSON-RPC message kind. Walking the strings instead of serialising the message avoids copying a large result.
   */
  scrubJson<T>(value: T, where?: ScrubWhere): T {
    const compiled = this.compile();
    if (compiled === null) return value;
    const counts = new Map<string, number>();
    const scrubbed = mapJsonStrings(value, (text) => this.replaceIn(compiled, text, counts), compiled.finder.window);
    if (counts.size > 0) this.report(counts, where ?? messageKind(value));
    return scrubbed;
  }

  /** True when the text holds any registered value in any of its forms (nothing is reported). */
  finds(text: string): boolean {
    const compiled = this.compile();
    return compiled !== null && text.length >= compiled.finder.window && compiled.finder.find(text) !== undefined;
  }

  private replaceIn(compiled: Compiled, text: string, counts: Map<string, number>): string {
    if (text.length < compiled.finder.window) return text;
    let match = compiled.finder.find(text);
    if (match === undefined) return text;
    const parts: string[] = [];
    let done = 0;
    while (match !== undefined) {
      const label = compiled.labelByForm.get(match.pattern) ?? 'secret';
      counts.set(label, (counts.get(label) ?? 0) + 1);
      parts.push(text.slice(done, match.index), `[REDACTED:${label}]`);
      done = match.index + match.pattern.length;
      match = compiled.finder.find(text, done);
    }
    parts.push(text.slice(done));
    return parts.join('');
  }

  private report(counts: Map<string, number>, where: ScrubWhere): void {
    if (!this.onhit) return;
    for (const [label, count] of counts) {
      const slash = label.indexOf('/');
      const server = slash === -1 ? '' : label.slice(0, slash);
      this.onhit({ label, server, name: label.slice(slash + 1), where, count });
    }
  }

  private compile(): Compiled | null {
    if (this.compiled !== null || this.secrets.length === 0) return this.compiled;
    const labelByForm = new Map<string, string>();
    for (const { label, value } of this.secrets) {
      for (const form of encodedForms(value)) {
        if (!labelByForm.has(form)) labelByForm.set(form, label);
      }
    }
    this.compiled = { finder: new LiteralMatcher([...labelByForm.keys()]), labelByForm };
    return this.compiled;
  }
}
