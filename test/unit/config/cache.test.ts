import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { expectKeyproxyError, tempDir, writeConfig } from './helpers.js';

/** A config in a temp dir, loaded with a state dir of its own. */
async function setup(servers: Record<string, unknown>) {
  const root = await tempDir();
  const stateDir = path.join(root, 'state');
  const file = await writeConfig(root, 'proxy.config.json', { servers });
  const load = () =>
    loadConfig({ configPath: file, env: { MCP_KEYPROXY_STATE_DIR: stateDir }, cwd: root, platform: 'linux', homedir: root });
  const entries = async () =>
    (await readdir(path.join(stateDir, 'config-cache')).catch(() => [])).map((name) => path.join(stateDir, 'config-cache', name));
  return { file, load, entries };
}

describe('validated config cache', () => {
  it('keeps a validated config (0600) and serves the next load from it', async () => {
    const { load, entries } = await setup({ a: { command: 'node' } });
    const first = await load();
    const [entry] = await entries();
    expect(entry).toBeDefined();
    expect((await import('node:fs')).statSync(entry!).mode & 0o777).toBe(0o600);
    expect(await load()).toEqual(first);
  });

  it('validates again when the file changes: an invalid edit is reported, never masked by the cache', async () => {
    const { file, load } = await setup({ a: { command: 'node' } });
    await load();
    await writeFile(file, JSON.stringify({ servers: { a: { command: 'node', args: ['${secret:KEY}'] } } }));
    await expectKeyproxyError(load, 'CONFIG_INVALID');
  });

  it('ignores an entry that others could have written', async () => {
    const { load, entries } = await setup({ a: { command: 'node' } });
    await load();
    const [entry] = await entries();
    const tampered = JSON.parse(await readFile(entry!, 'utf8')) as { servers: { a: { command: string } } };
    tampered.servers.a.command = '/tmp/evil';
    await writeFile(entry!, JSON.stringify(tampered));
    await chmod(entry!, 0o666);
    expect(((await load()).servers.a as { command: string }).command).toBe('node');
  });

  it('does not copy a config with warnings (it may hold a literal credential)', async () => {
    const literal = ['ghp', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('_');
    const { load, entries } = await setup({ a: { command: 'node', env: { TOKEN: literal } } });
    expect((await load()).warnings.length).toBeGreaterThan(0);
    expect(await entries()).toEqual([]);
  });
});
