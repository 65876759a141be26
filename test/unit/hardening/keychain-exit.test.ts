import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { rolldown } from 'rolldown';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// endBlockedKeychainCalls decides whether a process may exit or must end itself: run it in a child process, where a
// SIGKILL ends only the child. The child gets the real modules, bundled as the CLI is (scripts/bundle.mjs).
const dir = mkdtempSync(join(tmpdir(), 'mcp-keyproxy-keychain-exit-'));
const bundle = join(dir, 'keychain-exit.mjs');

beforeAll(async () => {
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `export { endBlockedKeychainCalls } from ${JSON.stringify(resolve('src/hardening/keychain-exit.ts'))};\n` +
      `export { trackKeychainCall } from ${JSON.stringify(resolve('src/secrets/calls-in-flight.ts'))};\n`,
  );
  const build = await rolldown({ input: entry, platform: 'node', logLevel: 'silent' });
  await build.write({ file: bundle, format: 'esm' });
  await build.close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a child that tracks one keychain call (`call`: JS for a promise), then calls endBlockedKeychainCalls. */
function child(call: string): ReturnType<typeof spawnSync> {
  const script = `
    const { endBlockedKeychainCalls, trackKeychainCall } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
    trackKeychainCall(${call});
    process.stdout.write('written before\\n');
    await endBlockedKeychainCalls(process, 300);
    process.stdout.write('exits normally\\n');
    process.exit(5);`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
}

describe('endBlockedKeychainCalls', () => {
  it('lets the process exit with its own code once the calls in flight have returned', () => {
    const result = child('new Promise((resolve) => setTimeout(resolve, 50))');
    expect(result.status).toBe(5);
    expect(result.stdout).toBe('written before\nexits normally\n');
    expect(result.stderr).toBe('');
  });

  it('ends the process with SIGKILL, after its output and a line saying why, when a call does not return', () => {
    const result = child('new Promise(() => undefined)');
    expect(result.signal).toBe('SIGKILL');
    expect(result.stdout).toBe('written before\n');
    expect(result.stderr).toContain('a keychain call is still waiting');
    expect(result.stderr).toContain('ending the process');
  });
});
