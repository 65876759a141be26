import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fileWriteLock, secretLockPath } from '../../../src/secrets/write-lock.js';

const base = mkdtempSync(join(tmpdir(), 'keyproxy-write-lock-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const freshEnv = (): NodeJS.ProcessEnv => ({ MCP_KEYPROXY_RUNTIME_DIR: join(base, `run-${n++}`) });

describe('fileWriteLock', () => {
  it('keeps one lock per server and secret in the runtime dir', () => {
    const env = { MCP_KEYPROXY_RUNTIME_DIR: '/r' };
    expect(secretLockPath('gh', 'TOKEN', env)).toBe('/r/secret-gh+TOKEN.lock');
    expect(secretLockPath('a-b', 'c', env)).not.toBe(secretLockPath('a', 'b-c', env));
    expect(secretLockPath('../x', 'K', env)).toBe('/r/secret-__x+K.lock');
  });

  it('makes a second writer of the same secret wait until the first releases; other secrets do not wait', async () => {
    const env = freshEnv();
    const lock = fileWriteLock({ env });
    const release = await lock('s', 'K');
    expect(existsSync(secretLockPath('s', 'K', env))).toBe(true);
    const other = await lock('s', 'OTHER');
    await other();
    let second = false;
    const waiting = lock('s', 'K').then((releaseSecond) => {
      second = true;
      return releaseSecond;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(second).toBe(false);
    await release();
    await (
      await waiting
    )();
    expect(existsSync(secretLockPath('s', 'K', env))).toBe(false);
  });

  it('waits for a lock held by another process', async () => {
    const env = freshEnv();
    const path = secretLockPath('s', 'K', env);
    // Another process takes the lock as proper-lockfile makes it (a folder at that path), then gives it back.
    const lockfile = createRequire(import.meta.url).resolve('proper-lockfile');
    const script = `
      const { lock } = require(${JSON.stringify(lockfile)});
      require('node:fs').mkdirSync(${JSON.stringify(env['MCP_KEYPROXY_RUNTIME_DIR'])}, { recursive: true });
      lock(${JSON.stringify(path)}, { lockfilePath: ${JSON.stringify(path)}, realpath: false }).then((release) => {
        process.stdout.write('held\\n');
        setTimeout(() => release().then(() => process.stdout.write('released\\n')), 400);
      });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await vi.waitFor(() => expect(out).toContain('held'), { timeout: 10_000 });
    expect(existsSync(path)).toBe(true);
    const asked = performance.now();
    const release = await fileWriteLock({ env })('s', 'K');
    // The child lets go 400 ms after it said "held"; this process cannot have had the lock much before that.
    expect(performance.now() - asked).toBeGreaterThan(250);
    await release();
    await exited;
  }, 20_000);

  it('gives up after waitMs with a message that says what to do, and changes nothing', async () => {
    const env = freshEnv();
    const release = await fileWriteLock({ env })('srv', 'TOKEN');
    const error = await fileWriteLock({ env, waitMs: 300 })('srv', 'TOKEN').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'KEYCHAIN_FAILED',
      message: expect.stringMatching(
        /Another mcp-keyproxy process has been storing or deleting secret TOKEN of server srv.*nothing was changed.*Try again/,
      ),
    });
    expect((error as Error).message).toContain(secretLockPath('srv', 'TOKEN', env));
    await release();
  });

  it('says how to fix a runtime dir where no lock can be made', async () => {
    const parent = join(base, `readonly-${n++}`);
    rmSync(parent, { recursive: true, force: true });
    await fileWriteLock({ env: { MCP_KEYPROXY_RUNTIME_DIR: parent } })('s', 'K').then((release) => release());
    chmodSync(parent, 0o500);
    try {
      const error = await fileWriteLock({ env: { MCP_KEYPROXY_RUNTIME_DIR: parent } })('s', 'K').catch((e: unknown) => e);
      if (process.getuid?.() === 0) return; // root writes anywhere
      expect(error).toMatchObject({ code: 'KEYCHAIN_FAILED', message: expect.stringContaining('MCP_KEYPROXY_RUNTIME_DIR') });
    } finally {
      chmodSync(parent, 0o700);
    }
  });
});
