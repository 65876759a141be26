import * as path from 'node:path';

/**
 * The bus the Secret Service is on, when the environment names no `DBUS_SESSION_BUS_ADDRESS`: MCP clients often
 * start servers with a minimal environment (the SDK's default passes only HOME, LOGNAME, PATH, SHELL, TERM and
 * USER). The systemd user bus lives at `$XDG_RUNTIME_DIR/bus`, by default `/run/user/<uid>/bus`.
 */
export function userBusFallback(
  env: Readonly<Record<string, string | undefined>>,
  uid: number | undefined,
  exists: (socket: string) => boolean,
): string | undefined {
  if (env.DBUS_SESSION_BUS_ADDRESS) return undefined;
  const runtimeDir = env.XDG_RUNTIME_DIR || (uid === undefined ? undefined : `/run/user/${uid}`);
  if (!runtimeDir) return undefined;
  const socket = path.posix.join(runtimeDir, 'bus');
  return exists(socket) ? `unix:path=${socket}` : undefined;
}
