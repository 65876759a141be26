import { homedir } from 'node:os';
import * as path from 'node:path';
import { APP_DIR_NAME } from '../config/paths.js';

/** File name of the current audit log; rotated files get `.1`, `.2`. */
export const AUDIT_FILE_NAME = 'audit.jsonl';

/** The platform state directory of mcp-keyproxy (`MCP_KEYPROXY_STATE_DIR` wins), computed only from its inputs. */
export function platformStateDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (env.MCP_KEYPROXY_STATE_DIR) return env.MCP_KEYPROXY_STATE_DIR;
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

/** The audit log path of this process (current platform, environment and home directory). */
export function defaultAuditPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = platformStateDir(process.platform, env, homedir());
  return process.platform === 'win32' ? path.win32.join(dir, AUDIT_FILE_NAME) : path.join(dir, AUDIT_FILE_NAME);
}

/** The files of one audit log, oldest first: `audit.jsonl.<keep>` … `audit.jsonl.1`, `audit.jsonl`. */
export function auditFiles(file: string, keep: number): string[] {
  return [...Array.from({ length: keep }, (_, i) => `${file}.${keep - i}`), file];
}
