import { readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, trustStoreOf } from '../../../src/config/load.js';
import { forgetTrust, readTrusted, trustContent, trustState } from '../../../src/config/trust.js';
import { isLocalServer } from '../../../src/config/types.js';
import { expectKeyproxyError, tempDir, writeConfig } from './helpers.js';

/** A user config in the platform dir, a repository with a subfolder as cwd, a private state dir. */
async function layout() {
  const root = await tempDir();
  const repo = path.join(root, 'repo');
  const cwd = path.join(repo, 'packages', 'app');
  const home = path.join(root, 'home');
  const env = { XDG_CONFIG_HOME: path.join(root, 'xdg'), MCP_KEYPROXY_STATE_DIR: path.join(root, 'state') };
  const user = await writeConfig(path.join(root, 'xdg', 'mcp-keyproxy'), 'proxy.config.json', {
    servers: {
      github: { command: 'gh-mcp', env: { GITHUB_TOKEN: '${secret:GITHUB_TOKEN}', MODE: 'all' }, secrets: { GITHUB_TOKEN: {} } },
      sentry: { url: 'https://sentry.example/mcp', headers: { Authorization: 'Bearer ${secret:key}' }, secrets: { key: {} } },
    },
  });
  await writeConfig(cwd, 'placeholder.txt', 'x');
  const options = { cwd, env, homedir: home, platform: 'linux' as const };
  return { root, repo, cwd, env, user, options, store: trustStoreOf(options) };
}

const project = {
  servers: {
    github: { enabled: false, env: { MODE: 'repos' } },
    db: { command: 'db-mcp', args: ['--ro'] },
  },
};

describe('project files and trust', () => {
  it('reports an untrusted project file and does not apply it; trusted it applies; edited it is untrusted again', async () => {
    const { repo, options, store, user } = await layout();
    const file = await writeConfig(repo, '.mcp-keyproxy.json', project);

    const before = await loadConfig(options);
    expect(Object.keys(before.servers)).toEqual(['github', 'sentry']);
    expect(before.project).toBeUndefined();
    expect(before.untrusted).toEqual([expect.objectContaining({ path: file, kind: 'project', state: 'untrusted' })]);
    expect(before.untrusted?.[0]?.message).toContain(`mcp-keyproxy trust ${file}`);

    await trustContent(store, file, await readFile(file, 'utf8'));
    const after = await loadConfig(options);
    expect(after.untrusted).toBeUndefined();
    expect(after.project).toBe(file);
    expect(Object.keys(after.servers)).toEqual(['github', 'sentry', 'db']);
    const github = after.servers.github!;
    expect(github.enabled).toBe(false);
    expect(isLocalServer(github) && github.env).toEqual({ GITHUB_TOKEN: '${secret:GITHUB_TOKEN}', MODE: 'repos' });
    expect(after.definedIn).toEqual({ db: file });
    expect(after.path).toBe(user);

    await writeFile(file, JSON.stringify({ servers: { ...project.servers, db: { command: 'evil' } } }));
    const edited = await loadConfig(options);
    expect(Object.keys(edited.servers)).toEqual(['github', 'sentry']);
    expect(edited.untrusted).toEqual([expect.objectContaining({ path: file, state: 'changed' })]);
    expect(edited.untrusted?.[0]?.message).toContain('has changed since you trusted it');

    expect(await forgetTrust(store, file)).toBe(true);
    expect(readTrusted(store)).toEqual({});
    expect(await forgetTrust(store, file)).toBe(false);
  });

  it('refuses a project server that redefines a server of the user config, and an override of an unknown one', async () => {
    const { repo, options, store } = await layout();
    const text = JSON.stringify({ servers: { github: { command: 'sh', args: ['-c', 'steal'] }, githb: { enabled: true } } });
    const file = await writeConfig(repo, '.mcp-keyproxy.json', text);
    await trustContent(store, file, text);
    const error = await expectKeyproxyError(() => loadConfig(options), 'CONFIG_INVALID');
    expect(error.message).toContain('not redefine it');
    expect(error.message).toContain('did you mean "github"?');
  });

  it('refuses "env" for a remote server and ${secret:…} of an undeclared secret', async () => {
    const { repo, options, store } = await layout();
    const text = JSON.stringify({ servers: { sentry: { env: { A: 'b' } }, github: { env: { X: '${secret:OTHER}' } } } });
    const file = await writeConfig(repo, '.mcp-keyproxy.json', text);
    await trustContent(store, file, text);
    const error = await expectKeyproxyError(() => loadConfig(options), 'CONFIG_INVALID');
    expect(error.message).toContain('"env" is for a local server');
    expect(error.message).toContain('OTHER');
  });

  it('keeps the trust store private, with the previous version as .bak, and reads a foreign-writable one as empty', async () => {
    const { store, repo } = await layout();
    const file = path.join(repo, '.mcp-keyproxy.json');
    await trustContent(store, file, 'one');
    await trustContent(store, `${file}2`, 'two');
    expect((await stat(store)).mode & 0o777).toBe(0o600);
    expect(Object.keys(JSON.parse(await readFile(`${store}.bak`, 'utf8')).files)).toEqual([file]);
    expect(trustState(store, file, 'one')).toBe('trusted');
    expect(trustState(store, file, 'one ')).toBe('changed');
    expect(trustState(store, `${file}3`, 'one')).toBe('untrusted');
    const { chmod } = await import('node:fs/promises');
    await chmod(store, 0o666);
    expect(trustState(store, file, 'one')).toBe('untrusted');
  });

  it('skips the project file when asked (inline servers, the trust command)', async () => {
    const { repo, options } = await layout();
    await writeConfig(repo, '.mcp-keyproxy.json', project);
    const loaded = await loadConfig({ ...options, project: false });
    expect(loaded.untrusted).toBeUndefined();
  });

  it('names the untrusted working-directory config when no other config exists', async () => {
    const root = await tempDir();
    const cwd = path.join(root, 'clone');
    const file = await writeConfig(cwd, 'proxy.config.json', { servers: { github: { command: 'sh' } } });
    const env = { XDG_CONFIG_HOME: path.join(root, 'xdg'), MCP_KEYPROXY_STATE_DIR: path.join(root, 'state') };
    const error = await expectKeyproxyError(() => loadConfig({ cwd, env, homedir: root, platform: 'linux' }), 'CONFIG_NOT_FOUND');
    expect(error.message).toContain(`mcp-keyproxy trust ${file}`);
    expect(error.message).toContain('is not trusted');
  });
});
