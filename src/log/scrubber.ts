/** Values shorter than this are not scrubbed: they would match too much ordinary text. */
export const MIN_SCRUB_LENGTH = 8;

interface RegisteredSecret {
  label: string;
  value: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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

/**
 * Replaces every known secret value (in every encoded form) with `[REDACTED:<label>]`.
 * One combined regular expression is built when the set changes, so a scrub is a single pass over the text.
 */
export class Scrubber {
  private readonly secrets: RegisteredSecret[] = [];
  private matcher: RegExp | null = null;
  private labelByForm = new Map<string, string>();

  /** Registers a value to scrub; `label` (e.g. `github/TOKEN`) is what replaces it. Short values are ignored. */
  add(label: string, value: string): void {
    if (value.length < MIN_SCRUB_LENGTH) return;
    this.secrets.push({ label, value });
    this.matcher = null;
  }

  /** True when at least one value is registered. */
  get active(): boolean {
    return this.secrets.length > 0;
  }

  /** The text with every registered value replaced. */
  scrub(text: string): string {
    const matcher = this.compile();
    if (matcher === null) return text;
    matcher.lastIndex = 0;
    if (!matcher.test(text)) return text;
    matcher.lastIndex = 0;
    return text.replace(matcher, (form) => `[REDACTED:${this.labelByForm.get(form) ?? 'secret'}]`);
  }

  /** A JSON-serialisable value with every registered secret replaced; the same object when nothing matched. */
  scrubJson<T>(value: T): T {
    if (this.compile() === null) return value;
    const text = JSON.stringify(value);
    const scrubbed = this.scrub(text);
    return scrubbed === text ? value : (JSON.parse(scrubbed) as T);
  }

  private compile(): RegExp | null {
    if (this.matcher !== null || this.secrets.length === 0) return this.matcher;
    this.labelByForm = new Map();
    for (const { label, value } of this.secrets) {
      for (const form of encodedForms(value)) {
        if (!this.labelByForm.has(form)) this.labelByForm.set(form, label);
      }
    }
    // Longest first, so a value is replaced whole rather than a shorter value found inside it.
    const alternatives = [...this.labelByForm.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.matcher = new RegExp(alternatives.join('|'), 'g');
    return this.matcher;
  }
}
