import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { plainRunArgs } from '../../../src/cli/plain-run-args.js';
import { runPlain } from '../../../src/cli/plain-run.js';
import { runCli } from '../../../src/cli/program.js';
import { Scrubber } from '../../../src/log/scrubber.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';

const argv = (...args: string[]) => ['node', 'mcp-keyproxy', ...args];

/** A CLI context with an in-memory keychain, and what was written to its stderr. */
async function context(): Promise<{ ctx: CliContext; stderr: () => string }> {
  const stateDir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-plain-run-'));
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const ctx: CliContext = {
    env: { MCP_KEYPROXY_STATE_DIR: stateDir, HOME: stateDir, MCP_KEYPROXY_HEADLESS: '1' },
    cwd: stateDir,
    stdin: Readable.from(['']),
    stdout: new PassThrough(),
    stderr,
    openStore: () => new MemoryStore(),
    openDialog: () => {
      throw new Error('no dialog in CLI tests');
    },
  };
  return { ctx, stderr: () => err };
}

describe('the fast path of run <server> (no commander)', () => {
  it('takes the shapes of a client entry: a server name with --config/-c, --headless, --log-level', () => {
    expect(plainRunArgs(argv('run', 'github'))).toEqual({ serverName: 'github', options: {} });
    expect(plainRunArgs(argv('run', 'github', '-c', 'a.json', '--headless', '--log-level', 'warn'))).toEqual({
      serverName: 'github',
      options: { config: 'a.json', headless: true, logLevel: 'warn' },
    });
    expect(plainRunArgs(argv('run', '--config=b.json', 'github'))).toEqual({ serverName: 'github', options: { config: 'b.json' } });
    expect(plainRunArgs(argv('run', 'github', '--collect', 'browser'))).toEqual({ serverName: 'github', options: { collect: 'browser' } });
  });

  it('takes the aggregate too: run with no server name and the same options', () => {
    expect(plainRunArgs(argv('run'))).toEqual({ serverName: undefined, options: {} });
    expect(plainRunArgs(argv('run', '--config', 'a.json', '--log-level', 'warn'))).toEqual({
      serverName: undefined,
      options: { config: 'a.json', logLevel: 'warn' },
    });
  });

  it('leaves everything else to commander: help, --only, inline servers, unknown options, bad levels', () => {
    for (const args of [
      ['run', '--help'],
      ['run', 'github', '--help'],
      ['run', '--only', 'a,b'],
      ['run', 'github', '--secret', 'TOKEN', '--', 'node', 'server.js'],
      ['run', 'github', '--url', 'https://example.com/mcp'],
      ['run', 'github', '--log-level', 'loud'],
      ['run', 'github', '--collect', 'carrier-pigeon'],
      ['run', 'github', 'extra'],
      ['run', 'github', '--config'],
      ['run', '--log-level', 'loud'],
      ['run', '-x'],
      ['secrets', 'list'],
      ['--version'],
    ]) {
      expect(plainRunArgs(argv(...args)), args.join(' ')).toBeUndefined();
    }
  });

  it('fails as runCli does: the same message and exit code for an unknown server and a missing config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-plain-run-config-'));
    const config = join(dir, 'proxy.config.json');
    await writeFile(config, JSON.stringify({ servers: { github: { command: 'gh' } } }));
    for (const args of [
      ['run', 'gitlab', '--config', config],
      ['run', 'github', '--config', join(dir, 'missing.json')],
      ['run', '--config', join(dir, 'missing.json')],
    ]) {
      const fast = await context();
      const fastCode = await runPlain(argv(...args), fast.ctx, new Scrubber());
      const slow = await context();
      const slowCode = await runCli(argv(...args), slow.ctx);
      expect(fastCode, args.join(' ')).toBe(slowCode);
      expect(fastCode).not.toBe(0);
      expect(fast.stderr()).toBe(slow.stderr());
      expect(fast.stderr()).toContain('mcp-keyproxy: ');
    }
  });
});
