import * as path from 'node:path';

/** Folder name of mcp-keyproxy inside the platform config directory. */
const APP_DIR_NAME = 'mcp-keyproxy';

/** File name looked for in the working directory and in the platform config directory. */
export const CONFIG_FILE_NAME = 'proxy.config.json';

/**
 * `path` with a leading `~` (alone, or followed by a separator) replaced by `home`, as a shell would: a path from a
 * client's JSON config or an environment variable reaches the proxy with its `~` unexpanded. `~user` is left as is.
 */
export function expandHome(file: string, home: string): string {
  if (file === '~') return home;
  if (file.startsWith('~/') || (path.sep === '\\' && file.startsWith('~\\'))) return home + file.slice(1);
  return file;
}

/** The platform config directory of mcp-keyproxy, computed only from its inputs (no process globals). */
export function platformConfigDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'win32') {
    // Joined with win32 rules so the result is right even when computed on another OS (tests).
    const appData = env.APPDATA || path.win32.join(home, 'AppData', 'Roaming');
    return path.win32.join(appData, APP_DIR_NAME);
  }
  if (platform === 'darwin') {
    return path.posix.join(home, 'Library', 'Application Support', APP_DIR_NAME);
  }
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(home, '.config');
  return path.posix.join(base, APP_DIR_NAME);
}

/** The platform state directory of mcp-keyproxy (`MCP_KEYPROXY_STATE_DIR` wins), computed only from its inputs. */
export function platformStateDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (env.MCP_KEYPROXY_STATE_DIR) return expandHome(env.MCP_KEYPROXY_STATE_DIR, home);
  if (platform === 'win32') {
    const localAppData = env.LOCALAPPDATA || path.win32.join(home, 'AppData', 'Local');
    return path.win32.join(localAppData, APP_DIR_NAME);
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Logs', APP_DIR_NAME);
  // As for XDG_CONFIG_HOME, a relative XDG_STATE_HOME is invalid and ignored.
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(home, '.local', 'state');
  return path.posix.join(base, APP_DIR_NAME);
}
