import { findReferences, referencedSecretNames } from '../../config/references.js';
import type { ServerConfig } from '../../config/schema.js';
import { KeyproxyError } from '../../errors.js';
import { secretsSetCommand } from '../../secrets/hints.js';

/** What a server start will inject, and what is missing for it. */
export interface CredentialPlan {
  /** Values to inject, by secret name (stored values, else declared defaults). */
  values: Map<string, string>;
  /** Required secrets that have neither a stored value nor a default. */
  missing: string[];
  /** Optional secrets with no value: the env entries or headers that use them are left out. */
  absentOptional: Set<string>;
}

/** Decides, from what the keychain holds, which of a server's referenced secrets are injected or missing. */
export function planCredentials(server: ServerConfig, stored: ReadonlyMap<string, string>): CredentialPlan {
  const plan: CredentialPlan = { values: new Map(), missing: [], absentOptional: new Set() };
  for (const name of referencedSecretNames(server)) {
    const declaration = server.secrets[name];
    const value = stored.get(name) ?? declaration?.default;
    if (value !== undefined) plan.values.set(name, value);
    else if (declaration?.required === false) plan.absentOptional.add(name);
    else plan.missing.push(name);
  }
  return plan;
}

/**
 * A server's `env` or `headers` without the entries that reference an absent optional secret: they are left out,
 * not passed on empty.
 */
export function withoutAbsent(entries: Record<string, string>, absent: ReadonlySet<string>): Record<string, string> {
  if (absent.size === 0) return entries;
  return Object.fromEntries(
    Object.entries(entries).filter(([, value]) => findReferences(value).every((ref) => ref.kind !== 'secret' || !absent.has(ref.name))),
  );
}

/** The error for missing secrets: names the server, each secret and the exact command that fixes it. */
export function missingSecretsError(
  serverName: string,
  missing: readonly string[],
  profile: string | undefined,
  note?: string,
): KeyproxyError {
  const commands = missing.map((name) => `  ${secretsSetCommand(serverName, name, profile)}`).join('\n');
  const noun = missing.length === 1 ? 'secret' : 'secrets';
  return new KeyproxyError(
    'SECRET_MISSING',
    `Server "${serverName}" needs the ${noun} ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not in the keychain.${note ? ` ${note}` : ''}\nStore ${missing.length === 1 ? 'it' : 'them'} with:\n${commands}`,
  );
}
