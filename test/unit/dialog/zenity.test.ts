import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consentTemplate, credentialTemplate, type ConfirmTemplate, type FormTemplate } from '../../../src/dialog/template.js';
import {
  ZENITY_SEPARATOR,
  invalidValue,
  parseZenityForm,
  promptZenity,
  zenityConfirmArgs,
  zenityFormArgs,
  zenityMarkup,
  wrapText,
  WRAP_COLUMNS,
} from '../../../src/dialog/zenity.js';

const FAKE = join(import.meta.dirname, 'fixtures', 'fake-zenity.mjs');
const dir = mkdtempSync(join(tmpdir(), 'keyproxy-zenity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A `zenity` executable that runs the fake with zenity's argv. */
const ZENITY = join(dir, 'zenity');
writeFileSync(ZENITY, `#!/bin/sh\nexec '${process.execPath}' '${FAKE}' "$@"\n`, { mode: 0o755 });

const CODE = 'KX7P-M4QZ';
const form: FormTemplate = {
  title: 'mcp-keyproxy: credentials for github',
  description: 'Say <b>"hi"</b> & \\n bye',
  verification_code: CODE,
  fields: [
    { name: 'TOKEN', label: 'API token', field_type: 'password', required: true, help_text: 'From settings' },
    { name: 'REGION', label: 'Region', field_type: 'text', default: 'eu-west-1' },
    { name: 'URL', field_type: 'url' },
  ],
  timeout_s: 600,
};
const confirm: ConfirmTemplate = { mode: 'confirm', title: 'Allow?', description: 'Secrets: TOKEN <b>', verification_code: CODE };

let run = 0;
/** Runs promptZenity against the fake zenity; returns the outcome and the argv of each zenity run. */
async function prompt(template: FormTemplate | ConfirmTemplate, answers: { stdout: string; exit: number }[]) {
  const log = join(dir, `log-${run++}.jsonl`);
  const outcome = await promptZenity(ZENITY, { FAKE_ZENITY_LOG: log, FAKE_ZENITY_ANSWERS: JSON.stringify(answers) }, template, {});
  const runs = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { argv: string[] });
  return { outcome, runs: runs.map((r) => r.argv) };
}

describe('zenity arguments', () => {
  it('escapes markup and backslashes in the form text, which zenity unescapes and parses as markup', () => {
    expect(zenityMarkup('a <b> & "c" \\n \x00 d')).toBe('a &lt;b&gt; &amp; "c" \\\\n d');
  });

  it('puts labels and the code on argv, never a value, and asks for a control-character separator', () => {
    const args = zenityFormArgs(form, 600);
    expect(args).toContain('--forms');
    expect(args).toContain('--add-password=API token *');
    expect(args).toContain('--add-entry=Region (empty: eu-west-1)');
    expect(args).toContain('--add-entry=URL');
    expect(args).toContain(`--separator=${ZENITY_SEPARATOR}`);
    expect(args).toContain('--timeout=600');
    const text = args.find((a) => a.startsWith('--text=')) ?? '';
    expect(text).toContain(`Verification code: ${CODE}`);
    expect(text).toContain('Say &lt;b&gt;"hi"&lt;/b&gt; &amp; \\\\n bye');
    expect(text).toContain('API token: From settings');
  });

  it('shows a confirm template as a question with the four buttons of the GTK dialog, in its order, and literal text', () => {
    const args = zenityConfirmArgs(confirm, 120);
    expect(args).toEqual(
      expect.arrayContaining([
        '--question',
        '--no-markup',
        '--ok-label=Allow once',
        '--cancel-label=Deny',
        '--extra-button=Allow for session',
        '--default-cancel',
      ]),
    );
    expect(args.filter((a) => a.startsWith('--extra-button='))).toEqual([
      '--extra-button=Allow always',
      '--extra-button=Allow for session',
    ]);
    expect(args.find((a) => a.startsWith('--text='))).toBe(`--text=Verification code: ${CODE}\n\nSecrets: TOKEN <b>`);
  });
});

describe('zenity and the client name', () => {
  const hostile = '<span foreground="red">Claude</span> & <b>x</b>\n\\n';

  it('shows markup in the name as text in the form, on one line', () => {
    const text = zenityFormArgs(credentialTemplate('github', {}, ['TOKEN'], CODE, { clientName: hostile }), 600).find((a) =>
      a.startsWith('--text='),
    );
    // Wrapped for the window's width (see wrapText): compare with the line breaks as spaces.
    expect(text?.replace(/\n/g, ' ')).toContain(
      'Your AI app (&lt;span foreground="red"&gt;Claude&lt;/span&gt; &amp; &lt;b&gt;x&lt;/b&gt; \\\\n) wants',
    );
    expect(text).not.toContain('<span foreground="red">');
  });

  it('passes the name to the question untouched, with markup off', () => {
    const args = zenityConfirmArgs(consentTemplate('github', ['TOKEN'], CODE, { clientName: hostile }), 120);
    expect(args).toContain('--no-markup');
    const text = args.find((a) => a.startsWith('--text='));
    expect(text?.replace(/\n/g, ' ')).toContain('Your AI app (<span foreground="red">Claude</span> & <b>x</b> \\n) wants');
  });
});

describe('wrapText', () => {
  it('wraps at spaces, keeps line breaks, cuts a word longer than a line and counts code points', () => {
    expect(wrapText('aa bb cc\ndd', 5)).toBe('aa bb\ncc\ndd');
    expect(wrapText('abcdefghij k', 4)).toBe('abcd\nefgh\nij k');
    expect(wrapText('éééé ü', 6)).toBe('éééé ü');
    expect(wrapText('', 5)).toBe('');
  });

  it("keeps every line of zenity's texts within WRAP_COLUMNS, so the window fits a small screen", () => {
    const long = { label: 'Token', help_text: `${'word '.repeat(40)}https://example.com/${'x'.repeat(80)}` };
    const template = credentialTemplate('github', { TOKEN: long }, ['TOKEN'], CODE, { clientName: 'client '.repeat(20) });
    const texts = [zenityFormArgs(template, 600), zenityConfirmArgs(consentTemplate('github', ['TOKEN'], CODE), 600)].map(
      (args) => args.find((a) => a.startsWith('--text='))?.slice('--text='.length) ?? '',
    );
    for (const text of texts) {
      const plain = text.replace(/<[^>]*>/g, '').replace(/&[a-z]+;/g, '&');
      for (const line of plain.split('\n')) expect(Array.from(line).length).toBeLessThanOrEqual(WRAP_COLUMNS);
    }
    const label = zenityFormArgs(credentialTemplate('github', { T: { label: 'L'.repeat(100) } }, ['T'], CODE), 600).find((a) =>
      a.startsWith('--add-'),
    );
    expect(Array.from(label ?? '').length).toBeLessThan(70);
  });
});

describe('parseZenityForm', () => {
  const S = ZENITY_SEPARATOR;
  it('splits on the separator only: "|" and newlines inside values survive', () => {
    const parsed = parseZenityForm(form, `a|b${S}x|y\nz${S}https://h/|\n`);
    expect(parsed).toEqual({ values: { TOKEN: 'a|b', REGION: 'x|y\nz', URL: 'https://h/|' } });
  });

  it('applies defaults to empty non-password fields only', () => {
    const withDefault: FormTemplate = { ...form, fields: [...form.fields, { name: 'P', field_type: 'password', default: 'd' }] };
    expect(parseZenityForm(withDefault, `t${S}${S}${S}\n`)).toEqual({ values: { TOKEN: 't', REGION: 'eu-west-1', URL: '', P: '' } });
  });

  it('refuses output whose value count is off (a value holding the separator) without quoting it', () => {
    const parsed = parseZenityForm(form, `sk-se${S}cret${S}b${S}c\n`);
    expect(parsed).toMatchObject({ error: expect.stringContaining('U+001F') });
    expect(JSON.stringify(parsed)).not.toContain('cret');
  });
});

describe('invalidValue', () => {
  it('checks required, url and email like the native dialog', () => {
    const t: FormTemplate = {
      ...form,
      fields: [
        { name: 'R', required: true },
        { name: 'U', field_type: 'url' },
        { name: 'E', field_type: 'email' },
      ],
    };
    expect(invalidValue(t, { R: '', U: '', E: '' })).toBe('Fill in "R".');
    expect(invalidValue(t, { R: 'x', U: '', E: '' })).toBeUndefined();
    for (const bad of ['example.com', 'ftp://x.org', 'https://', 'https://a b']) {
      expect(invalidValue(t, { R: 'x', U: bad, E: '' })).toMatch(/URL/);
    }
    expect(invalidValue(t, { R: 'x', U: 'https://api.example.com/v1', E: 'dev@example.com' })).toBeUndefined();
    for (const bad of ['not-an-email', 'a@b']) expect(invalidValue(t, { R: 'x', U: '', E: bad })).toMatch(/email/);
  });
});

describe('promptZenity (fake zenity)', () => {
  const S = ZENITY_SEPARATOR;

  it('returns the values; an invalid submit is shown again with the problem and the same code', async () => {
    const { outcome, runs } = await prompt(form, [
      { stdout: `${S}${S}\n`, exit: 0 },
      { stdout: `tok${S}${S}not a url\n`, exit: 0 },
      { stdout: `tok${S}${S}https://h.io\n`, exit: 0 },
    ]);
    expect(outcome).toEqual({ kind: 'submitted', values: { TOKEN: 'tok', REGION: 'eu-west-1', URL: 'https://h.io' } });
    expect(runs).toHaveLength(3);
    const texts = runs.map((argv) => argv.find((a) => a.startsWith('--text=')) ?? '');
    expect(texts[0]).not.toContain('Fill in');
    expect(texts[1]).toContain('Fill in "API token".');
    expect(texts[2]).toContain('enter an http:// or https:// URL');
    for (const text of texts) expect(text).toContain(CODE);
  });

  it('maps cancel, timeout (exit 5) and errors', async () => {
    expect((await prompt(form, [{ stdout: '', exit: 1 }])).outcome).toEqual({ kind: 'cancelled' });
    expect((await prompt(form, [{ stdout: '', exit: 5 }])).outcome).toEqual({ kind: 'failed', message: 'the dialog timed out' });
    expect((await prompt(form, [{ stdout: 'x', exit: 255 }])).outcome).toMatchObject({
      kind: 'failed',
      message: expect.stringContaining('255'),
    });
  });

  it('maps the question buttons to decisions; Escape and closing read as deny', async () => {
    expect((await prompt(confirm, [{ stdout: '\n', exit: 0 }])).outcome).toEqual({ kind: 'confirmed', decision: 'once' });
    expect((await prompt(confirm, [{ stdout: 'Allow for session\n', exit: 1 }])).outcome).toEqual({
      kind: 'confirmed',
      decision: 'session',
    });
    expect((await prompt(confirm, [{ stdout: 'Allow always\n', exit: 1 }])).outcome).toEqual({ kind: 'confirmed', decision: 'always' });
    expect((await prompt(confirm, [{ stdout: '', exit: 1 }])).outcome).toEqual({ kind: 'confirmed', decision: 'deny' });
  });
});
