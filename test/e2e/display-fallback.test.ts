// A client that starts the proxy with the SDK's minimal environment (HOME, LOGNAME, PATH, SHELL, TERM, USER:
// the Inspector, older Cline) passes no DISPLAY, WAYLAND_DISPLAY or XAUTHORITY. The proxy finds the user's own
// X socket (this run's Xvfb, owned by this uid) and the cookie in ~/.Xauthority, and the dialog appears on it.
import { statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDialog, requireDisplay } from '../helpers/display.js';
import { requireKeyringSession, uniqueServer } from '../helpers/keyring.js';
import { binPath, dialogOf, everythingServer, isAlive, procText, repoRoot, waitFor, writeConfig } from '../helpers/proxy.js';

let home: string;
const scratch = join(repoRoot, 'test-artifacts', `display-fallback-${process.pid}`);

beforeAll(async () => {
  requireKeyringSession();
  requireDisplay();
  await buildDialog();
  home = await mkdtemp(join(tmpdir(), 'keyproxy-display-home-'));
  await mkdir(scratch, { recursive: true });
  // The user's ~/.Xauthority, as a desktop session leaves it: the cookie of their display only.
  const display = process.env['DISPLAY'] ?? '';
  const cookie = await execa('xauth', ['-f', process.env['XAUTHORITY'] ?? '', 'extract', '-', display], { encoding: 'buffer' });
  await execa('xauth', ['-f', join(home, '.Xauthority'), 'merge', '-'], { input: cookie.stdout });
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

describe('the display fallback with a minimal client environment', () => {
  it("opens the credentials dialog on the user's own X display, found by its socket", async () => {
    const number = (process.env['DISPLAY'] ?? '').replace(/^:/, '').replace(/\..*$/, '');
    // The real Xvfb of scripts/with-display.sh: its socket is owned by the user running the tests (root in CI).
    expect(statSync(`/tmp/.X11-unix/X${number}`).uid).toBe(process.getuid?.());

    const server = uniqueServer('e2e-display');
    const config = await writeConfig({
      [server]: everythingServer({ API_TOKEN: '${secret:API_TOKEN}' }, { API_TOKEN: { label: 'API token' } }),
    });
    // StdioClientTransport starts from the SDK's getDefaultEnvironment(): exactly the minimal set. The private
    // keychain's bus is added because its socket is not at /run/user/<uid>/bus, where the keychain's own
    // fallback looks; nothing here names a display.
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [binPath, 'run', server, '--config', config],
      env: {
        HOME: home,
        DBUS_SESSION_BUS_ADDRESS: process.env['DBUS_SESSION_BUS_ADDRESS'] ?? '',
        MCP_KEYPROXY_RUNTIME_DIR: join(scratch, 'run'),
        MCP_KEYPROXY_STATE_DIR: join(scratch, 'state'),
      },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'minimal-env-client', version: '1.0.0' });
    await client.connect(transport);
    const proxyPid = transport.pid ?? -1;
    try {
      const proxyEnv = await procText(proxyPid, 'environ');
      expect(proxyEnv).not.toMatch(/(^| )(DISPLAY|WAYLAND_DISPLAY|XAUTHORITY|XDG_RUNTIME_DIR)=/);

      const call = client.callTool({ name: `connect_${server}`, arguments: {} }, undefined, { timeout: 120_000 }).catch((e: unknown) => e);
      const dialog = await dialogOf(proxyPid).catch(async (error: unknown) => {
        // Say which X servers and cookies there were: the fallback chooses among them.
        const sockets = await execa('ls', ['-ln', '/tmp/.X11-unix'], { reject: false });
        const cookies = await execa('xauth', ['-f', join(home, '.Xauthority'), 'list'], { reject: false });
        const seen = `DISPLAY ${process.env['DISPLAY']}; sockets:\n${sockets.stdout}\ncookies:\n${cookies.stdout}`;
        throw new Error(`${String(error)}\n${seen}\nproxy stderr:\n${stderr}`);
      });
      const dialogEnv = await procText(dialog, 'environ');
      expect(dialogEnv).toContain(` DISPLAY=:${number} `);
      expect(dialogEnv).toContain(`XAUTHORITY=${join(home, '.Xauthority')} `);

      // The window is on this test's display (the Xvfb), visible: a bounded poll with xdotool.
      let window = '';
      const appeared = await waitFor(async () => {
        const search = await execa('xdotool', ['search', '--onlyvisible', '--pid', String(dialog)], { reject: false });
        window = search.stdout.split('\n')[0] ?? '';
        return window !== '';
      }, 20_000);
      expect(appeared, `no visible window of the dialog (pid ${dialog}); proxy stderr:\n${stderr}`).toBe(true);
      const name = await execa('xdotool', ['getwindowname', window]);
      expect(name.stdout).toBe(`mcp-keyproxy: credentials for ${server}`);

      await client.close();
      expect(await waitFor(async () => !(await isAlive(dialog)), 10_000)).toBe(true);
      await call;
    } finally {
      await client.close().catch(() => undefined);
    }
  }, 120_000);
});
