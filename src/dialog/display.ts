import { lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The display a dialog can use. MCP clients often start servers with a minimal environment (the SDK's default
 * passes only HOME, LOGNAME, PATH, SHELL, TERM and USER), which drops DISPLAY and WAYLAND_DISPLAY although the
 * user's desktop is right there. Like the keychain's user-bus fallback, the user's own Wayland or X socket is then
 * looked up: only sockets owned by this uid, so a dialog never opens on another user's screen.
 */
export type DisplayLookup =
  | {
      /** Variables to add to the dialog's environment (none when the environment names a display already). */
      env: Record<string, string>;
      /** Where the display came from. */
      source: 'environment' | 'wayland-socket' | 'x11-socket';
      /** For people (doctor): the display and how it was found; names and paths only. */
      description: string;
    }
  | { env?: undefined; source: 'none'; description: string };

/** Where to look; each defaults to this machine's. Tests hand in a folder of their own. */
export interface DisplaySearch {
  /** The uid whose sockets count; undefined (Windows) means no fallback. */
  uid?: number | undefined;
  /** The X sockets' folder; the X servers' lock files (`.X<n>-lock`) are in its parent. */
  x11Dir?: string;
  /** The runtime folder when XDG_RUNTIME_DIR is not set (default `/run/user/<uid>`). */
  runtimeDir?: string;
  /** This host's name, as X authority entries name it. */
  hostname?: string;
}

const X11_DIR = '/tmp/.X11-unix';
/** X authority families that match a connection over a local socket (FamilyLocal, FamilyWild). */
const FAMILY_LOCAL = 256;
const FAMILY_WILD = 65535;
/** An authority file is a handful of entries; anything bigger is not one. */
const MAX_AUTHORITY_BYTES = 64 * 1024;

function statOf(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A socket (not a link to one) owned by `uid`. */
function ownSocket(path: string, uid: number): boolean {
  const stats = statOf(path);
  return stats !== undefined && stats.isSocket() && stats.uid === uid;
}

/** Numbered entries `<prefix><n>` of a folder, lowest first. */
function numbered(dir: string, prefix: string): number[] {
  const pattern = new RegExp(`^${prefix}(\\d{1,6})$`);
  return entriesOf(dir)
    .map((name) => pattern.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** False only when the X server's lock file names a process that is gone (a socket left by a crash). */
function serverAlive(lockFile: string): boolean {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(lockFile, 'latin1').trim(), 10);
  } catch {
    return true;
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The display numbers an X authority file holds a local cookie for (see Xau's file format). */
export function authorityDisplays(data: Buffer, host: string): Set<string> {
  const displays = new Set<string>();
  let offset = 0;
  const field = (): Buffer | undefined => {
    if (offset + 2 > data.length) return undefined;
    const length = data.readUInt16BE(offset);
    if (offset + 2 + length > data.length) return undefined;
    const value = data.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
    return value;
  };
  while (offset + 2 <= data.length) {
    const family = data.readUInt16BE(offset);
    offset += 2;
    const [address, number, name, cookie] = [field(), field(), field(), field()];
    if (!address || !number || !name || !cookie) break;
    if (family === FAMILY_WILD || (family === FAMILY_LOCAL && address.toString('latin1') === host)) {
      displays.add(number.toString('latin1'));
    }
  }
  return displays;
}

/** Authority files of the user, in the order the usual desktops leave them; only regular files owned by `uid`. */
function authorityFiles(env: NodeJS.ProcessEnv, runtimeDir: string, uid: number): string[] {
  if (env['XAUTHORITY']) return [env['XAUTHORITY']];
  const candidates = [
    ...(env['HOME'] ? [join(env['HOME'], '.Xauthority')] : []),
    join(runtimeDir, 'gdm', 'Xauthority'),
    // GNOME's Xwayland and KDE's SDDM sessions name theirs with a random suffix.
    ...entriesOf(runtimeDir)
      .filter((name) => name.startsWith('.mutter-Xwaylandauth.') || name.startsWith('xauth_'))
      .map((name) => join(runtimeDir, name)),
  ];
  return candidates.filter((file) => {
    const stats = statOf(file);
    return stats !== undefined && stats.isFile() && stats.uid === uid && stats.size <= MAX_AUTHORITY_BYTES;
  });
}

function readAuthority(file: string, host: string): Set<string> {
  try {
    return authorityDisplays(readFileSync(file), host);
  } catch {
    return new Set();
  }
}

/** The user's X display: the lowest live socket they own that an authority file has a cookie for, else their only one. */
function findX11(
  env: NodeJS.ProcessEnv,
  uid: number,
  x11Dir: string,
  runtimeDir: string,
  host: string,
): Record<string, string> | undefined {
  const displays = numbered(x11Dir, 'X').filter(
    (n) => ownSocket(join(x11Dir, `X${n}`), uid) && serverAlive(join(dirname(x11Dir), `.X${n}-lock`)),
  );
  if (displays.length === 0) return undefined;
  const files = authorityFiles(env, runtimeDir, uid).map((file) => ({ file, displays: readAuthority(file, host) }));
  for (const n of displays) {
    const match = files.find((f) => f.displays.has(String(n)));
    if (match) return { DISPLAY: `:${n}`, XAUTHORITY: match.file };
  }
  // No cookie anywhere: a server that admits the user by uid (xhost +si:localuser) or not at all. With several,
  // the lowest is as good a guess as any; the dialog says "cannot open display" if it is wrong.
  const [first] = displays;
  return first === undefined ? undefined : { DISPLAY: `:${first}` };
}

/** Finds the display for a dialog: the environment's, else the user's own Wayland socket, else their X socket. */
export function findDisplay(env: NodeJS.ProcessEnv, search: DisplaySearch = {}): DisplayLookup {
  if (env['WAYLAND_DISPLAY'] || env['DISPLAY']) {
    const named = [env['WAYLAND_DISPLAY'] && `WAYLAND_DISPLAY=${env['WAYLAND_DISPLAY']}`, env['DISPLAY'] && `DISPLAY=${env['DISPLAY']}`];
    return { env: {}, source: 'environment', description: `${named.filter(Boolean).join(', ')} from the environment` };
  }
  const uid = 'uid' in search ? search.uid : process.getuid?.();
  if (uid === undefined) {
    return { source: 'none', description: 'neither DISPLAY nor WAYLAND_DISPLAY is set' };
  }
  const runtimeDir = env['XDG_RUNTIME_DIR'] || search.runtimeDir || `/run/user/${uid}`;
  const x11Dir = search.x11Dir ?? X11_DIR;
  const [wayland] = numbered(runtimeDir, 'wayland-').filter((n) => ownSocket(join(runtimeDir, `wayland-${n}`), uid));
  if (wayland !== undefined) {
    const found = { WAYLAND_DISPLAY: `wayland-${wayland}`, XDG_RUNTIME_DIR: runtimeDir };
    return {
      env: found,
      source: 'wayland-socket',
      description: `${describe(found)} (the Wayland socket ${join(runtimeDir, found.WAYLAND_DISPLAY)}; neither DISPLAY nor WAYLAND_DISPLAY is set)`,
    };
  }
  const x11 = findX11(env, uid, x11Dir, runtimeDir, search.hostname ?? hostname());
  if (x11) {
    const socket = join(x11Dir, `X${(x11['DISPLAY'] ?? '').slice(1)}`);
    return {
      env: x11,
      source: 'x11-socket',
      description: `${describe(x11)} (the X socket ${socket}; neither DISPLAY nor WAYLAND_DISPLAY is set)`,
    };
  }
  return {
    source: 'none',
    description:
      `neither DISPLAY nor WAYLAND_DISPLAY is set, and no X or Wayland socket of this user (uid ${uid}) is in ${x11Dir} or ` +
      `${runtimeDir}. If your AI app starts mcp-keyproxy with a minimal environment, add "DISPLAY" (and "XAUTHORITY") or ` +
      `"WAYLAND_DISPLAY" to the "env" block of the mcp-keyproxy entry in the app's MCP config, with the values ` +
      '`echo $DISPLAY $XAUTHORITY $WAYLAND_DISPLAY` prints in a terminal of your desktop session',
  };
}

function describe(found: Record<string, string>): string {
  return Object.entries(found)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');
}
