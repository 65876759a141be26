import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { FileAuditSink } from '../../../src/audit/file-sink.js';
import { openAuditLog } from '../../../src/audit/open.js';
import { readAuditLog } from '../../../src/audit/reader.js';

const posix = process.platform !== 'win32';
const tempDir = () => mkdtempSync(join(tmpdir(), 'mcp-keyproxy-audit-'));

describe('FileAuditSink', () => {
  it.runIf(posix)('creates the file 0600 in a 0700 directory, and appends', () => {
    const file = join(tempDir(), 'state', 'nested', 'audit.jsonl');
    const sink = new FileAuditSink(file);
    sink.write('{"a":1}\n');
    sink.write('{"a":2}\n');
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
  });

  it.runIf(posix)('tightens an existing file that is readable by others', () => {
    const file = join(tempDir(), 'audit.jsonl');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    new FileAuditSink(file).write('x\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('rotates at the size cap and keeps the given number of old files, so the log stays bounded', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const maxBytes = 2000;
    const audit = new AuditLog(new FileAuditSink(file, { maxBytes, keep: 2 }));
    for (let i = 0; i < 500; i++) audit.secretRead('server', [`NAME_${i}`], 'keychain');
    const sizes = [file, `${file}.1`, `${file}.2`].map((path) => statSync(path).size);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(maxBytes);
    expect(existsSync(`${file}.3`)).toBe(false);
    if (posix) for (const path of [file, `${file}.1`, `${file}.2`]) expect(statSync(path).mode & 0o777).toBe(0o600);
    // The newest events survive, in order, and every kept line is whole.
    const { events, malformed } = await readAuditLog(file);
    expect(malformed).toEqual([]);
    expect(events.at(-1)).toMatchObject({ names: ['NAME_499'] });
    const indexes = events.map((event) => Number(('names' in event ? (event.names[0] ?? '') : '').slice(5)));
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
  });

  it('reports the first failure once and never throws', () => {
    const blocker = join(tempDir(), 'not-a-dir');
    writeFileSync(blocker, '');
    const errors: unknown[] = [];
    const sink = new FileAuditSink(join(blocker, 'audit.jsonl'), { onError: (error) => errors.push(error) });
    expect(() => {
      sink.write('a\n');
      sink.write('b\n');
    }).not.toThrow();
    expect(errors).toHaveLength(1);
  });
});

describe('openAuditLog', () => {
  it('writes to MCP_KEYPROXY_STATE_DIR/audit.jsonl', async () => {
    const dir = tempDir();
    openAuditLog({ env: { MCP_KEYPROXY_STATE_DIR: dir } }).secretStored('github', 'TOKEN', 'cli');
    const { events } = await readAuditLog(join(dir, 'audit.jsonl'));
    expect(events).toEqual([expect.objectContaining({ event: 'secret_stored', server: 'github', name: 'TOKEN', pid: process.pid })]);
  });
});
