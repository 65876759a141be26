// The Linux native dialog, shown on a real (Xvfb) display and driven through AT-SPI and real key presses.
// Run under scripts/with-display.sh: without a display this suite fails on purpose instead of skipping.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACTS,
  AtspiDriver,
  buildDialog,
  median,
  requireDisplay,
  screenshot,
  startDialog,
  type DialogRun,
  type WindowDump,
} from '../helpers/display.js';

const CODE = 'KX7P-M4QZ';
const token = { name: 'TOKEN', label: 'API token', field_type: 'password', required: true };
const base = { title: 'Key for github', description: 'The server needs a key.', verification_code: CODE };
const form = (fields: object[], extra: object = {}) => ({ ...base, fields, timeout_s: 20, ...extra });

let driver: AtspiDriver;
const running: DialogRun[] = [];

function open(template: unknown): DialogRun {
  const dialog = startDialog(template);
  running.push(dialog);
  return dialog;
}

const label = (dump: WindowDump, name: string) => dump.labels.find((l) => l.name === name);
const button = (dump: WindowDump, name: string) => dump.buttons.find((b) => b.name === name);
const entry = (dump: WindowDump, name: string) => dump.entries.find((e) => e.name === name);

/**
 * A dump once GTK has laid the window out. An entry's "changed" handler updates the OK button and the inline
 * error at once, but a label it has just shown has no place on screen (so AT-SPI does not report it SHOWING)
 * until GTK's next layout pass, after the window has grown to fit it. The dialog only gives an error label text
 * while the label is shown, so a label with text that is not showing yet is one still waiting for that pass.
 * Polls until there is none, whatever the expected outcome, and returns the last dump when the deadline passes.
 */
async function laidOut(dialog: DialogRun, deadlineMs = 3000): Promise<WindowDump> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const dump = await driver.dump(dialog);
    if (dump.labels.every((l) => l.showing || !l.text) || Date.now() > deadline) return dump;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  requireDisplay();
  await buildDialog();
  driver = await AtspiDriver.start();
});

afterAll(() => {
  for (const dialog of running) dialog.process.kill();
  driver?.close();
  if (driver?.startupMs.length) {
    const ms = Math.round(median(driver.startupMs));
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'dialog-startup.json'), JSON.stringify({ median_ms: ms, samples: driver.startupMs }));
    console.log(`native dialog: median ${ms} ms from spawn to visible (${driver.startupMs.length} dialogs)`);
  }
});

describe('native dialog (GTK, linux)', () => {
  it('shows the code and fields, and prints the typed values as JSON on OK', async () => {
    const dialog = open(form([token, { name: 'USER', label: 'User name' }]));
    const dump = await driver.dump(dialog);
    expect(dump.title).toBe('Key for github');
    expect(label(dump, 'Verification code')?.text).toBe(CODE);
    expect(label(dump, 'API token *')?.showing).toBe(true);
    expect(entry(dump, 'API token')).toMatchObject({ password: true, focused: true });
    await driver.run(dialog, [
      { op: 'set', name: 'API token', text: 'sk-"secret"\\ é' },
      { op: 'focus', name: 'User name' },
      { op: 'type', text: 'alice' },
    ]);
    const typed = await driver.dump(dialog);
    expect(entry(typed, 'API token')?.text).not.toContain('secret'); // masked, even to assistive tech
    await driver.run(dialog, [{ op: 'press', name: 'OK' }]);
    const result = await dialog.process;
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toEqual({ TOKEN: 'sk-"secret"\\ é', USER: 'alice' });
  });

  it('submits with Return', async () => {
    const dialog = open(form([token]));
    await driver.run(dialog, [
      { op: 'type', text: 'typed-key' },
      { op: 'key', keys: ['Return'] },
    ]);
    const result = await dialog.process;
    expect([result.exitCode, JSON.parse(result.stdout)]).toEqual([0, { TOKEN: 'typed-key' }]);
  });

  it('exits 1 with nothing on stdout on Cancel and on Escape', async () => {
    const cancelled = open(form([token]));
    await driver.run(cancelled, [
      { op: 'set', name: 'API token', text: 'x' },
      { op: 'press', name: 'Cancel' },
    ]);
    const escaped = open(form([token]));
    await driver.run(escaped, [
      { op: 'type', text: 'x' },
      { op: 'key', keys: ['Escape'] },
    ]);
    for (const result of [await cancelled.process, await escaped.process]) {
      expect([result.exitCode, result.stdout]).toEqual([1, '']);
    }
  });

  it('keeps OK disabled and ignores Return until required fields are filled', async () => {
    const dialog = open(form([token, { name: 'NOTE', label: 'Note' }]));
    expect(button(await driver.dump(dialog), 'OK')?.sensitive).toBe(false);
    await driver.run(dialog, [
      { op: 'key', keys: ['Return'] },
      { op: 'press', name: 'OK' },
      { op: 'sleep', ms: 300 },
    ]);
    expect(dialog.process.exitCode).toBeNull();
    await driver.run(dialog, [{ op: 'set', name: 'API token', text: 'now-filled' }]);
    expect(button(await driver.dump(dialog), 'OK')?.sensitive).toBe(true);
    await driver.run(dialog, [{ op: 'key', keys: ['Return'] }]);
    const result = await dialog.process;
    expect([result.exitCode, JSON.parse(result.stdout)]).toEqual([0, { TOKEN: 'now-filled', NOTE: '' }]);
  });

  it('validates url and email fields inline', async () => {
    const fields = [
      { name: 'URL', label: 'Endpoint', field_type: 'url' },
      { name: 'MAIL', label: 'Email', field_type: 'email' },
    ];
    const dialog = open(form(fields));
    expect(button(await driver.dump(dialog), 'OK')?.sensitive).toBe(true); // empty optional fields are fine
    const cases: [string, string, boolean][] = [
      ['Endpoint', 'example.com', false],
      ['Endpoint', 'ftp://example.com', false],
      ['Endpoint', 'https://', false],
      ['Endpoint', 'https://api.example.com/v1', true],
      ['Email', 'not-an-email', false],
      ['Email', 'a@b', false],
      ['Email', 'dev@example.com', true],
    ];
    for (const [name, text, valid] of cases) {
      await driver.run(dialog, [{ op: 'set', name, text }]);
      const dump = await laidOut(dialog);
      const errors = dump.labels.filter((l) => l.showing && l.text?.startsWith('Enter an'));
      expect({ text, ok: button(dump, 'OK')?.sensitive, errors: errors.length }).toEqual({
        text,
        ok: valid,
        errors: valid ? 0 : 1,
      });
    }
    await driver.run(dialog, [{ op: 'press', name: 'OK' }]);
    const result = await dialog.process;
    expect(JSON.parse(result.stdout)).toEqual({ URL: 'https://api.example.com/v1', MAIL: 'dev@example.com' });
  });

  it('prefills defaults, except for password fields, and shows help text', async () => {
    const fields = [
      { name: 'REGION', label: 'Region', default: 'eu-west-1', help_text: 'Where your account lives' },
      { ...token, default: 'never-shown' },
    ];
    const dialog = open(form(fields));
    const dump = await driver.dump(dialog);
    expect(entry(dump, 'Region')?.text).toBe('eu-west-1');
    expect(entry(dump, 'API token')?.text).toBe('');
    expect(label(dump, 'Where your account lives')?.showing).toBe(true);
    await driver.run(dialog, [
      { op: 'set', name: 'API token', text: 'k' },
      { op: 'press', name: 'OK' },
    ]);
    expect(JSON.parse((await dialog.process).stdout)).toEqual({ REGION: 'eu-west-1', TOKEN: 'k' });
  });

  it('exits 2 when timeout_s passes', async () => {
    const dialog = open(form([token], { timeout_s: 0.5 }));
    await driver.dump(dialog);
    const result = await dialog.process;
    expect([result.exitCode, result.stdout]).toEqual([2, '']);
    expect(result.stderr).toMatch(/timed out/);
  });

  it('confirm mode prints each decision; Escape cancels; Return on the initial focus denies', async () => {
    const confirm = { ...base, mode: 'confirm', timeout_s: 20 };
    for (const [name, decision] of [
      ['Allow once', 'once'],
      ['Allow for session', 'session'],
      ['Allow always', 'always'],
      ['Deny', 'deny'],
    ]) {
      const dialog = open(confirm);
      const dump = await driver.dump(dialog);
      expect(dump.buttons.map((b) => b.name)).toEqual(['Deny', 'Allow always', 'Allow for session', 'Allow once']);
      expect(dump.entries).toEqual([]);
      await driver.run(dialog, [{ op: 'press', name: name as string }]);
      const result = await dialog.process;
      expect([result.exitCode, JSON.parse(result.stdout)]).toEqual([0, { decision }]);
    }
    const escaped = open(confirm);
    await driver.run(escaped, [{ op: 'key', keys: ['Escape'] }]);
    expect((await escaped.process).exitCode).toBe(1);
    const returned = open(confirm);
    await driver.run(returned, [{ op: 'key', keys: ['Return'] }]);
    expect(JSON.parse((await returned.process).stdout)).toEqual({ decision: 'deny' });
  });

  it('shows template text literally: no markup, no script injection, values escaped in the output', async () => {
    const hostile = {
      title: 'He said "hi"\nand <b>left</b>',
      description: 'Line 1\nLine 2 <i>x</i> &amp; "; do shell script "touch /tmp/pwned" & "',
      verification_code: '<span size="1">AB</span>',
      fields: [
        { name: 'A"B\n', label: "$(Get-Process); `whoami` '; Remove-Item -Recurse C:\\ #", help_text: '<b>bold</b>' },
        { name: 'K', label: 'a_b %s %n \\u0000', field_type: 'password' },
      ],
      timeout_s: 20,
    };
    const dialog = open(hostile);
    const dump = await driver.dump(dialog);
    const [first, second] = hostile.fields as [(typeof hostile.fields)[0], (typeof hostile.fields)[1]];
    expect(dump.title).toBe(hostile.title);
    expect(label(dump, hostile.title)?.text).toBe(hostile.title);
    expect(label(dump, hostile.description)?.text).toBe(hostile.description);
    expect(label(dump, 'Verification code')?.text).toBe(hostile.verification_code);
    expect(label(dump, first.label)?.text).toBe(first.label);
    expect(label(dump, '<b>bold</b>')?.text).toBe('<b>bold</b>');
    expect(entry(dump, second.label)).toBeDefined();
    const value = '"}, "evil": "1';
    await driver.run(dialog, [
      { op: 'set', name: first.label, text: value },
      { op: 'set', name: second.label, text: '\n\t\\' },
      { op: 'press', name: 'OK' },
    ]);
    const result = await dialog.process;
    expect(JSON.parse(result.stdout)).toEqual({ 'A"B\n': value, K: '\n\t\\' });
  });

  it('renders a visible, non-blank window (test-artifacts/dialog.png)', async () => {
    const fields = [
      { ...token, help_text: 'Create one at https://github.com/settings/tokens' },
      { name: 'URL', label: 'API URL', field_type: 'url', default: 'https://api.github.com' },
      { name: 'MAIL', label: 'Email', field_type: 'email', default: 'not-an-email' },
    ];
    const dialog = open(form(fields, { description: 'The MCP server "github" needs an API token.' }));
    await driver.run(dialog, [
      { op: 'type', text: 'ghp_example' },
      { op: 'sleep', ms: 150 },
    ]);
    mkdirSync(ARTIFACTS, { recursive: true });
    const colours = await screenshot(dialog, join(ARTIFACTS, 'dialog.png'));
    expect(colours).toBeGreaterThan(16);
    await driver.run(dialog, [{ op: 'press', name: 'Cancel' }]);
    expect((await dialog.process).exitCode).toBe(1);
  });
});

describe('native dialog errors (exit 2)', () => {
  const bad: [string, string | object, RegExp][] = [
    ['not JSON', '{"title": ', /bad template/],
    ['not an object', '[]', /expected a JSON object/],
    ['no title', { verification_code: CODE, fields: [token] }, /"title" is missing/],
    ['no code', { title: 't', fields: [token] }, /"verification_code" is missing/],
    ['no fields', { ...base }, /non-empty array/],
    ['fields not an array', { ...base, fields: {} }, /wrong type/],
    ['field not an object', { ...base, fields: ['x'] }, /must be an object/],
    ['field without name', { ...base, fields: [{ label: 'x' }] }, /"name" is missing/],
    ['unknown field_type', { ...base, fields: [{ name: 'a', field_type: 'file' }] }, /field_type/],
    ['required not a boolean', { ...base, fields: [{ name: 'a', required: 'yes' }] }, /wrong type/],
    ['duplicate names', { ...base, fields: [{ name: 'a' }, { name: 'a' }] }, /share a name/],
    ['negative timeout', { ...base, fields: [token], timeout_s: -1 }, /timeout_s/],
    ['confirm with fields', { ...base, mode: 'confirm', fields: [token] }, /confirm mode/],
    ['unknown mode', { ...base, mode: 'shell', fields: [token] }, /mode/],
    ['over 64 KB', { ...base, fields: [token], description: 'x'.repeat(70_000) }, /64 KB/],
  ];
  it.each(bad)('rejects a template: %s', async (_, template, message) => {
    const result = await startDialog(template).process;
    expect([result.exitCode, result.stdout]).toEqual([2, '']);
    expect(result.stderr).toMatch(message);
  });

  it('exits 2 without a display', async () => {
    const env = { ...process.env };
    delete env['DISPLAY'];
    delete env['WAYLAND_DISPLAY'];
    const result = await startDialog(form([token]), env).process;
    expect([result.exitCode, result.stdout]).toEqual([2, '']);
    expect(result.stderr).toMatch(/cannot open a display/);
  });

  it('takes no arguments (the template comes only from stdin)', async () => {
    const result = await startDialog(form([token]), process.env, ['--title=x']).process;
    expect([result.exitCode, result.stderr]).toEqual([2, expect.stringMatching(/takes no arguments/)]);
  });
});
