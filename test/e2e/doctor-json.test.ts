// `doctor --json`: one JSON object with every check (status and message), the dialog that would be shown and on
// which display (from the environment, through the socket fallback, or none), and the names of the variables each
// local server's process would get. Never a value.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDialog, DIALOG_BIN, requireDisplay } from '../helpers/display.js';
import { requireKeyringSession, uniqueServer } from '../helpers/keyring.js';
import { binPath, everythingServer, inheritedEnv, runBin, writeConfig } from '../helpers/proxy.js';

interface DoctorJson {
  ok: boolean;
  checks: { check: string; status: 'ok' | 'warn' | 'fail'; message: string; server?: string; secret?: string }[];
  dialog: {
    driver: string;
    program?: string;
    unavailable?: string;
    gtkSkipped?: string;
    display?: { source: string; variables: string[]; description: string };
  };
  servers: Record<string, { child_env?: string[] }>;
}

const VALUE = 'doctor-json-secret-value-7Q2';
const JAVA_HOME = '/opt/doctor-json-jdk';
const server = uniqueServer('e2e-doctor-json');
let config: string;
let home: string;

function parse(stdout: string): DoctorJson {
  const report = JSON.parse(stdout) as DoctorJson;
  for (const check of report.checks) {
    expect(['ok', 'warn', 'fail']).toContain(check.status);
    expect(typeof check.message).toBe('string');
    expect(typeof check.check).toBe('string');
  }
  expect(report.ok).toBe(report.checks.every((c) => c.status !== 'fail'));
  return report;
}

/** The environment of a test process without any display variable. */
function withoutDisplay(): Record<string, string> {
  const env = inheritedEnv();
  for (const name of ['DISPLAY', 'WAYLAND_DISPLAY', 'XAUTHORITY']) delete env[name];
  return env;
}

beforeAll(async () => {
  requireKeyringSession();
  requireDisplay();
  await buildDialog();
  home = await mkdtemp(join(tmpdir(), 'keyproxy-doctor-json-'));
  config = await writeConfig({
    [server]: {
      ...everythingServer(
        { API_TOKEN: '${secret:API_TOKEN}', REGION: '${secret:REGION}' },
        { API_TOKEN: { label: 'API token' }, REGION: { label: 'Region', required: false } },
      ),
      inherit_env: ['JAVA_HOME'],
    },
  });
  expect(await runBin(['secrets', 'set', server, 'API_TOKEN', '--config', config], { input: VALUE })).toMatchObject({ code: 0 });
});

afterAll(async () => {
  await runBin(['secrets', 'clear', server, '--yes', '--config', config]);
  await rm(home, { recursive: true, force: true });
});

describe('doctor --json', () => {
  it('reports every check, the GTK dialog on the display of the environment, and the child variable names only', async () => {
    const result = await runBin(['doctor', '--json', '--config', config], { env: { ...inheritedEnv(), JAVA_HOME } });
    expect(result.stdout).not.toContain(VALUE);
    expect(result.stdout).not.toContain(JAVA_HOME);
    const report = parse(result.stdout);
    expect(result.code).toBe(report.ok ? 0 : 1);
    const checks = (kind: string) => report.checks.filter((c) => c.check === kind);
    expect(checks('config').map((c) => c.status)).toEqual(['ok']);
    expect(checks('keychain').map((c) => c.status)).toEqual(['ok']);
    expect(checks('command')).toEqual([expect.objectContaining({ server, status: 'ok' })]);
    expect(checks('secret').map((c) => [c.secret, c.status])).toEqual([
      ['API_TOKEN', 'ok'],
      ['REGION', 'warn'],
    ]);
    expect(checks('dialog')).toEqual([expect.objectContaining({ status: 'ok', message: expect.stringContaining(DIALOG_BIN) })]);
    expect(report.dialog).toMatchObject({ driver: 'gtk', program: DIALOG_BIN, display: { source: 'environment', variables: [] } });
    // The proxy's rule: the allowlist, inherit_env, the server's env minus absent optional secrets.
    const names = report.servers[server]?.child_env ?? [];
    expect(names).toEqual(expect.arrayContaining(['API_TOKEN', 'HOME', 'JAVA_HOME', 'PATH']));
    expect(names).not.toContain('REGION');
    expect(names).not.toContain('DBUS_SESSION_BUS_ADDRESS');
    expect(checks('child-env')).toEqual([
      expect.objectContaining({ server, message: expect.stringMatching(/its process gets API_TOKEN, .*HOME, JAVA_HOME, .*PATH/) }),
    ]);
  }, 60_000);

  it("without DISPLAY in the environment, names the user's X socket it found and the XAUTHORITY with its cookie", async () => {
    const number = (process.env['DISPLAY'] ?? '').replace(/^:/, '').replace(/\..*$/, '');
    const cookie = await execa('xauth', ['-f', process.env['XAUTHORITY'] ?? '', 'extract', '-', `:${number}`], { encoding: 'buffer' });
    await execa('xauth', ['-f', join(home, '.Xauthority'), 'merge', '-'], { input: cookie.stdout });
    const result = await runBin(['doctor', '--json', '--config', config], { env: { ...withoutDisplay(), HOME: home } });
    const report = parse(result.stdout);
    expect(report.dialog.driver).toBe('gtk');
    expect(report.dialog.display).toMatchObject({ source: 'x11-socket', variables: ['DISPLAY', 'XAUTHORITY'] });
    expect(report.dialog.display?.description).toContain(`DISPLAY=:${number}, XAUTHORITY=${join(home, '.Xauthority')}`);
    expect(report.checks.find((c) => c.check === 'dialog')?.message).toMatch(/the X socket \/tmp\/\.X11-unix\/X\d+; neither DISPLAY/);
  }, 60_000);

  // Another uid sees this run's Xvfb socket (owned by the test user) and must refuse it: no display at all.
  it.runIf(process.getuid?.() === 0)(
    'as a user with no display of its own, says no dialog can be shown and what to add to the client config',
    async () => {
      await chmod(home, 0o777);
      await chmod(config, 0o644);
      const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, MCP_KEYPROXY_STATE_DIR: join(home, 'state') };
      const result = await execa(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, binPath, 'doctor', '--json', '--config', config],
        {
          env,
          extendEnv: false,
          reject: false,
          timeout: 30_000,
        },
      );
      const report = parse(result.stdout);
      expect(report.dialog).toMatchObject({ driver: 'none', display: { source: 'none', variables: [] } });
      const dialog = report.checks.find((c) => c.check === 'dialog');
      expect(dialog?.status).toBe('warn');
      expect(dialog?.message).toMatch(/no X or Wayland socket of this user \(uid 65534\)/);
      expect(dialog?.message).toMatch(/"DISPLAY".*"env" block of the mcp-keyproxy entry/);
      expect(dialog?.message).toMatch(/mcp-keyproxy secrets set .*--headless/);
    },
    60_000,
  );
});
