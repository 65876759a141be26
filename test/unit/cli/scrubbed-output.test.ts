import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import type { CredentialDialog } from '../../../src/dialog/credential-dialog.js';
import { runCli } from '../../../src/cli/program.js';
import { ExitCode } from '../../../src/errors.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';
import type { SecretStore } from '../../../src/secrets/store.js';
import { MAX_VALUE_BYTES } from '../../../src/secrets/value-rules.js';

/** Runs the CLI in-process; stdin is a pipe carrying `input` (or one that stays open). */
async function cli(args: string[], options: { input?: string; store?: SecretStore; openStdin?: boolean } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const store = options.store ?? new MemoryStore();
  const dir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-cli-scrub-'));
  const stdin = options.openStdin ? new PassThrough() : Readable.from([options.input ?? '']);
  const ctx: CliContext = {
    env: { MCP_KEYPROXY_STATE_DIR: dir, MCP_KEYPROXY_RUNTIME_DIR: dir, HOME: dir, MCP_KEYPROXY_HEADLESS: '1', PATH: process.env.PATH },
    cwd: dir,
    stdin,
    stdout,
    stderr,
    openStore: () => store,
    // run opens it up front; headless, it is never shown.
    openDialog: () => ({}) as CredentialDialog,
  };
  const code = await runCli(['node', 'mcp-keyproxy', ...args], ctx);
  (stdin as PassThrough).end?.();
  return { code, stdout: out, stderr: err, store, dir };
}

describe('values that cannot reach a server are refused when stored', () => {
  it('secrets set refuses a NUL byte with exit code 2, stores nothing and never prints the value', async () => {
    const result = await cli(['secrets', 'set', 'github', 'TOKEN'], { input: 'ghp_first-half\u0000second-half\n' });
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toContain('The value for TOKEN cannot be passed to a server: it contains a NUL byte');
    expect(result.stderr).toContain('Nothing was stored.');
    expect(result.stdout + result.stderr).not.toMatch(/first-half|second-half/);
    expect(await result.store.list('github')).toEqual([]);
  });

  it(`secrets set refuses a value over ${MAX_VALUE_BYTES} bytes (no environment variable holds it everywhere)`, async () => {
    const result = await cli(['secrets', 'set', 'github', 'TOKEN'], { input: 'k'.repeat(MAX_VALUE_BYTES + 1) });
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toContain(`more than the ${MAX_VALUE_BYTES} bytes`);
    expect(await result.store.list('github')).toEqual([]);
    const atLimit = await cli(['secrets', 'set', 'github', 'TOKEN'], { input: 'k'.repeat(MAX_VALUE_BYTES) });
    expect(atLimit.code).toBe(ExitCode.ok);
  });
});

describe('every line the CLI writes goes through the scrubber', () => {
  it('an unexpected error of a failed write that quotes the value prints it redacted', async () => {
    const store = new MemoryStore();
    store.set = async (_server, _name, value) => {
      throw new Error(`backend refused ${value} (${JSON.stringify(value)})`);
    };
    const result = await cli(['secrets', 'set', 'github', 'TOKEN'], { input: 'ghp_quoted-by-a-library-1234\n', store });
    expect(result.code).toBe(ExitCode.failure);
    expect(result.stderr).toContain('unexpected error');
    expect(result.stderr).not.toContain('quoted-by-a-library');
  });

  it('run: a stored value spawn refuses (NUL byte) never reaches stderr, in any spelling', async () => {
    const value = 'sk-stored-before-the-rule\u0000-and-after';
    const store = new MemoryStore({ initial: { srv: { KEY: value } } });
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-cli-scrub-config-'));
    const config = join(dir, 'proxy.config.json');
    await writeFile(
      config,
      JSON.stringify({
        servers: {
          srv: {
            command: process.execPath,
            args: ['-e', ''],
            env: { KEY: '${secret:KEY}' },
            secrets: { KEY: { label: 'Key' } },
            confirm: false,
          },
        },
      }),
    );
    const result = await cli(['run', 'srv', '--config', config, '--headless'], { store, openStdin: true });
    expect(result.code).not.toBe(ExitCode.ok);
    // Node's spawn quotes the value (escaped) in its error, which ends in the CLI's "unexpected error" line.
    expect(result.stderr).toContain('[REDACTED:srv/KEY]');
    expect(result.stderr).not.toMatch(/stored-before|and-after/);
  });
});
