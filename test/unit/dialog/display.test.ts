import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorityDisplays, findDisplay } from '../../../src/dialog/display.js';

// A fake /tmp with .X11-unix and a fake /run/user/<uid>, holding real Unix sockets: ownership is checked by uid,
// so "another user's socket" is a socket of ours looked at as a different uid (and, as root, a chowned one).
const root = mkdtempSync(join(tmpdir(), 'keyproxy-display-'));
const uid = process.getuid?.() ?? 1000;
const other = uid + 1;
const HOST = 'testhost';
const servers: Server[] = [];

function listen(path: string): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  const server = createServer();
  servers.push(server);
  return new Promise((resolve) => server.listen(path, resolve));
}

/** An X authority file with one local cookie per display number (Xau's format: big-endian length-prefixed fields). */
function authority(file: string, displays: string[], host = HOST, family = 256): void {
  const field = (text: string) => {
    const data = Buffer.from(text, 'latin1');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(data.length);
    return Buffer.concat([length, data]);
  };
  const entries = displays.map((n) => {
    const head = Buffer.alloc(2);
    head.writeUInt16BE(family);
    return Buffer.concat([head, field(host), field(n), field('MIT-MAGIC-COOKIE-1'), field('0123456789abcdef')]);
  });
  writeFileSync(file, Buffer.concat(entries), { mode: 0o600 });
}

const tmp = join(root, 'tmp');
const x11Dir = join(tmp, '.X11-unix');
const runtimeDir = join(root, 'run');
const home = join(root, 'home');

beforeAll(async () => {
  mkdirSync(home, { recursive: true });
  mkdirSync(runtimeDir, { recursive: true });
  chmodSync(runtimeDir, 0o700);
  await listen(join(x11Dir, 'X3'));
  await listen(join(x11Dir, 'X7'));
  // A socket left by a crashed server: its lock file names a process that is gone.
  await listen(join(x11Dir, 'X1'));
  writeFileSync(join(tmp, '.X1-lock'), `${String(2 ** 22 + 12345).padStart(10)}\n`);
  // A live server's lock file: this very process.
  writeFileSync(join(tmp, '.X3-lock'), `${String(process.pid).padStart(10)}\n`);
  // Not a socket, and a link to a socket: neither counts.
  writeFileSync(join(x11Dir, 'X0'), '');
  symlinkSync(join(x11Dir, 'X3'), join(x11Dir, 'X2'));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(root, { recursive: true, force: true });
});

const search = (extra: Record<string, unknown> = {}) => ({ uid, x11Dir, runtimeDir, hostname: HOST, ...extra });

describe('findDisplay', () => {
  it('keeps a display the environment names, adding nothing', () => {
    expect(findDisplay({ DISPLAY: ':5' }, search())).toEqual({
      env: {},
      source: 'environment',
      description: 'DISPLAY=:5 from the environment',
    });
    expect(findDisplay({ WAYLAND_DISPLAY: 'wayland-1' }, search()).source).toBe('environment');
  });

  it("finds the user's own X socket: the lowest live one, a socket (not a file or a link), with no cookie needed when none is known", () => {
    const found = findDisplay({ HOME: join(root, 'no-home') }, search());
    expect(found.source).toBe('x11-socket');
    expect(found.env).toEqual({ DISPLAY: ':3' });
    expect(found.description).toContain(join(x11Dir, 'X3'));
  });

  it('prefers the display an authority file of the user has a cookie for, and passes that file as XAUTHORITY', () => {
    authority(join(home, '.Xauthority'), ['7']);
    expect(findDisplay({ HOME: home }, search()).env).toEqual({ DISPLAY: ':7', XAUTHORITY: join(home, '.Xauthority') });
    // Cookies of another host, or for no display of ours, do not count.
    authority(join(home, '.Xauthority'), ['7'], 'elsewhere');
    expect(findDisplay({ HOME: home }, search()).env).toEqual({ DISPLAY: ':3' });
    // A wildcard entry matches any host; GNOME's Xwayland file in the runtime folder is found too.
    rmSync(join(home, '.Xauthority'));
    authority(join(runtimeDir, '.mutter-Xwaylandauth.AB12CD'), ['7'], '', 65535);
    expect(findDisplay({ HOME: home }, search()).env).toEqual({
      DISPLAY: ':7',
      XAUTHORITY: join(runtimeDir, '.mutter-Xwaylandauth.AB12CD'),
    });
    // XAUTHORITY, when set, is the only file Xlib reads, so it is the only one looked at.
    authority(join(home, 'auth'), ['3']);
    expect(findDisplay({ XAUTHORITY: join(home, 'auth') }, search()).env).toEqual({ DISPLAY: ':3', XAUTHORITY: join(home, 'auth') });
    rmSync(join(runtimeDir, '.mutter-Xwaylandauth.AB12CD'));
  });

  it("refuses another user's sockets and says how to fix the client's config", () => {
    const found = findDisplay({ HOME: home }, search({ uid: other }));
    expect(found.env).toBeUndefined();
    expect(found.source).toBe('none');
    expect(found.description).toContain(`no X or Wayland socket of this user (uid ${other})`);
    expect(found.description).toMatch(/add "DISPLAY".*"WAYLAND_DISPLAY" to the "env" block of the mcp-keyproxy entry/);
  });

  it.runIf(uid === 0)('as root, refuses a socket chowned to another uid and an authority file it does not own', async () => {
    const dir = join(root, 'chowned');
    await listen(join(dir, 'X4'));
    chownSync(join(dir, 'X4'), other, other);
    expect(findDisplay({}, search({ x11Dir: dir })).source).toBe('none');
    await listen(join(dir, 'X5'));
    authority(join(home, 'theirs'), ['5']);
    chownSync(join(home, 'theirs'), other, other);
    authority(join(home, '.Xauthority'), ['5']);
    chownSync(join(home, '.Xauthority'), other, other);
    expect(findDisplay({ HOME: home }, search({ x11Dir: dir })).env).toEqual({ DISPLAY: ':5' });
    rmSync(join(home, '.Xauthority'));
  });

  it("finds the user's Wayland socket first, in XDG_RUNTIME_DIR or /run/user/<uid>, and passes the folder on", async () => {
    const wayland = join(root, 'wayland-run');
    await listen(join(wayland, 'wayland-1'));
    writeFileSync(join(wayland, 'wayland-0.lock'), '');
    const found = findDisplay({}, search({ runtimeDir: wayland }));
    expect([found.source, found.env]).toEqual(['wayland-socket', { WAYLAND_DISPLAY: 'wayland-1', XDG_RUNTIME_DIR: wayland }]);
    expect(findDisplay({ XDG_RUNTIME_DIR: wayland }, search()).env).toEqual({ WAYLAND_DISPLAY: 'wayland-1', XDG_RUNTIME_DIR: wayland });
    expect(findDisplay({}, search({ runtimeDir: wayland, uid: other, x11Dir: join(root, 'none') })).source).toBe('none');
  });

  it('does nothing without a uid (Windows)', () => {
    expect(findDisplay({}, search({ uid: undefined })).source).toBe('none');
  });
});

describe('authorityDisplays', () => {
  it('stops at a truncated entry instead of reading past the end', () => {
    const file = join(root, 'auth-truncated');
    authority(file, ['2', '9']);
    const data = readFileSync(file);
    expect(authorityDisplays(data, HOST)).toEqual(new Set(['2', '9']));
    expect(authorityDisplays(data.subarray(0, data.length - 3), HOST)).toEqual(new Set(['2']));
    expect(authorityDisplays(Buffer.alloc(0), HOST)).toEqual(new Set());
  });
});
