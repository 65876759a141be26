import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/audit/events.js';
import { platformStateDir } from '../../../src/config/paths.js';
import { filterAuditEvents, formatAuditEvent, parseEvent, parseSince, readAuditLog } from '../../../src/audit/reader.js';

const now = new Date('2026-03-01T12:00:00.000Z');
const event = (ts: string, server: string): AuditEvent => ({ ts, event: 'secret_stored', pid: 1, server, name: 'TOKEN', via: 'cli' });

describe('parseSince', () => {
  it.each([
    ['30s', '2026-03-01T11:59:30.000Z'],
    ['15m', '2026-03-01T11:45:00.000Z'],
    ['1h', '2026-03-01T11:00:00.000Z'],
    ['2d', '2026-02-27T12:00:00.000Z'],
    ['2026-02-01', '2026-02-01T00:00:00.000Z'],
    ['2026-02-01T10:30:00Z', '2026-02-01T10:30:00.000Z'],
  ])('%s → %s', (text, expected) => {
    expect(parseSince(text, now).toISOString()).toBe(expected);
  });

  it.each(['yesterday', '1w', '-1h', '12', ''])('refuses %j with a usage error', (text) => {
    expect(() => parseSince(text, now)).toThrow(/--since/);
  });
});

describe('filterAuditEvents', () => {
  const events = [event('2026-03-01T10:00:00.000Z', 'a'), event('2026-03-01T11:30:00.000Z', 'b'), event('2026-03-01T11:59:00.000Z', 'a')];

  it('filters by server, by time, and by both', () => {
    expect(filterAuditEvents(events, { server: 'a' })).toEqual([events[0], events[2]]);
    expect(filterAuditEvents(events, { since: parseSince('1h', now) })).toEqual([events[1], events[2]]);
    expect(filterAuditEvents(events, { server: 'a', since: parseSince('1h', now) })).toEqual([events[2]]);
    expect(filterAuditEvents(events, {})).toEqual(events);
  });
});

describe('readAuditLog', () => {
  it('reads rotated files oldest first and skips malformed lines, saying where', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-keyproxy-audit-'));
    const file = join(dir, 'audit.jsonl');
    const line = (e: AuditEvent) => `${JSON.stringify(e)}\n`;
    writeFileSync(`${file}.2`, line(event('2026-03-01T09:00:00.000Z', 'old')));
    writeFileSync(`${file}.1`, `${line(event('2026-03-01T10:00:00.000Z', 'mid'))}{not json\n`);
    writeFileSync(
      file,
      `{"ts":"2026-03-01T11:00:00.000Z","event":"unknown_kind","pid":1}\n${line(event('2026-03-01T11:00:00.000Z', 'new'))}{"ts":"2026-03-01T11:00:00`,
    );
    const { events, malformed } = await readAuditLog(file);
    expect(events.map((e) => e.server)).toEqual(['old', 'mid', 'new']);
    expect(malformed).toEqual([
      { file: `${file}.1`, line: 2 },
      { file, line: 1 },
      { file, line: 3 },
    ]);
  });

  it('is empty when no file exists yet', async () => {
    expect(await readAuditLog(join(tmpdir(), 'mcp-keyproxy-none', 'audit.jsonl'))).toEqual({ events: [], malformed: [] });
  });
});

describe('parseEvent and formatAuditEvent', () => {
  it('needs ts, a known event and pid', () => {
    expect(parseEvent('[]')).toBeUndefined();
    expect(parseEvent('{"ts":"not a date","event":"secret_stored","pid":1}')).toBeUndefined();
    expect(parseEvent('{"ts":"2026-03-01T11:00:00Z","event":"secret_stored"}')).toBeUndefined();
  });

  it('prints time, event, server and the other fields', () => {
    const line = formatAuditEvent({
      ts: '2026-03-01T11:00:00.000Z',
      event: 'secret_read',
      pid: 9,
      server: 'gh',
      names: ['A', 'B'],
      source: 'keychain',
    });
    expect(line).toBe('2026-03-01T11:00:00.000Z  secret_read       gh  names=A,B  source=keychain  pid=9');
  });
});

describe('platformStateDir', () => {
  it('prefers MCP_KEYPROXY_STATE_DIR', () => {
    expect(platformStateDir('linux', { MCP_KEYPROXY_STATE_DIR: '/tmp/x', XDG_STATE_HOME: '/xdg' }, '/home/u')).toBe('/tmp/x');
  });
  it('uses an absolute XDG_STATE_HOME, else ~/.local/state, on Linux', () => {
    expect(platformStateDir('linux', { XDG_STATE_HOME: '/xdg' }, '/home/u')).toBe('/xdg/mcp-keyproxy');
    expect(platformStateDir('linux', { XDG_STATE_HOME: 'rel' }, '/home/u')).toBe('/home/u/.local/state/mcp-keyproxy');
  });
  it('uses ~/Library/Logs on macOS and %LOCALAPPDATA% on Windows', () => {
    expect(platformStateDir('darwin', {}, '/Users/u')).toBe('/Users/u/Library/Logs/mcp-keyproxy');
    expect(platformStateDir('win32', { LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'C:\\Users\\u')).toBe(
      'C:\\Users\\u\\AppData\\Local\\mcp-keyproxy',
    );
    expect(platformStateDir('win32', {}, 'C:\\Users\\u')).toBe('C:\\Users\\u\\AppData\\Local\\mcp-keyproxy');
  });
});
