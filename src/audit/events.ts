import type { ScrubWhere } from '../log/scrubber.js';
import type { SecretPatternId } from '../log/secret-patterns.js';

/** Where a secret value came from: the keychain, or the kind of its `"from"` source (src/sources/). */
export type SecretSource = 'keychain' | 'env' | 'file' | 'credential' | 'command' | 'op' | 'cache';
/** What a stale policy did with an expired cached value whose source failed (`fail` refuses it). */
export type StalePolicy = 'fail' | 'warn' | 'use';
/**
 * How a running proxy gave a server a changed secret: a local server restarted, a remote one given the new headers
 * in its session (`header`), or reconnected when they cannot change in place (a secret in the URL, OAuth).
 */
export type RotationAction = 'restart' | 'reconnect' | 'header';
/** Where a secret value was put. */
export type InjectionTarget = 'env' | 'header';
/** What the user (or a bypass, or an earlier "Allow always": remembered) decided before stored secrets were injected. */
export type AuditConsentDecision = 'once' | 'session' | 'always' | 'deny' | 'bypassed' | 'remembered';
/** Who stored or deleted a secret. */
export type SecretChangeVia = 'cli' | 'dialog' | 'page' | 'refresh' | 'storage-clear';
/** Who ended a dialog (or key page) without a value; `expired`: the key page's link ran out. */
export type DialogCancelledBy = 'user' | 'client' | 'expired';

/**
 * The events, by name, with their fields. Only names, counts and enumerations: there is no field that could
 * hold a secret value, and the writer copies exactly these fields (anything else a caller smuggles in is dropped).
 */
export interface AuditEventFields {
  secret_read: { server: string; names: string[]; source: SecretSource };
  injection: { server: string; names: string[]; target: InjectionTarget };
  consent: { server: string; names: string[]; decision: AuditConsentDecision };
  dialog_shown: { server: string; names: string[] };
  dialog_submitted: { server: string; names: string[] };
  dialog_cancelled: { server: string; names: string[]; by: DialogCancelledBy };
  secret_stored: { server: string; name: string; via: SecretChangeVia };
  secret_deleted: { server: string; name: string; via: SecretChangeVia };
  secret_stale: { server: string; names: string[]; policy: StalePolicy };
  secret_rotated: { server: string; names: string[]; action: RotationAction };
  header_rejected: { server: string; names: string[]; status: number };
  scrub_hit: { server: string; name: string; where: ScrubWhere; count: number };
  pattern_hit: { server: string; pattern: SecretPatternId; where: ScrubWhere; count: number };
}

/** An event name. */
export type AuditEventName = keyof AuditEventFields;

/** One line of the audit log; `profile` is there when the credential profile is not the default one. */
export type AuditEvent = {
  [K in AuditEventName]: { ts: string; event: K; pid: number; profile?: string } & AuditEventFields[K];
}[AuditEventName];

/** The fields each event carries, in output order: the writer's allowlist and the reader's schema. */
export const AUDIT_EVENT_FIELDS: { readonly [K in AuditEventName]: readonly (keyof AuditEventFields[K])[] } = {
  secret_read: ['server', 'names', 'source'],
  injection: ['server', 'names', 'target'],
  consent: ['server', 'names', 'decision'],
  dialog_shown: ['server', 'names'],
  dialog_submitted: ['server', 'names'],
  dialog_cancelled: ['server', 'names', 'by'],
  secret_stored: ['server', 'name', 'via'],
  secret_deleted: ['server', 'name', 'via'],
  secret_stale: ['server', 'names', 'policy'],
  secret_rotated: ['server', 'names', 'action'],
  header_rejected: ['server', 'names', 'status'],
  scrub_hit: ['server', 'name', 'where', 'count'],
  pattern_hit: ['server', 'pattern', 'where', 'count'],
};

/** True for a known event name. */
export function isAuditEventName(name: unknown): name is AuditEventName {
  return typeof name === 'string' && Object.hasOwn(AUDIT_EVENT_FIELDS, name);
}
