import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { disableCoreDumps } from '../../../src/hardening/core-dumps.js';

const FILTER = '/proc/self/coredump_filter';
const linux = process.platform === 'linux';
/** The filter as the kernel shows it: 8 hex digits, no prefix. */
const readFilter = () => readFileSync(FILTER, 'utf8').trim();
/** The filter a child started now sees (it inherits the parent's at fork). */
const childFilter = () =>
  spawnSync(process.execPath, ['-e', `process.stdout.write(require('fs').readFileSync('${FILTER}', 'utf8').trim())`], {
    encoding: 'utf8',
  }).stdout;

describe('disableCoreDumps', () => {
  let before = '';
  // The test worker is reused by other test files: give it its filter back (the kernel reads "0x…" as hex,
  // a bare "00000033" as octal).
  beforeEach(() => void (linux && (before = readFilter())));
  afterEach(() => void (linux && writeFileSync(FILTER, `0x${before}`)));

  it.runIf(linux)('dumps no mapping of this process, nor of a child started afterwards', () => {
    expect(before).not.toBe('00000000'); // the kernel's default is 33: anonymous memory and ELF headers
    disableCoreDumps();
    expect(readFilter()).toBe('00000000');
    expect(childFilter()).toBe('00000000');
  });

  it.runIf(linux)('is a no-op off Linux', () => {
    disableCoreDumps('darwin');
    disableCoreDumps('win32');
    expect(readFilter()).toBe(before);
  });

  it('never throws and never creates the file where there is no /proc', () => {
    const dir = mkdtempSync(join(tmpdir(), 'core-dumps-'));
    try {
      const missing = join(dir, 'coredump_filter');
      expect(() => disableCoreDumps('linux', missing)).not.toThrow();
      expect(existsSync(missing)).toBe(false);
      expect(() => disableCoreDumps('linux', dir)).not.toThrow(); // a directory: EISDIR
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
