import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { runCli } from '../../../src/cli/program.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';

/** A user config in its platform dir, a repository with a subfolder, one state dir for every command of a test. */
async function machine() {
  const root = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-project-'));
  const xdg = join(root, 'xdg');
  await mkdir(join(xdg, 'mcp-keyproxy'), { recursive: true });
  const user = join(xdg, 'mcp-keyproxy', 'proxy.config.json');
  await writeFile(
    user,
    JSON.stringify({
      servers: {
        github: { command: 'gh-mcp', env: { T: '${secret:TOKEN}' }, secrets: { TOKEN: {} } },
        ci: { command: 'ci-mcp', secrets: { CI: 'env:CI_TOKEN' }, enabled: false },
      },
    }),
  );
  const repo = join(root, 'repo');
  const sub = join(repo, 'src');
  await mkdir(sub, { recursive: true });
  const env = { XDG_CONFIG_HOME: xdg, MCP_KEYPROXY_STATE_DIR: join(root, 'state'), HOME: root };
  const cli = async (args: string[], cwd = sub) => {
    let out = '';
    let err = '';
    const stdout = new PassThrough().on('data', (chunk: Buffer) => (out += chunk.toString()));
    const stderr = new PassThrough().on('data', (chunk: Buffer) => (err += chunk.toString()));
    const ctx: CliContext = {
      env,
      cwd,
      stdin: Readable.from(['']),
      stdout,
      stderr,
      openStore: () => new MemoryStore(),
      openDialog: () => {
        throw new Error('no dialog here');
      },
    };
    const code = await runCli(['node', 'mcp-keyproxy', ...args], ctx);
    return { code, stdout: out, stderr: err };
  };
  return { root, repo, sub, user, cli, projectFile: join(repo, '.mcp-keyproxy.json') };
}

type Listing = { untrusted: Array<{ path: string; state: string }>; project: string | null; servers: Array<Record<string, unknown>> };

describe('servers, enable, disable, trust', () => {
  it('servers lists each server, where it is defined, enabled or not, and its secret sources', async () => {
    const { cli, user } = await machine();
    const result = await cli(['servers', '--json']);
    expect(result.code).toBe(0);
    const listing = JSON.parse(result.stdout) as Listing;
    expect(listing.project).toBeNull();
    expect(listing.servers).toEqual([
      { name: 'github', kind: 'local', definedIn: user, enabled: true, secrets: [{ name: 'TOKEN', source: 'keychain' }] },
      { name: 'ci', kind: 'local', definedIn: user, enabled: false, secrets: [{ name: 'CI', source: 'env:CI_TOKEN' }] },
    ]);
    const text = await cli(['servers']);
    expect(text.stdout).toMatch(/disabled\s+ci \(local\)\s+secrets: CI \(env:CI_TOKEN\)/);
  });

  it('enable and disable write the project file atomically with a backup, and it applies at once', async () => {
    const { cli, projectFile, repo, sub } = await machine();
    // No project file yet: created in the working directory.
    const enabled = await cli(['enable', 'ci'], repo);
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toContain(`Enabled ci for this project in ${projectFile}`);
    expect(JSON.parse(await readFile(projectFile, 'utf8'))).toEqual({ servers: { ci: { enabled: true } } });
    // From a subfolder: the same file, found in the parent; the earlier content kept as a backup.
    const disabled = await cli(['disable', 'github'], sub);
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain('backup:');
    const backups = (await readdir(repo)).filter((name) => name.endsWith('.bak'));
    expect(backups).toHaveLength(1);
    expect(JSON.parse(await readFile(join(repo, backups[0]!), 'utf8'))).toEqual({ servers: { ci: { enabled: true } } });
    const listing = JSON.parse((await cli(['servers', '--json'])).stdout) as Listing;
    expect(listing.project).toBe(projectFile);
    expect(listing.untrusted).toEqual([]);
    expect(listing.servers.map((server) => [server.name, server.enabled])).toEqual([
      ['github', false],
      ['ci', true],
    ]);
    const typo = await cli(['enable', 'githb']);
    expect([typo.code, typo.stderr]).toEqual([78, expect.stringContaining('Did you mean "github"?')]);
  });

  it('a project file from elsewhere is reported, not applied, until trusted; edited, it is untrusted again', async () => {
    const { cli, projectFile } = await machine();
    await writeFile(projectFile, JSON.stringify({ servers: { github: { enabled: false }, db: { command: 'db-mcp' } } }));
    const before = await cli(['servers', '--json']);
    expect(before.stderr).toContain(`The project file ${projectFile} is not trusted`);
    expect(before.stderr).toContain(`mcp-keyproxy trust ${projectFile}`);
    expect((JSON.parse(before.stdout) as Listing).servers.map((server) => server.name)).toEqual(['github', 'ci']);
    // Not edited while untrusted: the edit would not apply.
    const refused = await cli(['disable', 'ci']);
    expect([refused.code, refused.stderr]).toEqual([78, expect.stringContaining('is not trusted')]);

    const trusted = await cli(['trust']);
    expect(trusted.code).toBe(0);
    expect(trusted.stdout).toContain(`Trusted ${projectFile}`);
    expect(trusted.stdout).toContain("db (this project's own server): runs db-mcp");
    expect(trusted.stdout).toContain('github: disabled');
    const after = JSON.parse((await cli(['servers', '--json'])).stdout) as Listing;
    expect(after.servers.map((server) => [server.name, server.enabled, server.definedIn])).toEqual([
      ['github', false, expect.stringContaining('proxy.config.json')],
      ['ci', false, expect.stringContaining('proxy.config.json')],
      ['db', true, projectFile],
    ]);

    await writeFile(projectFile, JSON.stringify({ servers: { db: { command: 'other-db' } } }));
    const edited = await cli(['servers', '--json']);
    expect(edited.stderr).toContain('has changed since you trusted it');
    expect((JSON.parse(edited.stdout) as Listing).untrusted).toEqual([{ path: projectFile, kind: 'project', state: 'changed' }]);

    const forgotten = await cli(['trust', '--forget']);
    expect(forgotten.stdout).toContain(`No longer trusted: ${projectFile}`);
  });

  it('trust refuses a project file that would not apply, and says when there is nothing to trust', async () => {
    const { cli, projectFile } = await machine();
    const nothing = await cli(['trust']);
    expect([nothing.code, nothing.stderr]).toEqual([2, expect.stringContaining('nothing to trust')]);
    await writeFile(projectFile, JSON.stringify({ servers: { github: { command: 'sh' } } }));
    const refused = await cli(['trust']);
    expect([refused.code, refused.stderr]).toEqual([78, expect.stringContaining('not redefine it')]);
    expect((await cli(['servers'])).stderr).toContain('is not trusted');
  });
});
