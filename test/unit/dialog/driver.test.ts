import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDialogDriver } from '../../../src/dialog/driver.js';
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
    const noDisplay = createDialogDriver({ platform: 'linux', env: env(zenityPath, {}), packageRoot: working });
    expect(noDisplay.name).toBe('none');
    expect(noDisplay.unavailable).toMatch(/no display/);
    const error = await rejection(noDisplay.prompt(form, { server: 'github' }));
    expect(error.code).toBe('DIALOG_UNAVAILABLE');
    expect(error.exitCode).toBe(69);
    expect(error.message).toContain('mcp-keyproxy secrets set github TOKEN ; mcp-keyproxy secrets set github NOTE');

    const nothing = createDialogDriver({ platform: 'linux', env: env(noZenityPath), packageRoot: empty });
    expect(nothing.unavailable).toMatch(/npm run build:dialog.*zenity is not installed/);
    const consent = await rejection(nothing.prompt(consentTemplate('github', ['TOKEN'], 'KX7P-M4QZ'), { server: 'github' }));
    expect(consent.message).toMatch(/consent.*"confirm": false/);

    const unusable = createDialogDriver({ platform: 'linux', env: env(noZenityPath), packageRoot: broken });
    expect((await rejection(unusable.prompt(form))).message).toMatch(/libgtk-3.*secrets set <server> TOKEN/);
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
