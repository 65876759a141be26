// The Wayland side of the display fallback: with no WAYLAND_DISPLAY or DISPLAY but the user's runtime folder
// known, the dialog opens on the user's own Wayland socket there. A real compositor (weston, headless backend)
// owns the socket; the window is found through AT-SPI.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDialogDriver } from '../../src/dialog/driver.js';
import { credentialTemplate } from '../../src/dialog/template.js';
import { AtspiDriver, buildDialog, requireDisplay } from '../helpers/display.js';
import { procText, waitFor } from '../helpers/proxy.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let runtimeDir: string;
let weston: ChildProcess | undefined;
let atspi: AtspiDriver;

beforeAll(async () => {
  requireDisplay(); // for the AT-SPI bus that scripts/with-display.sh provides
  await buildDialog();
  runtimeDir = await mkdtemp(join(tmpdir(), 'keyproxy-wayland-'));
  await chmod(runtimeDir, 0o700);
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', XDG_RUNTIME_DIR: runtimeDir, HOME: runtimeDir };
  weston = spawn('weston', ['--backend=headless-backend.so', '--socket=wayland-3', '--idle-time=0'], { env, stdio: 'ignore' });
  const socket = join(runtimeDir, 'wayland-3');
  const up = await waitFor(() => existsSync(socket) && statSync(socket).isSocket(), 15_000);
  if (!up) throw new Error(`weston did not create ${socket} (sudo apt-get install weston)`);
  atspi = await AtspiDriver.start();
});

afterAll(async () => {
  atspi?.close();
  weston?.kill('SIGTERM');
  await rm(runtimeDir, { recursive: true, force: true });
});

describe('the display fallback on Wayland', () => {
  it("opens the dialog on the user's Wayland socket in XDG_RUNTIME_DIR when WAYLAND_DISPLAY is missing", async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      HOME: runtimeDir,
      XDG_RUNTIME_DIR: runtimeDir,
      DBUS_SESSION_BUS_ADDRESS: process.env['DBUS_SESSION_BUS_ADDRESS'],
    };
    // No X socket may be chosen instead: an empty X folder.
    const driver = createDialogDriver({ packageRoot: root, env, display: { x11Dir: join(runtimeDir, 'no-x11') } });
    expect(driver.name).toBe('gtk');
    const controller = new AbortController();
    let pid: number | undefined;
    const template = credentialTemplate('wayland-server', {}, ['TOKEN'], 'KX7P-M4QZ');
    const outcome = driver.prompt(template, { signal: controller.signal, onSpawn: (p) => (pid = p) });
    try {
      expect(await waitFor(() => pid !== undefined, 10_000)).toBe(true);
      const dialogEnv = await procText(pid as number, 'environ');
      expect(dialogEnv).toContain(' WAYLAND_DISPLAY=wayland-3 ');
      expect(dialogEnv).not.toMatch(/(^| )DISPLAY=/);
      // Without DISPLAY and with no X socket, GTK can only have opened the Wayland display: it would have exited
      // with "cannot open a display" otherwise, and AT-SPI would find no window.
      const dump = await atspi.dump({ pid: pid as number });
      expect(dump.title).toBe('mcp-keyproxy: credentials for wayland-server');
    } finally {
      controller.abort();
      await outcome;
    }
  }, 60_000);
});
