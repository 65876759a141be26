import { readdirSync, readFileSync, readlinkSync, writeSync } from 'node:fs';

/**
 * The D-Bus connections of the native keyring library, and a way to end them.
 *
 * A call of @napi-rs/keyring that waits on gnome-keyring's unlock prompt blocks a libuv worker thread in a loop
 * on its own D-Bus connection for as long as the prompt is open (a year, in the library), and an AbortSignal
 * does not end it. Node joins that thread at exit, so even `process.exit()` would hang. The prompt cannot be
 * dismissed from another connection (gnome-keyring answers "Invalid caller"), but the library gives up at once
 * when its connection breaks ("Connection is closed"), which frees the thread and the value it held.
 *
 * The library's connections are the Unix sockets of this process that were opened after the library was loaded
 * and that no libuv handle (Node's own pipes and sockets: stdio, children, the dialog) owns. Sockets the process
 * had before (inherited from the client, for instance) are never touched. Linux only: elsewhere nothing is found.
 */

const FD_DIR = '/proc/self/fd';

/** Socket inodes (`socket:[N]`) open before the library was loaded; undefined until then (nothing is ours). */
let before: Set<string> | undefined;

/** The `socket:[N]` link of every socket descriptor of this process, by descriptor. */
function openSockets(): Map<number, string> {
  const sockets = new Map<number, string>();
  let names: string[];
  try {
    names = readdirSync(FD_DIR);
  } catch {
    return sockets; // no /proc: not Linux
  }
  for (const name of names) {
    try {
      const link = readlinkSync(`${FD_DIR}/${name}`);
      if (link.startsWith('socket:')) sockets.set(Number(name), link);
    } catch {
      // closed meanwhile (the descriptor of the listing itself, for one)
    }
  }
  return sockets;
}

/** Records the sockets open now, before the library opens any; call once, right before loading it. */
export function noteSocketsBeforeKeyring(): void {
  if (before || process.platform !== 'linux') return;
  before = new Set(openSockets().values());
}

/** Inodes of the Unix sockets on this machine (`/proc/net/unix`), as `socket:[N]` links. */
function unixSocketLinks(): Set<string> {
  const links = new Set<string>();
  const lines = readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1);
  for (const line of lines) {
    const inode = line.trim().split(/\s+/)[6];
    if (inode) links.add(`socket:[${inode}]`);
  }
  return links;
}

/** Descriptors that a libuv handle of this process owns (Node's own streams), from the diagnostic report. */
function libuvDescriptors(): Set<number> {
  // excludeNetwork (Node ≥ 20.13, not in @types/node 20): no reverse DNS lookups for TCP handles.
  const reporter = process.report as NodeJS.ProcessReport & { excludeNetwork?: boolean };
  const excludeNetwork = reporter.excludeNetwork;
  reporter.excludeNetwork = true;
  try {
    const report = reporter.getReport() as { libuv?: Array<{ fd?: number }> };
    return new Set((report.libuv ?? []).flatMap((handle) => (typeof handle.fd === 'number' ? [handle.fd] : [])));
  } finally {
    reporter.excludeNetwork = excludeNetwork;
  }
}

/** Bytes no D-Bus message starts with (the first byte must be `l` or `B`): the bus daemon drops the sender. */
const NOT_DBUS = Buffer.alloc(16, 0xff);

/**
 * Breaks every D-Bus connection of the keyring library, so the calls waiting on them return (with "Connection is
 * closed") and their worker threads are free. Returns how many connections it broke; 0 when the library was
 * never loaded or nothing was found. The library closes each socket itself once it sees the break.
 */
export function breakKeyringConnections(): number {
  if (!before) return 0;
  const ownedByNode = libuvDescriptors();
  const unix = unixSocketLinks();
  let broken = 0;
  for (const [fd, link] of openSockets()) {
    if (fd <= 2 || before.has(link) || ownedByNode.has(fd) || !unix.has(link)) continue;
    try {
      // Checked again right before the write: the descriptor must still be that very socket.
      if (readlinkSync(`${FD_DIR}/${fd}`) !== link) continue;
      writeSync(fd, NOT_DBUS);
      broken += 1;
    } catch {
      // closed meanwhile: that call has ended on its own
    }
  }
  if (broken > 0) epoch += 1;
  return broken;
}

let epoch = 0;

/** Grows each time connections were broken: an entry opened in an older epoch must be opened again. */
export function keyringConnectionEpoch(): number {
  return epoch;
}
