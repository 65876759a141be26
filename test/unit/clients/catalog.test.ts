import { describe, expect, it } from 'vitest';
import { clientFiles, type ClientEnvironment } from '../../../src/clients/catalog.js';

const at = (
  platform: NodeJS.Platform,
  home: string,
  env: NodeJS.ProcessEnv = {},
  dirs: Record<string, string[]> = {},
): ClientEnvironment => ({
  platform,
  env,
  home,
  cwd: platform === 'win32' ? 'C:\\work\\p' : '/work/p',
  listDir: (dir) => dirs[dir] ?? [],
});
const paths = (environment: ClientEnvironment) =>
  Object.fromEntries(clientFiles(environment).map((f) => [`${f.client}/${f.scope}`, f.path]));

describe('client config paths', () => {
  it('on Linux', () => {
    expect(paths(at('linux', '/home/u'))).toEqual({
      'claude-desktop/user': '/home/u/.config/Claude/claude_desktop_config.json',
      'claude-code/user': '/home/u/.claude.json',
      'claude-code/local': '/home/u/.claude.json',
      'claude-code/project': '/work/p/.mcp.json',
      'cursor/user': '/home/u/.cursor/mcp.json',
      'cursor/project': '/work/p/.cursor/mcp.json',
      'vscode/user': '/home/u/.config/Code/User/mcp.json',
      'vscode/project': '/work/p/.vscode/mcp.json',
      'windsurf/user': '/home/u/.codeium/windsurf/mcp_config.json',
      'codex/user': '/home/u/.codex/config.toml',
      'gemini/user': '/home/u/.gemini/settings.json',
      'gemini/project': '/work/p/.gemini/settings.json',
    });
  });

  it('honours XDG_CONFIG_HOME, CODEX_HOME and CLAUDE_CONFIG_DIR', () => {
    const found = paths(at('linux', '/home/u', { XDG_CONFIG_HOME: '/x', CODEX_HOME: '/c', CLAUDE_CONFIG_DIR: '/cc' }));
    expect(found['claude-desktop/user']).toBe('/x/Claude/claude_desktop_config.json');
    expect(found['vscode/user']).toBe('/x/Code/User/mcp.json');
    expect(found['codex/user']).toBe('/c/config.toml');
    expect(found['claude-code/user']).toBe('/cc/.claude.json');
  });

  it('on macOS', () => {
    const found = paths(at('darwin', '/Users/u'));
    expect(found['claude-desktop/user']).toBe('/Users/u/Library/Application Support/Claude/claude_desktop_config.json');
    expect(found['vscode/user']).toBe('/Users/u/Library/Application Support/Code/User/mcp.json');
    expect(found['cursor/user']).toBe('/Users/u/.cursor/mcp.json');
  });

  it('on Windows, preferring the MSIX install of Claude Desktop when there is one', () => {
    const env = { APPDATA: 'C:\\Users\\u\\AppData\\Roaming', LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' };
    const plain = paths(at('win32', 'C:\\Users\\u', env));
    expect(plain['claude-desktop/user']).toBe('C:\\Users\\u\\AppData\\Roaming\\Claude\\claude_desktop_config.json');
    expect(plain['vscode/user']).toBe('C:\\Users\\u\\AppData\\Roaming\\Code\\User\\mcp.json');
    expect(plain['codex/user']).toBe('C:\\Users\\u\\.codex\\config.toml');
    const msix = paths(at('win32', 'C:\\Users\\u', env, { 'C:\\Users\\u\\AppData\\Local\\Packages': ['Other_1', 'Claude_pzs8sxrjxfjjc'] }));
    expect(msix['claude-desktop/user']).toBe(
      'C:\\Users\\u\\AppData\\Local\\Packages\\Claude_pzs8sxrjxfjjc\\LocalCache\\Roaming\\Claude\\claude_desktop_config.json',
    );
  });
});

describe("Claude Code's local scope", () => {
  it("is this directory's part of ~/.claude.json", () => {
    const local = clientFiles(at('linux', '/home/u')).find((f) => f.scope === 'local');
    expect(local).toMatchObject({
      client: 'claude-code',
      path: '/home/u/.claude.json',
      within: ['projects', '/work/p'],
      serversKey: 'mcpServers',
    });
  });
});
