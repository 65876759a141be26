import { consentGrant, type ConsentGrant } from '../../consent/grant.js';
import { referencedSecretNames } from '../../config/references.js';
import type { ServerConfig } from '../../config/schema.js';
import { planCredentials, type CredentialPlan } from './credential-plan.js';
import type { ServeDeps, ServeOptions } from './deps.js';
import { readKeychainValues, readSourceValues, type SourceValueDeps } from './source-values.js';

/** Reads the secrets of a server and decides what is missing; `fromKeychain` names what the keychain held. */
export async function readPlan(
  deps: SourceValueDeps,
  serverName: string,
  server: ServerConfig,
): Promise<{ plan: CredentialPlan; fromKeychain: Set<string> }> {
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
  return { plan: planCredentials(server, new Map([...stored, ...sourced])), fromKeychain: new Set(read) };
}

/** True when stored secrets may only be injected after the user allowed it (now, or with an "Allow always"). */
export function needsConsent(options: ServeOptions, plan: CredentialPlan, fromKeychain: ReadonlySet<string>): boolean {
  return !options.headless && options.server.confirm && [...plan.values.keys()].some((name) => fromKeychain.has(name));
}

/** The stored secrets this start would inject: what a consent prompt names and an "Allow always" covers. */
export function storedSecretNames(plan: CredentialPlan, fromKeychain: ReadonlySet<string>): string[] {
  return [...plan.values.keys()].filter((name) => fromKeychain.has(name));
}

/** What "Allow always" for this start would cover: the server as defined now and exactly these stored secrets. */
export function grantFor(options: ServeOptions, plan: CredentialPlan, fromKeychain: ReadonlySet<string>): ConsentGrant {
  return consentGrant(options.serverName, options.server, storedSecretNames(plan, fromKeychain));
}

/** True when the user must be asked before this start: consent is needed and no remembered "Allow always" covers it. */
export function mustAskConsent(
  options: ServeOptions,
  deps: Pick<ServeDeps, 'consent'>,
  plan: CredentialPlan,
  fromKeychain: ReadonlySet<string>,
): boolean {
  return needsConsent(options, plan, fromKeychain) && !deps.consent.allows(grantFor(options, plan, fromKeychain));
}

/** Records why stored secrets are used without a prompt: consent is bypassed, or an "Allow always" covers them. */
export function recordConsentWithoutPrompt(
  options: ServeOptions,
  deps: Pick<ServeDeps, 'audit'>,
  plan: CredentialPlan,
  fromKeychain: ReadonlySet<string>,
): void {
  if (fromKeychain.size === 0) return;
  const why = needsConsent(options, plan, fromKeychain) ? 'remembered' : 'bypassed';
  deps.audit.consent(options.serverName, why === 'remembered' ? storedSecretNames(plan, fromKeychain) : [...fromKeychain], why);
}
