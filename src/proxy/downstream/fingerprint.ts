import { createHash } from 'node:crypto';
import type { CredentialPlan } from './credential-plan.js';

/** What a running server was given, by secret name: a hash of each value (the values themselves are not kept). */
export type SecretFingerprint = ReadonlyMap<string, string>;

/** The fingerprint of what a plan injects. */
export function fingerprint(plan: CredentialPlan): SecretFingerprint {
  return new Map([...plan.values].map(([name, value]) => [name, createHash('sha256').update(value).digest('hex')]));
}

/** The secrets whose value differs between two fingerprints (added, removed or changed), sorted. */
export function changedSecrets(before: SecretFingerprint, after: SecretFingerprint): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => before.get(name) !== after.get(name)).sort();
}
