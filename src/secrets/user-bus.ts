import * as path from 'node:path';

/**
 * The bus to reach the Secret Service on when the environment names no D-Bus session bus: MCP clients often start servers with a minimal
 * environment (the SDK's default passes only HOME, LOGNAME, PATH, SHELL, TERM and USER), which hides the bus the
 * Secret Service is on. The systemd user bus lives at `$XDG_RUNTIME_DIR/bus`, by default `/run/user/<uid>/bus`.
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
