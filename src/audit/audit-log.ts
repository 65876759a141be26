import { isSecretName, isServerName } from '../config/names.js';
import { DEFAULT_PROFILE, PROFILE_NAME_PATTERN } from '../config/profile.js';
import type { ScrubWhere } from '../log/scrubber.js';
import type { SecretPatternId } from '../log/secret-patterns.js';
import {
  AUDIT_EVENT_FIELDS,
  type AuditEvent,
  type AuditEventFields,
  type AuditEventName,
  type AuditConsentDecision,
  type DialogCancelledBy,
  type InjectionTarget,
  type SecretChangeVia,
  type SecretSource,
  type StalePolicy,
  type RotationAction,
} from './events.js';
import type { AuditSink } from './file-sink.js';

/** Options of `AuditLog`; the defaults are the real clock and pid. */
export interface AuditLogOptions {
  now?: () => Date;
  pid?: number;
  /** Hits of one (server, secret or pattern, where) within this window become one event with a count. */
  coalesceMs?: number;
  /** The credential profile, written on every event when it is not the default one. */
  profile?: string;
}

interface Coalesced {
  pending: number;
  timer: ReturnType<typeof setTimeout>;
  emit: (count: number) => void;
}

/** Shown instead of a name that is not a valid server or secret name (so a value passed by mistake is not kept). */
export const INVALID_NAME = '[invalid name]';

/**
 * The audit log: one typed method per event, each writing one JSON line with `ts`, `event`, `pid` and names
 * (never a value). Scrub and pattern hits are coalesced: the first hit is written at once, further identical
 * hits within `coalesceMs` are counted and written as one event when the window ends, so a leaking server in a
 * hot loop costs a counter increment per message, not a write.
 */
export class AuditLog {
  private readonly now: () => Date;
  private readonly pid: number;
  private readonly coalesceMs: number;
  private readonly profile: string | undefined;
  private readonly coalesced = new Map<string, Coalesced>();

  constructor(
    private readonly sink: AuditSink,
    options: AuditLogOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.pid = options.pid ?? process.pid;
    this.coalesceMs = options.coalesceMs ?? 1000;
    this.profile =
      options.profile !== undefined && options.profile !== DEFAULT_PROFILE && PROFILE_NAME_PATTERN.test(options.profile)
        ? options.profile
        : undefined;
  }

  /** Secret values were read for a server (names only). */
  secretRead(server: string, names: readonly string[], source: SecretSource): void {
    this.write('secret_read', { server, names: [...names], source });
  }

  /** Secret values were put into a child's environment or a request's headers. */
  injection(server: string, names: readonly string[], target: InjectionTarget): void {
    this.write('injection', { server, names: [...names], target });
  }

  /** The consent decision before stored secrets are injected. */
  consent(server: string, names: readonly string[], decision: AuditConsentDecision): void {
    this.write('consent', { server, names: [...names], decision });
  }

  /** A native dialog asking for these secrets was shown. */
  dialogShown(server: string, names: readonly string[]): void {
    this.write('dialog_shown', { server, names: [...names] });
  }

  /** The dialog was submitted with these secrets. */
  dialogSubmitted(server: string, names: readonly string[]): void {
    this.write('dialog_submitted', { server, names: [...names] });
  }

  /** The dialog ended without values. */
  dialogCancelled(server: string, names: readonly string[], by: DialogCancelledBy): void {
    this.write('dialog_cancelled', { server, names: [...names], by });
  }

  /** A secret was stored in the keychain. */
  secretStored(server: string, name: string, via: SecretChangeVia): void {
    this.write('secret_stored', { server, name, via });
  }

  /** A secret was deleted from the keychain. */
  secretDeleted(server: string, name: string, via: SecretChangeVia): void {
    this.write('secret_deleted', { server, name, via });
  }

  /** An expired cached value was used (or, with "fail", refused) because its source could not be read. */
  secretStale(server: string, names: readonly string[], policy: StalePolicy): void {
    this.write('secret_stale', { server, names: [...names], policy });
  }

  /** A running proxy gave a server changed secrets: restarted it, or a remote one new headers (or a new session). */
  secretRotated(server: string, names: readonly string[], action: RotationAction): void {
    this.write('secret_rotated', { server, names: [...names], action });
  }

  /** A remote server answered 401/403 to a request carrying these secrets in headers. */
  headerRejected(server: string, names: readonly string[], status: number): void {
    this.write('header_rejected', { server, names: [...names], status });
  }

  /** The scrubber replaced a secret (coalesced per server, name and where). */
  scrubHit(server: string, name: string, where: ScrubWhere, count = 1): void {
    this.coalesce(`s\0${server}\0${name}\0${where}`, count, (n) => this.write('scrub_hit', { server, name, where, count: n }));
  }

  /** The pattern guard redacted a well-known credential format (coalesced per server, pattern and where). */
  patternHit(server: string, pattern: SecretPatternId, where: ScrubWhere, count = 1): void {
    this.coalesce(`p\0${server}\0${pattern}\0${where}`, count, (n) => this.write('pattern_hit', { server, pattern, where, count: n }));
  }

  /** Writes the hits still being counted. */
  flush(): void {
    for (const [key, entry] of this.coalesced) {
      clearTimeout(entry.timer);
      this.coalesced.delete(key);
      if (entry.pending > 0) entry.emit(entry.pending);
    }
  }

  /** Flushes; call when the proxy stops. */
  close(): void {
    this.flush();
  }

  private coalesce(key: string, count: number, emit: (count: number) => void): void {
    const entry = this.coalesced.get(key);
    if (entry) {
      entry.pending += count;
      return;
    }
    emit(count);
    this.arm(key, emit);
  }

  private arm(key: string, emit: (count: number) => void): void {
    const timer = setTimeout(() => {
      const entry = this.coalesced.get(key);
      this.coalesced.delete(key);
      // Hits during the window open a new window once written, so the rate stays at one event per window.
      if (entry && entry.pending > 0) {
        emit(entry.pending);
        this.arm(key, emit);
      }
    }, this.coalesceMs);
    // A pending count must not keep the process alive: close() writes it.
    timer.unref?.();
    this.coalesced.set(key, { pending: 0, timer, emit });
  }

  private write<K extends AuditEventName>(event: K, fields: AuditEventFields[K]): void {
    const record: Record<string, unknown> = { ts: this.now().toISOString(), event, pid: this.pid };
    for (const key of AUDIT_EVENT_FIELDS[event]) record[key as string] = sanitize(key as string, fields[key]);
    if (this.profile !== undefined) record.profile = this.profile;
    this.sink.write(`${JSON.stringify(record)}\n`);
  }
}

function sanitize(key: string, value: unknown): unknown {
  if (key === 'server') return validName(value, typeof value === 'string' && isServerName(value));
  if (key === 'name') return validName(value, typeof value === 'string' && isSecretName(value));
  if (key === 'names' && Array.isArray(value)) return value.map((name) => validName(name, typeof name === 'string' && isSecretName(name)));
  return value;
}

function validName(value: unknown, valid: boolean): unknown {
  return valid ? value : INVALID_NAME;
}

/** Keeps events in memory, for tests. */
export class MemoryAuditSink implements AuditSink {
  /** Every line written, parsed. */
  readonly events: AuditEvent[] = [];

  /** Parses and keeps the line. */
  write(line: string): void {
    this.events.push(JSON.parse(line) as AuditEvent);
  }
}
