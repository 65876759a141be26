import { describe, expect, it } from 'vitest';
import { clientFiles, type ClientFile } from '../../../src/clients/catalog.js';
import { readEntries, setEntry } from '../../../src/clients/client-file.js';
import { findCredentials } from '../../../src/clients/credentials.js';
import { isPlan, planEntry } from '../../../src/clients/plan.js';

const files = clientFiles({ platform: 'linux', env: {}, home: '/h', cwd: '/p', listDir: () => [] });
const codex = files.find((f) => f.client === 'codex') as ClientFile;
const vscode = files.find((f) => f.client === 'vscode') as ClientFile;

describe('client file edits', () => {
  it('rewrites one Codex table, keeping every comment and other table', () => {
    const text = [
      '# top',
      'model = "gpt-5"',
      '',
      '[mcp_servers.a]',
      'command = "npx"',
      '# about a',
      '',
      '[mcp_servers.a.env]',
      'KEY = "v"',
      '',
      '# about b',
      '[mcp_servers."b.c"]',
      'command = "x"',
      '',
    ].join('\n');
    const next = setEntry(codex, text, 'a', { command: 'node', args: ['bin', 'run', 'a'] });
    expect(next).toContain('# top\nmodel = "gpt-5"');
    expect(next).toContain('# about a');
    expect(next).toContain('# about b\n[mcp_servers."b.c"]\ncommand = "x"');
    expect(next).not.toContain('KEY');
    expect(readEntries(codex, next).map((e) => e.name)).toEqual(['a', 'b.c']);
  });

  it('adds a Codex table at the end when the server is new', () => {
    const next = setEntry(codex, 'model = "m"\n', 'n', { command: 'node' });
    expect(next).toBe('model = "m"\n\n[mcp_servers.n]\ncommand = "node"\n');
  });

  it('refuses a Codex entry written as an inline table instead of rewriting more than it should', () => {
    expect(() => setEntry(codex, '[mcp_servers]\na = { command = "x" }\n', 'a', { command: 'node' })).toThrow();
  });

  it('edits a JSON entry key by key, so comments on the keys that stay remain', () => {
    const text =
      '{\n  // top\n  "servers": {\n    "a": {\n      "type": "stdio", // kept\n      "command": "x",\n      "env": { "K": "v" }\n    }\n  }\n}\n';
    const next = setEntry(vscode, text, 'a', { type: 'stdio', command: 'node', args: ['b'] });
    expect(next).toContain('// top');
    expect(next).toContain('"type": "stdio", // kept');
    expect(next).not.toContain('"env"');
  });
});

describe('literal credentials', () => {
  it('finds keys by name or by shape, skips references, keeps a header scheme, and reports argv keys', () => {
    const found = findCredentials({
      env: {
        GITHUB_TOKEN: 'abcdefgh12345678',
        URL: 'https://x',
        FROM_ENV: '${GITHUB_TOKEN}',
        INPUT: '${input:key}',
        OTHER: 'sk-abcdefghijklmnopqrstu',
      },
      headers: { Authorization: 'Bearer abcdefghijkl', 'X-Plain': 'visible' },
      args: ['--token', 'ghp_abcdefghijklmnopqrstuvwxyz0123'],
    });
    expect(found.literals.map((l) => `${l.where}.${l.key}=${l.secretName}:${l.prefix}`)).toEqual([
      'env.GITHUB_TOKEN=GITHUB_TOKEN:',
      'env.OTHER=OTHER:',
      'headers.Authorization=AUTHORIZATION:Bearer ',
    ]);
    expect(found.literals[2]?.value).toBe('abcdefghijkl');
    expect(found.args).toEqual([{ index: 1, looksLike: 'a GitHub token' }]);
  });
});

describe('a Codex entry with env_vars of its own', () => {
  it('keeps them in the client entry beside the keychain and display variables, and has the proxy hand them on', () => {
    const plan = planEntry(
      codex,
      { name: 'j', entry: { command: 'java', env_vars: ['JAVA_HOME'], env: { API_KEY: 'abcdefgh12345678' } } },
      { launcher: { command: 'node', args: ['bin'] }, configPath: '/c.json', serverName: (wanted) => wanted },
    );
    expect(isPlan(plan)).toBe(true);
    if (!isPlan(plan)) return;
    expect(plan.clientEntry.env_vars).toEqual(['JAVA_HOME', 'DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR', 'DISPLAY', 'WAYLAND_DISPLAY']);
    expect(plan.proxyServer).toMatchObject({ inherit_env: ['JAVA_HOME'], env: { API_KEY: '${secret:API_KEY}' } });
  });
});
