import { chmod, copyFile, readdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { expectKeyproxyError, tempDir, writeConfig } from './helpers.js';

// Counts validations: a load served from the cache must not validate (nor load zod, which only parse.js imports).
const validations = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../../src/config/parse.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../src/config/parse.js')>();
  return {
    ...actual,
    parseConfig: (...args: Parameters<typeof actual.parseConfig>) => {
      validations.count++;
      return actual.parseConfig(...args);
    },
  };
});

/** A config in a temp dir, loaded with a state dir of its own. */
async function setup(servers: Record<string, unknown>) {
  const root = await tempDir();
  const stateDir = path.join(root, 'state');
  const file = await writeConfig(root, 'proxy.config.json', { servers });
  const load = () =>
    loadConfig({ configPath: file, env: { MCP_KEYPROXY_STATE_DIR: stateDir }, cwd: root, platform: 'linux', homedir: root });
  const cacheDir = path.join(stateDir, 'config-cache');
  const entries = async () => (await readdir(cacheDir).catch(() => [])).map((name) => path.join(cacheDir, name));
  return { file, load, entries, cacheDir };
}

describe('validated config cache', () => {
  beforeEach(() => {
    validations.count = 0;
  });

  it('keeps a validated config (0600, in a 0700 folder) and serves the next load from it without validating', async () => {
    const { load, entries, cacheDir } = await setup({ a: { command: 'node' } });
    const first = await load();
    const [entry] = await entries();
    expect(entry).toBeDefined();
    const { statSync } = await import('node:fs');
    expect(statSync(entry!).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(validations.count).toBe(1);
    expect(await load()).toEqual(first);
    expect(validations.count).toBe(1);
  });

  it('validates again when the folder is one others can write, and writes nothing there', async () => {
    const { load, entries, cacheDir } = await setup({ a: { command: 'node' } });
    await load();
    await chmod(cacheDir, 0o777);
    await load();
    expect(validations.count).toBe(2);
    expect(await entries()).toHaveLength(1);
  });

  it('ignores an entry validated from another text (a copied or renamed file, or a name two configs share) and a symbolic link', async () => {
    const { file, load, entries, cacheDir } = await setup({ a: { command: 'node' } });
    await load();
    const [entryA] = await entries();
    await writeFile(file, JSON.stringify({ servers: { b: { command: 'python3' } } }));
    expect(Object.keys((await load()).servers)).toEqual(['b']);
    const entryB = (await entries()).find((entry) => entry !== entryA)!;
    // A's entry, owned by this user and 0600, put where B's is looked up: B is validated again, not served as A.
    await copyFile(entryA!, entryB);
    expect(Object.keys((await load()).servers)).toEqual(['b']);
    expect(validations.count).toBe(3);
    // B's own entry again (written by that validation: the next load is served from it), then reached through a link.
    await load();
    expect(validations.count).toBe(3);
    await rename(entryB, path.join(cacheDir, 'target.json'));
    await symlink(path.join(cacheDir, 'target.json'), entryB);
    expect(Object.keys((await load()).servers)).toEqual(['b']);
    expect(validations.count).toBe(4);
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
    const tampered = JSON.parse(await readFile(entry!, 'utf8')) as { config: { servers: { a: { command: string } } } };
    tampered.config.servers.a.command = '/tmp/evil';
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
