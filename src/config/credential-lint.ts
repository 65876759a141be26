import type { ConfigFinding } from './findings.js';
import { parseTemplate } from './references.js';
import { isSecretName } from './names.js';
import type { ServerConfig } from './schema.js';
import { isLocalServer } from './types.js';
import { secretsSetCommand } from '../secrets/hints.js';

const knownFormats: ReadonlyArray<[RegExp, string]> = [
  [/^sk-[A-Za-z0-9_-]{16,}/, 'an API key ("sk-…", e.g. OpenAI or Anthropic)'],
  [/^[rs]k_(live|test)_[A-Za-z0-9]{10,}/, 'a Stripe secret key'],
  [/^gh[pousr]_[A-Za-z0-9]{20,}/, 'a GitHub token'],
  [/^github_pat_[A-Za-z0-9_]{20,}/, 'a GitHub fine-grained token'],
  [/^xox[a-z]-[A-Za-z0-9-]{10,}/, 'a Slack token'],
  [/^(AKIA|ASIA)[A-Z0-9]{16}$/, 'an AWS access key id'],
  [/^glpat-[A-Za-z0-9_-]{20,}/, 'a GitLab token'],
  [/^AIza[A-Za-z0-9_-]{30,}/, 'a Google API key'],
  [/^eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/, 'a JWT'],
];

/** Shannon entropy of a string in bits per character. */
function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  const length = [...text].length;
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function looksLikePathOrUrl(token: string): boolean {
  return (
    /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(token) ||
    /^(\/|\.{1,2}\/|~|[A-Za-z]:[\\/])/.test(token) ||
    token.includes('\\') ||
    token.startsWith('@')
  );
}

function looksRandom(token: string): boolean {
  if (token.length < 32 || looksLikePathOrUrl(token)) return false;
  // Long flag names and words are low-risk; keys mix at least two of lower case, upper case and digits.
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(token)).length;
  return classes >= 2 && shannonEntropy(token) >= 3.5;
}

/** What a literal string looks like when it looks like a credential (e.g. "a GitHub token"), else undefined. */
export function describeCredentialLike(value: string): string | undefined {
  // Split on separators so "Bearer ghp_…" or "--api-key=sk-…" are caught.
  for (const token of value.split(/[\s=,;"']+/)) {
    for (const [pattern, description] of knownFormats) if (pattern.test(token)) return description;
    if (looksRandom(token)) return 'a long random string (possibly a key or token)';
  }
  return undefined;
}

function literalText(value: string): string {
  try {
    return parseTemplate(value)
      .map((part) => (part.kind === 'literal' ? part.text : ' '))
      .join('');
  } catch {
    return value;
  }
}

function suggestedName(key: string): string {
  const name = key.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return isSecretName(name) ? name : 'NAME';
}

/**
 * Warnings for literal values of one server (env values, header values, args) that look like credentials.
 * The messages name the JSON path and never the value.
 */
export function lintServerCredentials(path: readonly PropertyKey[], serverName: string, server: ServerConfig): ConfigFinding[] {
  const candidates: Array<{ at: PropertyKey[]; value: string; name: string; field: string }> = [];
  if (isLocalServer(server)) {
    server.args.forEach((arg, i) => candidates.push({ at: [...path, 'args', i], value: arg, name: 'NAME', field: 'env' }));
    for (const [key, value] of Object.entries(server.env))
      candidates.push({ at: [...path, 'env', key], value, name: suggestedName(key), field: 'env' });
  } else {
    for (const [key, value] of Object.entries(server.headers))
      candidates.push({ at: [...path, 'headers', key], value, name: suggestedName(key), field: 'headers' });
  }
  const findings: ConfigFinding[] = [];
  for (const { at, value, name, field } of candidates) {
    const looksLike = describeCredentialLike(literalText(value));
    if (looksLike === undefined) continue;
    const inArgs = at.includes('args');
    findings.push({
      path: at,
      message:
        `this literal value looks like ${looksLike}. Keep credentials out of config files: run ` +
        `\`${secretsSetCommand(serverName, name, undefined)}\`, declare "${name}" under "secrets" and use "\${secret:${name}}"` +
        (inArgs ? ` in "${field}" (not in "args": a command line is visible to every local user)` : ' instead'),
    });
  }
  return findings;
}
