// A git clone's `npm install` builds the GTK dialog when the build tools are there and goes on without it when
// they are not; the npm package's own install never compiles anything.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const script = join(root, 'scripts', 'build-dialog.sh');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const dir = mkdtempSync(join(tmpdir(), 'keyproxy-build-dialog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A PATH with only the tools the script needs before it looks for the compiler (no gcc), plus `extra` scripts. */
function path(name: string, extra: Record<string, string> = {}): string {
  const bin = join(dir, name);
  execFileSync('mkdir', ['-p', bin]);
  for (const tool of ['dirname', 'uname', 'mkdir', 'rm', 'mv']) {
    symlinkSync(execFileSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
  }
  for (const [tool, body] of Object.entries(extra)) writeFileSync(join(bin, tool), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return bin;
}

function run(args: string[], PATH: string) {
  return spawnSync('/bin/bash', [script, ...args], { env: { PATH }, encoding: 'utf8' });
}

describe('building the GTK dialog on install', () => {
  it('is part of prepare (a git clone) and of no install script (the npm tarball never compiles)', () => {
    expect(pkg.scripts['prepare']).toMatch(/bash scripts\/build-dialog\.sh --if-possible/);
    for (const hook of ['preinstall', 'install', 'postinstall']) expect(pkg.scripts[hook]).toBeUndefined();
  });

  it('with --if-possible, goes on (exit 0) when gcc is missing, and says how to build it later', () => {
    const result = run(['--if-possible'], path('no-gcc'));
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/not built \(gcc not found\).*zenity.*sudo apt-get install .*libgtk-3-dev.*bash .*build-dialog\.sh/);
  });

  it('with --if-possible, goes on when the libraries are missing or the compiler fails', () => {
    const noLibs = path('no-libs', { gcc: 'exit 0', 'pkg-config': 'exit 1' });
    expect(run(['--if-possible'], noLibs)).toMatchObject({ status: 0, stderr: expect.stringContaining('cannot find gtk+-3.0') });
    const broken = path('broken-gcc', { gcc: 'echo "gcc: internal error" >&2; exit 4', 'pkg-config': 'exit 0' });
    const result = run(['--if-possible'], broken);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/gcc: internal error[\s\S]*not built \(gcc failed/);
  });

  it('without it, fails (exit 1) and names the packages to install', () => {
    const result = run([], path('strict'));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/gcc not found[\s\S]*apt-get install gcc pkg-config libgtk-3-dev libjson-glib-dev/);
  });
});
