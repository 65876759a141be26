import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/audit/events.js';
import type { CliContext } from '../../../src/cli/context.js';
import { runCli } from '../../../src/cli/program.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

/** Runs the CLI against a temp state dir and an in-memory store. */
async function cli(stateDir: string, args: string[], options: { input?: string; store?: MemoryStore } = {}) {
  const stdout = collect();
  const stderr = collect();
  const store = options.store ?? new MemoryStore();
  // Only what these commands touch; the cast keeps the test independent of unrelated context members.
  const ctx = {
    env: { MCP_KEYPROXY_STATE_DIR: stateDir },
    cwd: stateDir,
    stdin: Readable.from([options.input ?? '']),
    stdout: stdout.stream,
    stderr: stderr.stream,
    openStore: () => store,
  } as unknown as CliContext;
  const code = await runCli(['node', 'mcp-keyproxy', ...args], ctx);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const now = Date.now();
const iso = (msAgo: number) => new Date(now - msAgo).toISOString();
const line = (event: AuditEvent) => `${JSON.stringify(event)}\n`;

function stateWithEvents(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-keyproxy-audit-cli-'));
  writeFileSync(
    join(dir, 'audit.jsonl'),
    [
      line({ ts: iso(3 * 86_400_000), event: 'secret_stored', pid: 1, server: 'alpha', name: 'OLD', via: 'cli' }),
      line({ ts: iso(2 * 3_600_000), event: 'secret_read', pid: 2, server: 'beta', names: ['KEY'], source: 'keychain' }),
      'garbage line\n',
      line({ ts: iso(60_000), event: 'scrub_hit', pid: 3, server: 'alpha', name: 'TOKEN', where: 'result', count: 4 }),
    ].join(''),
  );
  return dir;
}

describe('mcp-keyproxy audit', () => {
  it('prints every event as a human line, and notes a malformed line on stderr without failing', async () => {
    const { code, stdout, stderr } = await cli(stateWithEvents(), ['audit']);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(3);
    expect(stdout).toContain('scrub_hit');
    expect(stdout).toContain('name=TOKEN  where=result  count=4');
    expect(stderr).toMatch(/skipped 1 malformed line\(s\) in .*audit\.jsonl \(line 3\)/);
  });

  it('filters by --server and --since, as JSON', async () => {
    const dir = stateWithEvents();
    const parse = (stdout: string) => (JSON.parse(stdout) as AuditEvent[]).map((e) => `${e.server}:${e.event}`);
    expect(parse((await cli(dir, ['audit', '--json', '--server', 'alpha'])).stdout)).toEqual(['alpha:secret_stored', 'alpha:scrub_hit']);
    expect(parse((await cli(dir, ['audit', '--json', '--since', '1d'])).stdout)).toEqual(['beta:secret_read', 'alpha:scrub_hit']);
    expect(parse((await cli(dir, ['audit', '--json', '--since', '30m', '--server', 'beta'])).stdout)).toEqual([]);
    expect(parse((await cli(dir, ['audit', '--json', '--since', iso(3 * 3_600_000)])).stdout)).toEqual([
      'beta:secret_read',
      'alpha:scrub_hit',
    ]);
  });

  it('says so when the log is empty, and refuses a bad --since', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'mcp-keyproxy-audit-cli-'));
    expect((await cli(empty, ['audit'])).stdout).toMatch(/^No audit events in /);
    const bad = await cli(empty, ['audit', '--since', 'last tuesday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since');
  });
});

describe('secrets commands write audit events (names, never values)', () => {
  it('set, delete and clear each write one event per secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-keyproxy-audit-cli-'));
    const store = new MemoryStore();
    const value = 'audit-canary-9c1d7e5f';
    expect((await cli(dir, ['secrets', 'set', 'github', 'TOKEN'], { input: `${value}\n`, store })).code).toBe(0);
    expect((await cli(dir, ['secrets', 'set', 'github', 'ORG'], { input: `${value}-org\n`, store })).code).toBe(0);
    expect((await cli(dir, ['secrets', 'delete', 'github', 'TOKEN'], { store })).code).toBe(0);
    expect((await cli(dir, ['secrets', 'clear', 'github', '--yes'], { store })).code).toBe(0);
    const raw = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    expect(raw).not.toContain(value);
    const events = raw
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as AuditEvent);
    expect(events.map((e) => [e.event, 'name' in e ? e.name : ''])).toEqual([
      ['secret_stored', 'TOKEN'],
      ['secret_stored', 'ORG'],
      ['secret_deleted', 'TOKEN'],
      ['secret_deleted', 'ORG'],
    ]);
  });

  it('a failed delete writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-keyproxy-audit-cli-'));
    expect((await cli(dir, ['secrets', 'delete', 'github', 'NOPE'])).code).toBe(2);
    expect(() => readFileSync(join(dir, 'audit.jsonl'))).toThrow();
  });
});
