import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findServer, loadConfig, trustStoreOf } from '../../../src/config/load.js';
import { trustContent } from '../../../src/config/trust.js';
import { parseConfig } from '../../../src/config/parse.js';
import { expectKeyproxyError, tempDir, writeConfig } from './helpers.js';

const minimal = (tag: string) => ({ servers: { [tag]: { command: 'node' } } });

async function layout() {
  const root = await tempDir();
  const cwd = path.join(root, 'project');
  const home = path.join(root, 'home');
  const env = { XDG_CONFIG_HOME: path.join(root, 'xdg') };
  return { root, cwd, home, env, platformFile: path.join(root, 'xdg', 'mcp-keyproxy', 'proxy.config.json') };
}

describe('loadConfig discovery', () => {
  it('prefers --config, then MCP_KEYPROXY_CONFIG, then a trusted ./proxy.config.json, then the platform dir', async () => {
    const { root, cwd, home, env, platformFile } = await layout();
    await writeConfig(root, 'explicit.json', minimal('fromFlag'));
    await writeConfig(root, 'from-env.json', minimal('fromEnv'));
    await writeConfig(cwd, 'proxy.config.json', minimal('fromCwd'));
    await writeConfig(path.dirname(platformFile), 'proxy.config.json', minimal('fromPlatform'));
    const base = { cwd, homedir: home, platform: 'linux' as const };
    const withEnv = { ...env, MCP_KEYPROXY_CONFIG: path.join(root, 'from-env.json') };

    const names = async (options: Parameters<typeof loadConfig>[0]) => Object.keys((await loadConfig(options)).servers);
    expect(await names({ ...base, env: withEnv, configPath: '../explicit.json' })).toEqual(['fromFlag']);
    expect(await names({ ...base, env: withEnv })).toEqual(['fromEnv']);
    // Not trusted yet: reported and passed over (trust.test.ts has the rest of the trust rule).
    const untrusted = await loadConfig({ ...base, env });
    expect(Object.keys(untrusted.servers)).toEqual(['fromPlatform']);
    expect(untrusted.untrusted?.map((file) => file.path)).toEqual([path.join(cwd, 'proxy.config.json')]);
    await trustContent(
      trustStoreOf({ ...base, env }),
      path.join(cwd, 'proxy.config.json'),
      await readFile(path.join(cwd, 'proxy.config.json'), 'utf8'),
    );
    expect(await names({ ...base, env })).toEqual(['fromCwd']);
    const loaded = await loadConfig({ ...base, env, cwd: root });
    expect(Object.keys(loaded.servers)).toEqual(['fromPlatform']);
    expect(loaded.path).toBe(platformFile);
  });

  it('lists every place it looked when nothing is found', async () => {
    const { cwd, home, env, platformFile } = await layout();
    const error = await expectKeyproxyError(() => loadConfig({ cwd, env, homedir: home, platform: 'linux' }), 'CONFIG_NOT_FOUND');
    expect(error.message).toContain(path.join(cwd, 'proxy.config.json'));
    expect(error.message).toContain(platformFile);
    expect(error.message).toContain('proxy.config.example.json');
    expect(error.message).toContain('--config');
  });

  it('does not fall back when an explicit file is missing', async () => {
    const { cwd, home, env } = await layout();
    await writeConfig(cwd, 'proxy.config.json', minimal('fromCwd'));
    const error = await expectKeyproxyError(
      () => loadConfig({ cwd, env, homedir: home, platform: 'linux', configPath: 'nope.json' }),
      'CONFIG_NOT_FOUND',
    );
    expect(error.message).toContain(path.join(cwd, 'nope.json'));
    expect(error.message).toContain('--config');
    await expectKeyproxyError(
      () => loadConfig({ cwd, env: { ...env, MCP_KEYPROXY_CONFIG: '/nonexistent/x.json' }, homedir: home }),
      'CONFIG_NOT_FOUND',
    );
  });
});

describe('parseConfig', () => {
  it('accepts mcpServers as an alias and applies defaults', () => {
    const config = parseConfig(JSON.stringify({ mcpServers: { a: { command: 'node' } } }), 'c.json');
    expect(config.servers.a).toEqual({
      command: 'node',
      args: [],
      env: {},
      inherit_env: [],
      secrets: {},
      confirm: true,
      consent: 'auto',
      enabled: true,
      block_secret_patterns: false,
    });
  });

  it('refuses both servers and mcpServers, and neither', async () => {
    const both = await expectKeyproxyError(() => parseConfig(JSON.stringify({ servers: {}, mcpServers: {} }), 'c.json'), 'CONFIG_INVALID');
    expect(both.message).toMatch(/both "servers" and "mcpServers"/);
    const neither = await expectKeyproxyError(() => parseConfig('{}', 'c.json'), 'CONFIG_INVALID');
    expect(neither.message).toMatch(/add "servers"/);
  });

  it('reports invalid JSON with file, line and column, without quoting the content', async () => {
    const text = '{\n  "servers": {\n    "a": { "command": sk-not-quoted }\n  }\n}';
    const error = await expectKeyproxyError(() => parseConfig(text, '/x/proxy.config.json'), 'CONFIG_INVALID');
    expect(error.message).toContain('/x/proxy.config.json:3:');
    expect(error.message).toMatch(/not valid JSON/);
    expect(error.message).not.toContain('sk-not-quoted');
  });

  it('names the file and the JSON path of each schema error', async () => {
    const text = JSON.stringify({
      servers: {
        github: { command: 'x', env: { TOKEN: 42 } },
        remote: { url: 'https://e.example/mcp', headrs: {} },
        'bad name': { command: 'x' },
        odd: { args: [] },
      },
    });
    const error = await expectKeyproxyError(() => parseConfig(text, 'proxy.config.json'), 'CONFIG_INVALID');
    const lines = error.message.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^proxy\.config\.json: servers\.github\.env\.TOKEN: .*expected string/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^proxy\.config\.json: servers\.remote\.headrs: unknown key \(allowed here: url, headers/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^proxy\.config\.json: servers\["bad name"\]: invalid name/));
    expect(lines).toContainEqual(expect.stringMatching(/^proxy\.config\.json: servers\.odd: a server needs "command".*or "url"/));
    expect(error.message).toContain('$schema');
  });

  it('uses the mcpServers key in paths when that is what the file uses', async () => {
    const error = await expectKeyproxyError(
      () => parseConfig(JSON.stringify({ mcpServers: { a: { command: 1 } } }), 'c.json'),
      'CONFIG_INVALID',
    );
    expect(error.message).toContain('c.json: mcpServers.a.command:');
  });

  it('loads the shipped example without warnings', async () => {
    const example = fileURLToPath(new URL('../../../proxy.config.example.json', import.meta.url));
    const config = await loadConfig({ configPath: example });
    expect(config.warnings).toEqual([]);
    expect(Object.keys(config.servers)).toEqual(['everything']);
  });
});

describe('findServer', () => {
  it('returns the server or names the known ones', async () => {
    const config = parseConfig(JSON.stringify({ servers: { a: { command: 'x' }, b: { url: 'https://b.example/mcp' } } }), 'c.json');
    expect(findServer(config, 'b')).toMatchObject({ url: 'https://b.example/mcp' });
    const error = await expectKeyproxyError(() => findServer(config, 'toString'), 'SERVER_UNKNOWN');
    expect(error.message).toContain('known servers: a, b');
  });
});
