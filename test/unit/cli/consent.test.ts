import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { runCli } from '../../../src/cli/program.js';
import { localServerSchema } from '../../../src/config/schema.js';
import { defaultConsentPath, fileConsentStore } from '../../../src/consent/file-store.js';
import { consentGrant } from '../../../src/consent/grant.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';

/** Runs the CLI in-process against the state dir `stateDir`. */
async function cli(stateDir: string, args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const ctx: CliContext = {
    env: { MCP_KEYPROXY_STATE_DIR: stateDir, HOME: stateDir },
    cwd: stateDir,
    stdin: Readable.from(['']),
    stdout,
    stderr,
    openStore: () => new MemoryStore(),
    openDialog: () => {
      throw new Error('no dialog in CLI tests');
    },
  };
  const code = await runCli(['node', 'mcp-keyproxy', ...args], ctx);
  return { code, stdout: out, stderr: err };
}

/** A state dir where `servers` were allowed always. */
async function allowed(...servers: string[]): Promise<string> {
  const stateDir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-consent-cli-'));
  const store = fileConsentStore(defaultConsentPath({ MCP_KEYPROXY_STATE_DIR: stateDir }));
  const server = localServerSchema.parse({ command: 'npx', args: ['-y', 'srv'] });
  for (const name of servers) await store.remember(consentGrant(name, server, ['token']));
  return stateDir;
}

describe('mcp-keyproxy consent', () => {
  it('list shows each server allowed always, as text or JSON', async () => {
    const stateDir = await allowed('github', 'linear');
    const text = await cli(stateDir, ['consent', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^github {2}secrets: token {2}runs: npx -y srv {2}allowed: \d{4}-/m);
    expect(text.stdout).toContain('linear');
    const json = await cli(stateDir, ['consent', 'list', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ server: 'github', secrets: ['token'], target: 'npx -y srv' }),
      expect.objectContaining({ server: 'linear' }),
    ]);
    const empty = await cli(await allowed(), ['consent', 'list']);
    expect(empty.stdout).toContain('No server is allowed always');
  });

  it('revoke forgets one server, --all every server; a server not allowed is said so (exit 0)', async () => {
    const stateDir = await allowed('github', 'linear', 'slack');
    const one = await cli(stateDir, ['consent', 'revoke', 'github']);
    expect(one).toMatchObject({ code: 0, stdout: expect.stringContaining('github') });
    expect(JSON.parse((await cli(stateDir, ['consent', 'list', '--json'])).stdout)).toHaveLength(2);
    expect((await cli(stateDir, ['consent', 'revoke', 'github'])).stdout).toContain('nothing to revoke');
    const all = await cli(stateDir, ['consent', 'revoke', '--all']);
    expect(all.stdout).toContain('linear, slack');
    expect(JSON.parse((await cli(stateDir, ['consent', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('revoke needs exactly one of a server name and --all (exit 2)', async () => {
    const stateDir = await allowed('github');
    expect(await cli(stateDir, ['consent', 'revoke'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--all') });
    expect((await cli(stateDir, ['consent', 'revoke', 'github', '--all'])).code).toBe(2);
    expect((await cli(stateDir, ['consent', 'revoke', '../x'])).code).toBe(2);
    expect(JSON.parse((await cli(stateDir, ['consent', 'list', '--json'])).stdout)).toHaveLength(1);
  });
});
