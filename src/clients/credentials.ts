import { describeCredentialLike } from '../config/credential-lint.js';
import { isSecretName } from '../config/names.js';

/** A literal credential found in an entry's `env` or `headers`, to be moved into the keychain. */
export interface LiteralCredential {
  where: 'env' | 'headers';
  key: string;
  /** The secret's name in the keychain and in `${secret:…}`. */
  secretName: string;
  /** Kept in front of the reference: a header's scheme ("Bearer "). */
  prefix: string;
  value: string;
}

/** A credential-looking argument: reported with advice, never moved (argv is public, and the server reads it there). */
export interface ArgumentCredential {
  index: number;
  looksLike: string;
}

/** Names that hold credentials whatever their value looks like. */
const credentialName =
  /(^|[_-])(TOKEN|KEY|SECRET|PASSWORD|PASSWD|PASS|PAT|CREDENTIALS?|AUTH)([_-]|$)|^(AUTHORIZATION|PROXY-AUTHORIZATION|APIKEY|X-API-KEY|API-KEY)$/i;

/** A reference the client or the shell fills in (`${VAR}`, `${input:key}`, `${env:VAR}`, `$VAR`) is not a literal. */
export function isReference(value: string): boolean {
  return value.includes('${') || /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(value);
}

function secretNameFor(key: string): string {
  const name = key.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return isSecretName(name) ? name : `_${name}`;
}

/** The literal credentials in `env` / `headers` and the credential-looking arguments of one entry. */
export function findCredentials(entry: { env?: Record<string, string>; headers?: Record<string, string>; args?: string[] }): {
  literals: LiteralCredential[];
  args: ArgumentCredential[];
} {
  const literals: LiteralCredential[] = [];
  const look = (where: 'env' | 'headers', values: Record<string, string> | undefined): void => {
    for (const [key, raw] of Object.entries(values ?? {})) {
      if (typeof raw !== 'string' || raw.trim() === '' || isReference(raw)) continue;
      if (!credentialName.test(key) && describeCredentialLike(raw) === undefined) continue;
      const scheme = where === 'headers' ? /^(Bearer|Token|Basic|Bot)\s+/i.exec(raw)?.[0] : undefined;
      literals.push({ where, key, secretName: secretNameFor(key), prefix: scheme ?? '', value: raw.slice(scheme?.length ?? 0) });
    }
  };
  look('env', entry.env);
  look('headers', entry.headers);
  const args = (entry.args ?? []).flatMap((arg, index) => {
    const looksLike = typeof arg === 'string' && !isReference(arg) ? describeCredentialLike(arg) : undefined;
    return looksLike ? [{ index, looksLike }] : [];
  });
  return { literals, args };
}

/** A value as it may be shown: never any of its characters, only its length. */
export function masked(value: string): string {
  return `•••• (${value.length} characters)`;
}
