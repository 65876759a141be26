import { referencedSecretNames } from '../../config/references.js';
import type { ServerConfig } from '../../config/schema.js';
import { planCredentials, type CredentialPlan } from './credential-plan.js';
import type { ServeDeps, ServeOptions } from './deps.js';

/** Reads the secrets of a server and decides what is missing; `fromKeychain` names what the keychain held. */
export async function readPlan(
  deps: Pick<ServeDeps, 'store' | 'audit'>,
  serverName: string,
  server: ServerConfig,
): Promise<{ plan: CredentialPlan; fromKeychain: Set<string> }> {
  const referenced = referencedSecretNames(server);
  const stored = referenced.length > 0 ? await deps.store.getAll(serverName) : new Map<string, string>();
  const read = referenced.filter((name) => stored.has(name));
  if (read.length > 0) deps.audit.secretRead(serverName, read, 'keychain');
  return { plan: planCredentials(server, stored), fromKeychain: new Set(read) };
}

/** True when stored secrets may only be injected after the user allowed it. */
export function needsConsent(options: ServeOptions, plan: CredentialPlan, fromKeychain: ReadonlySet<string>): boolean {
  return !options.headless && options.server.confirm && [...plan.values.keys()].some((name) => fromKeychain.has(name));
}

/** Records that stored secrets are used without asking, because consent is bypassed for this server or run. */
export function recordBypassedConsent(options: ServeOptions, deps: Pick<ServeDeps, 'audit'>, fromKeychain: ReadonlySet<string>): void {
  if (fromKeychain.size > 0) deps.audit.consent(options.serverName, [...fromKeychain], 'bypassed');
}
