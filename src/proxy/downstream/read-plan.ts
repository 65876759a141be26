import { consentGrant, type ConsentGrant } from '../../consent/grant.js';
import { referencedSecretNames } from '../../config/references.js';
import type { ServerConfig } from '../../config/schema.js';
import { planCredentials, type CredentialPlan } from './credential-plan.js';
import type { ServeDeps, ServeOptions } from './deps.js';
import { readKeychainValues, readSourceValues, type SourceValueDeps } from './source-values.js';

/**
 * Reads the secrets of a server and decides what is missing. `askedKeychain` says whether the keychain was asked,
 * `fromKeychain` names what it held; `guarded` names every value consent guards: those, and those read from a
 * "from" source (a config that names `file:~/.ssh/id_ed25519` must not hand it to a server without the user's say,
 * whoever wrote the config).
 */
export async function readPlan(
  deps: SourceValueDeps,
  serverName: string,
  server: ServerConfig,
): Promise<{ plan: CredentialPlan; fromKeychain: Set<string>; guarded: Set<string>; askedKeychain: boolean }> {
  const referenced = referencedSecretNames(server);
  // Secrets with a "from" source never touch the keychain (a container has none) and never open the dialog: a
  // source that gives no value is an error naming it.
  const keychainNames = referenced.filter((name) => server.secrets[name]?.from === undefined);
  const [stored, sourced] = await Promise.all([
    readKeychainValues(deps, serverName, keychainNames),
    readSourceValues(deps, serverName, server, referenced),
  ]);
  const read = keychainNames.filter((name) => stored.has(name));
  if (read.length > 0) deps.audit.secretRead(serverName, read, 'keychain');
  return {
    plan: planCredentials(server, new Map([...stored, ...sourced])),
    fromKeychain: new Set(read),
    guarded: new Set([...read, ...sourced.keys()]),
    askedKeychain: keychainNames.length > 0,
  };
}

/** True when the guarded secrets may only be injected after the user allowed it (now, or with an "Allow always"). */
export function needsConsent(options: ServeOptions, plan: CredentialPlan, guarded: ReadonlySet<string>): boolean {
  return !options.headless && options.server.confirm && [...plan.values.keys()].some((name) => guarded.has(name));
}

/** The guarded secrets this start would inject: what a consent prompt names and an "Allow always" covers. */
export function storedSecretNames(plan: CredentialPlan, guarded: ReadonlySet<string>): string[] {
  return [...plan.values.keys()].filter((name) => guarded.has(name));
}

/** What "Allow always" for this start would cover: the server as defined now and exactly these stored secrets. */
export function grantFor(options: ServeOptions, plan: CredentialPlan, guarded: ReadonlySet<string>): ConsentGrant {
  return consentGrant(options.serverName, options.server, storedSecretNames(plan, guarded), options.profile);
}

/** True when the user must be asked before this start: consent is needed and no remembered "Allow always" covers it. */
export function mustAskConsent(
  options: ServeOptions,
  deps: Pick<ServeDeps, 'consent'>,
  plan: CredentialPlan,
  guarded: ReadonlySet<string>,
): boolean {
  return needsConsent(options, plan, guarded) && !deps.consent.allows(grantFor(options, plan, guarded));
}

/** Records why stored secrets are used without a prompt: consent is bypassed, or an "Allow always" covers them. */
export function recordConsentWithoutPrompt(
  options: ServeOptions,
  deps: Pick<ServeDeps, 'audit'>,
  plan: CredentialPlan,
  guarded: ReadonlySet<string>,
): void {
  if (guarded.size === 0) return;
  const why = needsConsent(options, plan, guarded) ? 'remembered' : 'bypassed';
  deps.audit.consent(options.serverName, why === 'remembered' ? storedSecretNames(plan, guarded) : [...guarded], why);
}
