import * as path from 'node:path';

/** The MCP clients whose config files `migrate`, `install`, `undo` and `clients` read and write. */
export const CLIENT_NAMES = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf', 'codex', 'gemini'] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];

/** One config file of one client. */
export interface ClientFile {
  client: ClientName;
  /** `user` (one per machine), `project` (in the working directory), or `local` (this directory's part of a user file). */
  scope: 'user' | 'project' | 'local';
  path: string;
  format: 'json' | 'toml';
  /** Where the servers are: `mcpServers`, VS Code's `servers`, Codex's `mcp_servers`. */
  serversKey: string;
  /** Where `serversKey` is, when not at the top: Claude Code's local scope is `projects["<dir>"]` of ~/.claude.json. */
  within?: string[];
  /** How the client runs a server: what passes to its environment (see DESIGN: "Clients' environments"). */
  env: 'full' | 'minimal-sdk' | 'codex';
  /** True when the client takes no remote entries (Claude Desktop): a remote server becomes a stdio entry. */
  stdioOnly: boolean;
  /** True when the client writes `type` in its entries (`"stdio"`, `"http"`). */
  writesType: boolean;
}

/** What the paths are computed from; every field is handed in so other OSes can be tested here. */
export interface ClientEnvironment {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  home: string;
  cwd: string;
  /** Folder names in a folder ([] when absent): Windows' MSIX installs live under a versioned folder name. */
  listDir(dir: string): string[];
}

function joinFor(platform: NodeJS.Platform): (...parts: string[]) => string {
  return platform === 'win32' ? path.win32.join : path.posix.join;
}

/** The folder of per-user application settings: %APPDATA%, ~/Library/Application Support, $XDG_CONFIG_HOME. */
function appConfigDir(at: ClientEnvironment): string {
  const join = joinFor(at.platform);
  if (at.platform === 'win32') return at.env.APPDATA || join(at.home, 'AppData', 'Roaming');
  if (at.platform === 'darwin') return join(at.home, 'Library', 'Application Support');
  const xdg = at.env.XDG_CONFIG_HOME;
  return xdg && path.posix.isAbsolute(xdg) ? xdg : join(at.home, '.config');
}

/** Claude Desktop's file; on Windows the MSIX install (the default since Feb 2026) reads only its own copy. */
function claudeDesktopFile(at: ClientEnvironment): string {
  const join = joinFor(at.platform);
  if (at.platform === 'win32') {
    const packages = join(at.env.LOCALAPPDATA || join(at.home, 'AppData', 'Local'), 'Packages');
    const msix = at.listDir(packages).find((name) => name.startsWith('Claude_'));
    if (msix) return join(packages, msix, 'LocalCache', 'Roaming', 'Claude', 'claude_desktop_config.json');
  }
  return join(appConfigDir(at), 'Claude', 'claude_desktop_config.json');
}

/** Every config file each client may have on this machine (whether it exists or not), user scope first. */
export function clientFiles(at: ClientEnvironment): ClientFile[] {
  const join = joinFor(at.platform);
  const json = { format: 'json' as const, serversKey: 'mcpServers', env: 'full' as const, stdioOnly: false, writesType: false };
  const claudeCodeDir = at.env.CLAUDE_CONFIG_DIR || at.home;
  const codexHome = at.env.CODEX_HOME || join(at.home, '.codex');
  return [
    { ...json, client: 'claude-desktop', scope: 'user', path: claudeDesktopFile(at), env: 'minimal-sdk', stdioOnly: true },
    { ...json, client: 'claude-code', scope: 'user', path: join(claudeCodeDir, '.claude.json'), writesType: true },
    {
      ...json,
      client: 'claude-code',
      scope: 'local',
      path: join(claudeCodeDir, '.claude.json'),
      within: ['projects', at.cwd],
      writesType: true,
    },
    { ...json, client: 'claude-code', scope: 'project', path: join(at.cwd, '.mcp.json'), writesType: true },
    { ...json, client: 'cursor', scope: 'user', path: join(at.home, '.cursor', 'mcp.json') },
    { ...json, client: 'cursor', scope: 'project', path: join(at.cwd, '.cursor', 'mcp.json') },
    {
      ...json,
      client: 'vscode',
      scope: 'user',
      path: join(appConfigDir(at), 'Code', 'User', 'mcp.json'),
      serversKey: 'servers',
      writesType: true,
    },
    { ...json, client: 'vscode', scope: 'project', path: join(at.cwd, '.vscode', 'mcp.json'), serversKey: 'servers', writesType: true },
    { ...json, client: 'windsurf', scope: 'user', path: join(at.home, '.codeium', 'windsurf', 'mcp_config.json') },
    {
      ...json,
      client: 'codex',
      scope: 'user',
      path: join(codexHome, 'config.toml'),
      format: 'toml',
      serversKey: 'mcp_servers',
      env: 'codex',
    },
    { ...json, client: 'gemini', scope: 'user', path: join(at.home, '.gemini', 'settings.json') },
    { ...json, client: 'gemini', scope: 'project', path: join(at.cwd, '.gemini', 'settings.json') },
  ];
}

/** Variables Codex passes to a server besides `env_vars` and `env`. */
export const CODEX_BASE_ENV = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'USER', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'TZ'] as const;
/** Variables SDK-based clients (Claude Desktop) pass to a server besides its `env`. */
export const SDK_BASE_ENV = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'] as const;
/** What a Codex entry of ours lists in `env_vars`, so the keychain (D-Bus) and the dialog (display) still work. */
export const CODEX_ENV_VARS = ['DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR', 'DISPLAY', 'WAYLAND_DISPLAY'] as const;
