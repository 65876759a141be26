import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { runCli } from '../../../src/cli/program.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';
import { CACHE_ITEM_ACCOUNT } from '../../../src/secrets/store.js';
import { SourceCache } from '../../../src/sources/source-cache.js';

/** Runs the CLI in-process with an in-memory keychain; stdin is a pipe (not a TTY) carrying `input`. */
async function cli(
  args: string[],
  options: { input?: string; store?: MemoryStore; cacheStore?: MemoryStore; cwd?: string; home?: string; env?: NodeJS.ProcessEnv } = {},
) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const store = options.store ?? new MemoryStore();
  const stateDir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-cli-'));
  const ctx: CliContext = {
    env: {
      MCP_KEYPROXY_STATE_DIR: stateDir,
      HOME: options.home ?? stateDir,
      // The config of a test's folder is named, as a client entry names it: found in the working directory it would
      // need `mcp-keyproxy trust` first (test/unit/cli/project.test.ts).
      ...(options.cwd ? { MCP_KEYPROXY_CONFIG: join(options.cwd, 'proxy.config.json') } : {}),
      ...options.env,
    },
    cwd: options.cwd ?? stateDir,
    stdin: Readable.from([options.input ?? '']),
    stdout,
    stderr,
    openStore: () => store,
    ...(options.cacheStore && { openCacheStore: () => options.cacheStore! }),
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
    const server = await cli(['secrets', 'set', 'toString', 'TOKEN'], { input: 'long-enough-value\n', cwd });
    expect(server.code).toBe(0);
    expect(server.stderr).toContain('has no server "toString" (it has: github)');
    const secret = await cli(['secrets', 'set', 'github', 'constructor'], { input: 'long-enough-value\n', cwd });
    expect(secret.code).toBe(0);
    expect(secret.stderr).toContain('does not declare secret "constructor" for server "github"');
    const listed = await cli(['secrets', 'list', 'toString'], { cwd });
    expect(listed.code).toBe(0);
  });

  it('secrets set for a server the config does not have: a near name is a typo (exit 2, nothing stored), another is stored with a note', async () => {
    const cwd = await configDir({
      github: { command: 'gh', env: { T: '${secret:TOKEN}' }, secrets: { TOKEN: {} } },
      slack: { command: 's' },
    });
    const typo = await cli(['secrets', 'set', 'githb', 'TOKEN'], { input: 'long-enough-value\n', cwd });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(`${join(cwd, 'proxy.config.json')} has no server "githb", so nothing was stored`);
    expect(typo.stderr).toContain('Did you mean "github"? Run: mcp-keyproxy secrets set github TOKEN');
    expect(typo.stderr).not.toContain('warning');
    expect(await typo.store.list('githb')).toEqual([]);
    const inline = await cli(['secrets', 'set', 'linear', 'API_KEY'], { input: 'long-enough-value\n', cwd });
    expect(inline.code).toBe(0);
    expect(inline.stderr).toContain(
      'has no server "linear" (it has: github, slack); storing the value under "linear" for `run linear --secret API_KEY -- <command>`',
    );
    expect(await inline.store.get('linear', 'API_KEY')).toBe('long-enough-value');
    const forced = await cli(['secrets', 'set', 'githubs', 'TOKEN', '--new-server'], { input: 'long-enough-value\n', cwd });
    expect([forced.code, forced.stderr]).toEqual([0, '']);
    expect(await forced.store.get('githubs', 'TOKEN')).toBe('long-enough-value');
    const secretTypo = await cli(['secrets', 'set', 'github', 'TOKN'], { input: 'long-enough-value\n', cwd });
    expect([secretTypo.code, secretTypo.stderr]).toEqual([0, expect.stringContaining('(did you mean "TOKEN"?)')]);
  });

  it('expands ~ in --config and MCP_KEYPROXY_CONFIG, as a shell would', async () => {
    const home = await configDir({ github: { command: 'gh', secrets: { TOKEN: {} }, env: { T: '${secret:TOKEN}' } } });
    const viaFlag = await cli(['secrets', 'list', '--json', '--config', '~/proxy.config.json'], { home });
    expect(viaFlag.code).toBe(0);
    expect(JSON.parse(viaFlag.stdout)).toEqual([expect.objectContaining({ name: 'TOKEN', declaredIn: join(home, 'proxy.config.json') })]);
    const viaEnv = await cli(['secrets', 'list', '--json'], { home, env: { MCP_KEYPROXY_CONFIG: '~/proxy.config.json' } });
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toEqual([expect.objectContaining({ declaredIn: join(home, 'proxy.config.json') })]);
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

  it('secrets list names the source of a secret with "from" instead of calling it missing', async () => {
    const cwd = await configDir({ box: { command: 'srv', secrets: { CI: 'env:CI_TOKEN', KEY: 'op://Dev/Item/key' } } });
    const result = await cli(['secrets', 'list'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('box  CI  from env:CI_TOKEN');
    expect(result.stdout).toContain('box  KEY  from op://Dev/Item/key');
    expect(result.stdout).not.toContain('MISSING');
  });

  it('secrets delete of a secret that is not stored is bad input (exit 2), not a config error', async () => {
    const result = await cli(['secrets', 'delete', 'gh', 'NOPE']);
    expect(result.code).toBe(2);
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

  it('secrets clear also deletes the cached source values (one item per server, or kept the old way), named by secret', async () => {
    const cacheStore = new MemoryStore();
    const entry = { source: 'op://V/I/g', value: 'cached-value-123', fetchedAt: 2 };
    await new SourceCache(cacheStore).putMany('gh', new Map([['TOKEN', entry]]));
    // An entry kept the old way (one item per secret) beside the item.
    await cacheStore.set('gh', 'OLD', JSON.stringify({ source: 'op://V/I/f', value: 'old-value-123', fetchedAt: 1 }));
    const cleared = await cli(['secrets', 'clear', 'gh', '--yes'], { cacheStore });
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toContain('Deleted the cached values of OLD, TOKEN.');
    expect(cleared.stdout).not.toContain(CACHE_ITEM_ACCOUNT);
    expect(await cacheStore.list('gh')).toEqual([]);
    const again = await cli(['secrets', 'clear', 'gh', '--yes'], { cacheStore });
    expect(again.stdout).toContain('No secrets are stored for gh');
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
