import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { runCli } from '../../../src/cli/program.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';

/** Runs the CLI in-process with an in-memory keychain; stdin is a pipe (not a TTY) carrying `input`. */
async function cli(args: string[], options: { input?: string; store?: MemoryStore; cwd?: string } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const store = options.store ?? new MemoryStore();
  const stateDir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-cli-'));
  const ctx: CliContext = {
    env: { MCP_KEYPROXY_STATE_DIR: stateDir, HOME: stateDir },
    cwd: options.cwd ?? stateDir,
    stdin: Readable.from([options.input ?? '']),
    stdout,
    stderr,
    openStore: () => store,
    openDialog: () => {
      throw new Error('no dialog in CLI tests');
    },
  };
  const code = await runCli(['node', 'mcp-keyproxy', ...args], ctx);
  return { code, stdout: out, stderr: err, store };
}

async function configDir(servers: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-cli-config-'));
  await writeFile(join(dir, 'proxy.config.json'), JSON.stringify({ servers }));
  return dir;
}

describe('mcp-keyproxy CLI', () => {
  it('secrets set and list treat a name like toString or constructor as unknown, not as an inherited property', async () => {
    const cwd = await configDir({ github: { command: 'gh', env: { T: '${secret:TOKEN}' }, secrets: { TOKEN: {} } } });
    for (const [server, name] of [
      ['toString', 'TOKEN'],
      ['github', 'constructor'],
    ] as const) {
      const result = await cli(['secrets', 'set', server, name], { input: 'long-enough-value\n', cwd });
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`does not declare secret "${name}" for server "${server}"`);
    }
    const listed = await cli(['secrets', 'list', 'toString'], { cwd });
    expect(listed.code).toBe(0);
  });

  it('secrets set reads the value from stdin, drops one trailing newline, and never prints it', async () => {
    const result = await cli(['secrets', 'set', 'github', 'TOKEN'], { input: 'value-from-stdin\n' });
    expect(result.code).toBe(0);
    expect(await result.store.get('github', 'TOKEN')).toBe('value-from-stdin');
    expect(result.stdout + result.stderr).not.toContain('value-from-stdin');
  });

  it('secrets set refuses an empty value with exit code 2 and stores nothing', async () => {
    const result = await cli(['secrets', 'set', 'github', 'TOKEN'], { input: '\n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('empty');
    expect(await result.store.list('github')).toEqual([]);
  });

  it('secrets set takes no value on argv', async () => {
    const result = await cli(['secrets', 'set', 'github', 'TOKEN', 'ghp_onargv']);
    expect(result.code).toBe(2);
    expect(await result.store.list('github')).toEqual([]);
  });

  it('rejects a server name that could not be a keychain service', async () => {
    const result = await cli(['secrets', 'set', '../etc', 'TOKEN'], { input: 'x' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not a valid server name');
  });

  it('secrets list shows names, state and where declared, never values', async () => {
    const cwd = await configDir({
      gh: { command: 'srv', env: { T: '${secret:TOKEN}', O: '${secret:ORG}' }, secrets: { TOKEN: {}, ORG: {} } },
    });
    const store = new MemoryStore({ initial: { gh: { TOKEN: 'stored-secret-value' } } });
    const result = await cli(['secrets', 'list', '--json'], { store, cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('stored-secret-value');
    const rows = JSON.parse(result.stdout) as Array<{ name: string; stored: boolean; declaredIn: string | null }>;
    expect(rows.map((row) => [row.name, row.stored])).toEqual([
      ['ORG', false],
      ['TOKEN', true],
    ]);
    expect(rows[0]?.declaredIn).toBe(join(cwd, 'proxy.config.json'));
  });

  it('secrets delete reports a missing secret with a non-zero code', async () => {
    const result = await cli(['secrets', 'delete', 'gh', 'NOPE']);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('secrets list gh');
  });

  it('secrets clear needs --yes when stdin is not a terminal, and then deletes everything', async () => {
    const store = new MemoryStore({ initial: { gh: { A: 'aaaaaaaaaa', B: 'bbbbbbbbbb' } } });
    const refused = await cli(['secrets', 'clear', 'gh'], { store });
    expect(refused.code).toBe(2);
    expect(await store.list('gh')).toHaveLength(2);
    const cleared = await cli(['secrets', 'clear', 'gh', '--yes'], { store });
    expect(cleared.code).toBe(0);
    expect(await store.list('gh')).toEqual([]);
  });

  it('run without a config says where it looked, with exit code 78', async () => {
    const result = await cli(['run', 'anything', '--headless']);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('proxy.config.json');
  });

  it('unknown commands and options are usage errors (exit 2); --version and --help succeed', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['run', 'x', '--bogus'])).code).toBe(2);
    const version = await cli(['--version']);
    expect([version.code, version.stdout.trim()]).toEqual([0, expect.stringMatching(/^\d+\.\d+\.\d+/)]);
    expect((await cli(['--help'])).code).toBe(0);
  });
});
