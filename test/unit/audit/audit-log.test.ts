import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog, INVALID_NAME, MemoryAuditSink } from '../../../src/audit/audit-log.js';
import type { AuditEventFields } from '../../../src/audit/events.js';

const at = new Date('2026-03-01T12:00:00.000Z');

function make(coalesceMs = 1000) {
  const sink = new MemoryAuditSink();
  return { sink, audit: new AuditLog(sink, { pid: 4242, coalesceMs }) };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(at);
});
afterEach(() => vi.useRealTimers());

describe('AuditLog', () => {
  it('writes each event kind exactly once per call, with ts, event, pid and names only', () => {
    const { sink, audit } = make();
    audit.secretRead('github', ['TOKEN', 'ORG'], 'keychain');
    audit.injection('github', ['TOKEN'], 'env');
    audit.consent('github', ['TOKEN'], 'session');
    audit.dialogShown('github', ['TOKEN']);
    audit.dialogSubmitted('github', ['TOKEN']);
    audit.dialogCancelled('github', ['TOKEN'], 'client');
    audit.secretStored('github', 'TOKEN', 'dialog');
    audit.secretDeleted('github', 'TOKEN', 'cli');
    audit.headerRejected('remote', ['API_KEY'], 401);
    audit.scrubHit('github', 'TOKEN', 'result');
    audit.patternHit('github', 'github-token', 'result', 2);
    const base = { ts: at.toISOString(), pid: 4242 };
    expect(sink.events).toEqual([
      { ...base, event: 'secret_read', server: 'github', names: ['TOKEN', 'ORG'], source: 'keychain' },
      { ...base, event: 'injection', server: 'github', names: ['TOKEN'], target: 'env' },
      { ...base, event: 'consent', server: 'github', names: ['TOKEN'], decision: 'session' },
      { ...base, event: 'dialog_shown', server: 'github', names: ['TOKEN'] },
      { ...base, event: 'dialog_submitted', server: 'github', names: ['TOKEN'] },
      { ...base, event: 'dialog_cancelled', server: 'github', names: ['TOKEN'], by: 'client' },
      { ...base, event: 'secret_stored', server: 'github', name: 'TOKEN', via: 'dialog' },
      { ...base, event: 'secret_deleted', server: 'github', name: 'TOKEN', via: 'cli' },
      { ...base, event: 'header_rejected', server: 'remote', names: ['API_KEY'], status: 401 },
      { ...base, event: 'scrub_hit', server: 'github', name: 'TOKEN', where: 'result', count: 1 },
      { ...base, event: 'pattern_hit', server: 'github', pattern: 'github-token', where: 'result', count: 2 },
    ]);
  });

  it('has no field that can take a value: extra properties are not typed and not written', () => {
    // @ts-expect-error a value field does not exist on any event
    const typed: AuditEventFields['secret_stored'] = { server: 's', name: 'N', via: 'cli', value: 'x' };
    expect(typed).toBeDefined();
    const { sink, audit } = make();
    // A caller that smuggles a value through a cast still gets only the allowlisted fields written.
    const names = Object.assign(['TOKEN'], { value: 'hunter2-secret' });
    audit.injection('github', names, 'env');
    const record = sink.events[0] as unknown as Record<string, unknown>;
    expect(Object.keys(record)).toEqual(['ts', 'event', 'pid', 'server', 'names', 'target']);
    expect(JSON.stringify(sink.events)).not.toContain('hunter2');
  });

  it('replaces anything that is not a valid name (e.g. a value passed by mistake)', () => {
    const { sink, audit } = make();
    audit.secretRead('github', ['TOKEN', 'sk live/with+slash='], 'keychain');
    audit.secretStored('bad server', 'TOKEN', 'cli');
    expect(sink.events[0]).toMatchObject({ names: ['TOKEN', INVALID_NAME] });
    expect(sink.events[1]).toMatchObject({ server: INVALID_NAME });
  });

  it('coalesces identical scrub hits: the first at once, the rest as one counted event per window', () => {
    const { sink, audit } = make();
    for (let i = 0; i < 5000; i++) audit.scrubHit('github', 'TOKEN', 'result');
    audit.scrubHit('github', 'TOKEN', 'log');
    audit.scrubHit('github', 'OTHER', 'result', 3);
    expect(sink.events.map((e) => [e.event, 'name' in e ? e.name : '', 'where' in e ? e.where : '', 'count' in e ? e.count : 0])).toEqual([
      ['scrub_hit', 'TOKEN', 'result', 1],
      ['scrub_hit', 'TOKEN', 'log', 1],
      ['scrub_hit', 'OTHER', 'result', 3],
    ]);
    vi.advanceTimersByTime(1000);
    expect(sink.events).toHaveLength(4);
    expect(sink.events[3]).toMatchObject({ event: 'scrub_hit', name: 'TOKEN', where: 'result', count: 4999 });
    // Hits in the next window are counted again; with no hits the window closes and the next hit is immediate.
    audit.scrubHit('github', 'TOKEN', 'result');
    vi.advanceTimersByTime(1000);
    expect(sink.events[4]).toMatchObject({ count: 1 });
    vi.advanceTimersByTime(1000);
    audit.scrubHit('github', 'TOKEN', 'result');
    expect(sink.events).toHaveLength(6);
  });

  it('keeps the rate at one event per key per window in a steady hot loop', () => {
    const { sink, audit } = make();
    for (let ms = 0; ms < 10_000; ms += 1) {
      audit.patternHit('github', 'slack-token', 'notification');
      vi.advanceTimersByTime(1);
    }
    expect(sink.events.length).toBeLessThanOrEqual(11);
    expect(sink.events.reduce((sum, e) => sum + ('count' in e ? e.count : 0), 0)).toBe(10_000);
  });

  it('writes pending counts on close', () => {
    const { sink, audit } = make();
    audit.scrubHit('github', 'TOKEN', 'stderr');
    audit.scrubHit('github', 'TOKEN', 'stderr');
    audit.scrubHit('github', 'TOKEN', 'stderr');
    audit.close();
    expect(sink.events.map((e) => ('count' in e ? e.count : 0))).toEqual([1, 2]);
    vi.advanceTimersByTime(5000);
    expect(sink.events).toHaveLength(2);
  });
});
