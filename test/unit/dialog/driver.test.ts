import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { createDialogDriver, dialogReport } from '../../../src/dialog/driver.js';
import { consentTemplate, credentialTemplate } from '../../../src/dialog/template.js';
import { ZENITY_SEPARATOR } from '../../../src/dialog/zenity.js';
import { KeyproxyError } from '../../../src/errors.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const dir = mkdtempSync(join(tmpdir(), 'keyproxy-driver-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(path: string, body: string, mode = 0o755): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode });
}

const BINARY = join('native-dialog', 'linux', 'build', 'keyproxy-dialog');
/** A package root whose "GTK dialog" is the fake dialog in echo mode. */
const working = join(dir, 'working');
script(join(working, BINARY), `FAKE_DIALOG=echo exec '${process.execPath}' '${join(FIXTURES, 'fake-dialog.mjs')}'`);
/** A package root whose binary cannot run here (the loader's exit 127). */
const broken = join(dir, 'broken');
script(join(broken, BINARY), "echo 'error while loading shared libraries: libgtk-3.so.0' >&2; exit 127");
/** A package root whose binary lost its execute bit. */
const notExecutable = join(dir, 'not-executable');
script(join(notExecutable, BINARY), 'exit 0', 0o644);
const empty = join(dir, 'empty');
mkdirSync(empty);
/** A PATH folder with a fake zenity that submits "z-token". */
const zenityPath = join(dir, 'zenity-bin');
script(join(zenityPath, 'zenity'), `exec '${process.execPath}' '${join(FIXTURES, 'fake-zenity.mjs')}' "$@"`);
const noZenityPath = join(dir, 'no-zenity-bin');
mkdirSync(noZenityPath);

const answers = JSON.stringify([{ stdout: `z-token${ZENITY_SEPARATOR}\n`, exit: 0 }]);
const env = (path: string, display: Record<string, string> = { DISPLAY: ':99' }) => ({
  PATH: path,
  FAKE_ZENITY_ANSWERS: answers,
  ...display,
});
const form = credentialTemplate('github', { NOTE: { field_type: 'text', required: false } }, ['TOKEN', 'NOTE'], 'KX7P-M4QZ');

async function rejection(promise: Promise<unknown>): Promise<KeyproxyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyproxyError);
  return error as KeyproxyError;
}

describe('createDialogDriver on Linux', () => {
  it('uses the built GTK dialog when it is executable and a display is set', async () => {
    const driver = createDialogDriver({ platform: 'linux', env: env(zenityPath), packageRoot: working });
    expect([driver.name, driver.unavailable]).toEqual(['gtk', undefined]);
    expect(await driver.prompt(form)).toEqual({ kind: 'submitted', values: { TOKEN: 'value:TOKEN', NOTE: 'value:NOTE' } });
  });

  it('accepts WAYLAND_DISPLAY as a display', () => {
    const driver = createDialogDriver({ platform: 'linux', env: env(zenityPath, { WAYLAND_DISPLAY: 'wayland-0' }), packageRoot: working });
    expect(driver.name).toBe('gtk');
  });

  it('falls back to zenity when the binary is missing or not executable', async () => {
    for (const packageRoot of [empty, notExecutable]) {
      const driver = createDialogDriver({ platform: 'linux', env: env(zenityPath), packageRoot });
      expect(driver.name).toBe('zenity');
      expect(await driver.prompt(form)).toEqual({ kind: 'submitted', values: { TOKEN: 'z-token', NOTE: '' } });
    }
  });

  it('falls back to zenity for good when the binary cannot run here', async () => {
    const driver = createDialogDriver({ platform: 'linux', env: env(zenityPath), packageRoot: broken });
    expect(driver.name).toBe('gtk');
    expect(await driver.prompt(form)).toEqual({ kind: 'submitted', values: { TOKEN: 'z-token', NOTE: '' } });
    expect(driver.name).toBe('zenity');
  });

  it('fails with DIALOG_UNAVAILABLE (exit 69) and the secrets set commands when nothing can show a dialog', async () => {
    // No display in the environment, and no socket of this user in (empty) X and runtime folders.
    const display = { x11Dir: join(dir, 'no-x11'), runtimeDir: join(dir, 'no-run') };
    const noDisplay = createDialogDriver({ platform: 'linux', env: env(zenityPath, {}), packageRoot: working, display });
    expect(noDisplay.name).toBe('none');
    expect(noDisplay.unavailable).toMatch(/no display.*add "DISPLAY".*to the "env" block of the mcp-keyproxy entry/);
    const error = await rejection(noDisplay.prompt(form, { server: 'github' }));
    expect(error.code).toBe('DIALOG_UNAVAILABLE');
    expect(error.exitCode).toBe(69);
    expect(error.message).toContain('mcp-keyproxy secrets set github TOKEN ; mcp-keyproxy secrets set github NOTE');

    const nothing = createDialogDriver({ platform: 'linux', env: env(noZenityPath), packageRoot: empty });
    // The advice works from the npm package too: the build script ships in it, run by its absolute path.
    expect(nothing.unavailable).toContain(`missing; build it with \`bash ${join(empty, 'scripts', 'build-dialog.sh')}\``);
    expect(nothing.unavailable).toMatch(/zenity is not installed/);
    const consent = await rejection(nothing.prompt(consentTemplate('github', ['TOKEN'], 'KX7P-M4QZ'), { server: 'github' }));
    expect(consent.message).toMatch(/consent.*"confirm": false.*--headless/);

    const unusable = createDialogDriver({ platform: 'linux', env: env(noZenityPath), packageRoot: broken });
    expect((await rejection(unusable.prompt(form))).message).toMatch(/libgtk-3.*secrets set <server> TOKEN/);
  });
});

describe('the display fallback and the report for doctor', () => {
  /** A "GTK dialog" that answers with the display it was given. */
  const showsDisplay = join(dir, 'shows-display');
  script(join(showsDisplay, BINARY), `cat >/dev/null; printf '{"TOKEN":"%s","NOTE":"%s"}' "$DISPLAY" "$XAUTHORITY"`);
  /** A "GTK dialog" built for another CPU: an ELF header naming a machine that is not this one. */
  const foreign = join(dir, 'foreign');
  const elf = Buffer.alloc(64);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2;
  elf[5] = 1;
  elf.writeUInt16LE(process.arch === 'arm64' ? 62 : 183, 18);
  mkdirSync(dirname(join(foreign, BINARY)), { recursive: true });
  writeFileSync(join(foreign, BINARY), elf, { mode: 0o755 });

  it("opens the dialog on the user's own X socket when the client passed no DISPLAY", async () => {
    const x11Dir = join(dir, 'x11');
    mkdirSync(x11Dir);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(x11Dir, 'X6'), resolve));
    try {
      const display = { x11Dir, runtimeDir: join(dir, 'no-run') };
      const minimal = { PATH: noZenityPath, HOME: join(dir, 'no-home') };
      const driver = createDialogDriver({ platform: 'linux', env: minimal, packageRoot: showsDisplay, display });
      expect(await driver.prompt(form)).toEqual({ kind: 'submitted', values: { TOKEN: ':6', NOTE: '' } });
      const report = dialogReport({ platform: 'linux', env: minimal, packageRoot: showsDisplay, display });
      expect(report).toMatchObject({
        driver: 'gtk',
        program: join(showsDisplay, BINARY),
        display: { source: 'x11-socket', env: { DISPLAY: ':6' } },
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('skips a GTK dialog built for another CPU up front, and says why', () => {
    const report = dialogReport({ platform: 'linux', env: env(zenityPath), packageRoot: foreign });
    expect(report.driver).toBe('zenity');
    expect(report.program).toBe(join(zenityPath, 'zenity'));
    expect(report.gtkSkipped).toMatch(/built for another CPU .*build it with `bash .*build-dialog\.sh`/);
    expect(dialogReport({ platform: 'linux', env: env(noZenityPath), packageRoot: foreign })).toMatchObject({
      driver: 'none',
      unavailable: expect.stringMatching(/another CPU.*zenity is not installed/),
    });
  });

  it('reports no display as such', () => {
    const display = { x11Dir: join(dir, 'no-x11'), runtimeDir: join(dir, 'no-run') };
    expect(dialogReport({ platform: 'linux', env: env(zenityPath, {}), packageRoot: working, display })).toMatchObject({
      driver: 'none',
      display: { source: 'none' },
    });
  });
});

describe('createDialogDriver on macOS and Windows', () => {
  const root = join(dir, 'scripts');
  script(join(root, 'native-dialog', 'macos', 'keyproxy-dialog.js'), '');
  script(join(root, 'native-dialog', 'windows', 'keyproxy-dialog.ps1'), '');

  it('picks osascript / powershell when the script is there', () => {
    expect(createDialogDriver({ platform: 'darwin', env: {}, packageRoot: root }).name).toBe('osascript');
    expect(createDialogDriver({ platform: 'win32', env: {}, packageRoot: root }).name).toBe('powershell');
  });

  it('is unavailable without the script', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      const driver = createDialogDriver({ platform, env: {}, packageRoot: empty });
      expect([driver.name, driver.unavailable]).toEqual(['none', expect.stringContaining('is missing')]);
    }
  });
});
