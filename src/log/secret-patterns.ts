import { mapJsonStrings } from './json-strings.js';

/** Identifiers of the well-known credential formats the pattern guard recognises. */
export type SecretPatternId =
  | 'aws-access-key-id'
  | 'aws-secret-access-key'
  | 'github-token'
  | 'github-fine-grained-token'
  | 'slack-token'
  | 'private-key'
  | 'stripe-live-key'
  | 'google-api-key'
  | 'openai-key'
  | 'anthropic-key';

/** One credential format: the regex matches what is redacted, except a leading `(?<keep>…)` group, which stays. */
export interface SecretPattern {
  id: SecretPatternId;
  description: string;
  source: string;
}

// Token characters: a match must not be the middle of a longer token (no false hit inside a base64 blob).
const before = '(?<![A-Za-z0-9_+/=-])';
const after = '(?![A-Za-z0-9_-])';

/** The formats, each anchored on its fixed prefix so ordinary text (UUIDs, git SHAs, base64) does not match. */
export const SECRET_PATTERNS: readonly SecretPattern[] = [
  { id: 'aws-access-key-id', description: 'AWS access key id', source: `${before}(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}${after}` },
  {
    id: 'aws-secret-access-key',
    description: 'AWS secret access key next to its variable name (only the value is redacted)',
    // Led by the variable name, not a lookbehind: a regex that starts with a literal is scanned ≈30× faster.
    source: `(?<keep>(?:aws|AWS)_?(?:secret|SECRET)_?(?:access|ACCESS)_?(?:key|KEY)\\\\?["']?\\s*[:=]\\s*\\\\?["']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])`,
  },
  {
    id: 'github-token',
    description: 'GitHub token (ghp_, gho_, ghu_, ghs_, ghr_)',
    source: `${before}gh[pousr]_[A-Za-z0-9]{36,251}${after}`,
  },
  { id: 'github-fine-grained-token', description: 'GitHub fine-grained token', source: `${before}github_pat_[A-Za-z0-9_]{50,255}${after}` },
  { id: 'slack-token', description: 'Slack token (xoxa-, xoxb-, xoxp-, xoxr-)', source: `${before}xox[abpr]-[A-Za-z0-9-]{10,250}${after}` },
  {
    id: 'private-key',
    description: 'PEM private key (the whole block, or the header and what follows when truncated)',
    source:
      '-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[\\s\\S]*?-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\\s:,-]*)',
  },
  {
    id: 'stripe-live-key',
    description: 'Stripe live secret or restricted key',
    source: `${before}(?:sk|rk)_live_[A-Za-z0-9]{20,247}${after}`,
  },
  { id: 'google-api-key', description: 'Google API key', source: `${before}AIza[A-Za-z0-9_-]{35}${after}` },
  { id: 'anthropic-key', description: 'Anthropic API key', source: `${before}sk-ant-[a-z]{3,10}\\d{2}-[A-Za-z0-9_-]{32,300}${after}` },
  {
    id: 'openai-key',
    description: 'OpenAI API key (sk-proj-, sk-svcacct-, sk-admin-, legacy sk-)',
    source: `${before}sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,300}|[A-Za-z0-9]{48})${after}`,
  },
];

/** What the guard found in one call: pattern ids with their number of occurrences. */
export type PatternHits = Map<SecretPatternId, number>;

/** The output of the guard: the redacted value and the patterns that hit (empty when nothing matched). */
export interface GuardResult<T> {
  value: T;
  hits: PatternHits;
}

// One regex with a named group per pattern: one pass over the text whatever the number of formats.
const combined = new RegExp(
  SECRET_PATTERNS.map((pattern, i) => `(?<p${i}>${pattern.source.replace('(?<keep>', `(?<keep${i}>`)})`).join('|'),
  'g',
);

// Every format holds one of these fixed strings: a cheap test that skips the regex for almost every text.
const anchors = /AKIA|ASIA|ABIA|ACCA|aws|AWS|gh[pousr]_|github_pat_|xox|PRIVATE KEY|_live_|AIza|sk-/;

/** True when the text holds a well-known credential format anywhere (nothing is redacted or counted). */
export function findsSecretPattern(text: string): boolean {
  if (!anchors.test(text)) return false;
  combined.lastIndex = 0;
  return combined.test(text);
}

function redactText(text: string, hits: PatternHits): string {
  if (!anchors.test(text)) return text;
  return text.replace(combined, (...args: unknown[]) => {
    const groups = args[args.length - 1] as Record<string, string | undefined>;
    const index = SECRET_PATTERNS.findIndex((_pattern, i) => groups[`p${i}`] !== undefined);
    const id = SECRET_PATTERNS[index]?.id ?? 'openai-key';
    hits.set(id, (hits.get(id) ?? 0) + 1);
    return `${groups[`keep${index}`] ?? ''}[REDACTED:pattern/${id}]`;
  });
}

/** Redacts well-known credential formats (not the proxy's own secrets: the Scrubber does those) in a text. */
export function redactSecretPatterns(text: string): GuardResult<string> {
  const hits: PatternHits = new Map();
  return { value: redactText(text, hits), hits };
}

/** The same over every string of a JSON value (keys included); the same object back when nothing matched. */
export function redactSecretPatternsJson<T>(value: T): GuardResult<T> {
  const hits: PatternHits = new Map();
  return { value: mapJsonStrings(value, (text) => redactText(text, hits)), hits };
}
