import { readFile } from 'node:fs/promises';
import { KeyproxyError } from '../errors.js';
import { isAuditEventName, type AuditEvent } from './events.js';
import { DEFAULT_KEEP } from './file-sink.js';
import { auditFiles } from './paths.js';

/** A line that could not be read as an event. */
export interface MalformedLine {
  file: string;
  line: number;
}

/** Everything read from an audit log. */
export interface AuditReadResult {
  /** Oldest first. */
  events: AuditEvent[];
  malformed: MalformedLine[];
}

/** What `filterAuditEvents` keeps. */
export interface AuditFilter {
  server?: string;
  /** Keep events at or after this instant. */
  since?: Date;
}

/** Reads the current and the rotated files, oldest first. A missing file is empty; a bad line is reported, not fatal. */
export async function readAuditLog(file: string, keep = DEFAULT_KEEP): Promise<AuditReadResult> {
  const result: AuditReadResult = { events: [], malformed: [] };
  for (const path of auditFiles(file, keep)) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const lines = text.split('\n');
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      const event = parseEvent(line);
      if (event) result.events.push(event);
      else result.malformed.push({ file: path, line: index + 1 });
    });
  }
  return result;
}

/** One line as an event, or undefined when it is not JSON or lacks `ts`, `event` or `pid`. */
export function parseEvent(line: string): AuditEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.ts !== 'string' || Number.isNaN(Date.parse(record.ts))) return undefined;
  if (!isAuditEventName(record.event) || typeof record.pid !== 'number') return undefined;
  return record as AuditEvent;
}

/** The events of one server and/or since an instant. */
export function filterAuditEvents(events: readonly AuditEvent[], filter: AuditFilter): AuditEvent[] {
  const since = filter.since?.getTime();
  return events.filter(
    (event) => (filter.server === undefined || event.server === filter.server) && (since === undefined || Date.parse(event.ts) >= since),
  );
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since`: a duration back from `now` (`30s`, `15m`, `1h`, `2d`) or an ISO date/time. */
export function parseSince(text: string, now: Date): Date {
  const duration = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]);
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim()) && !Number.isNaN(Date.parse(text))) return new Date(Date.parse(text));
  throw new KeyproxyError(
    'USAGE',
    `--since "${text}" is not a duration (30s, 15m, 1h, 2d) or an ISO date (2026-01-31 or 2026-01-31T12:00:00Z).`,
  );
}

/** One event as a human-readable line: time, event, server, then the other fields. */
export function formatAuditEvent(event: AuditEvent): string {
  const rest = Object.entries(event)
    .filter(([key]) => !['ts', 'event', 'pid', 'server'].includes(key))
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`);
  return [event.ts, event.event.padEnd(16), event.server, ...rest, `pid=${event.pid}`].join('  ');
}
