import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseProgramOutput, runDialogProgram, type ProgramSpec } from '../../../src/dialog/program.js';
import type { ConfirmTemplate, FormTemplate } from '../../../src/dialog/template.js';

const FAKE = join(import.meta.dirname, 'fixtures', 'fake-dialog.mjs');
const dir = mkdtempSync(join(tmpdir(), 'keyproxy-program-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const form: FormTemplate = {
  title: 't',
  verification_code: 'KX7P-M4QZ',
  fields: [{ name: 'TOKEN', field_type: 'password' }, { name: 'USER' }],
  timeout_s: 30,
};
const confirm: ConfirmTemplate = { mode: 'confirm', title: 't', verification_code: 'KX7P-M4QZ', timeout_s: 30 };

function fake(env: Record<string, string>): ProgramSpec {
  return { file: process.execPath, args: [FAKE], env: { PATH: process.env['PATH'], ...env } };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runDialogProgram', () => {
  it('sends the template on stdin only and returns the values of the template fields', async () => {
    const record = join(dir, 'record.json');
    const outcome = await runDialogProgram(fake({ FAKE_DIALOG: 'echo', FAKE_RECORD: record }), form, {});
    expect(outcome).toEqual({ kind: 'submitted', values: { TOKEN: 'value:TOKEN', USER: 'value:USER' } });
    const seen = JSON.parse(readFileSync(record, 'utf8')) as { argv: string[]; stdin: string };
    expect(seen.argv).toEqual([]);
    expect(JSON.parse(seen.stdin)).toEqual(form);
  });

  it('maps exit 1 to cancelled and exit 2 to failed with the first stderr line, never stdout', async () => {
    expect(await runDialogProgram(fake({ FAKE_DIALOG: 'exit', FAKE_EXIT: '1' }), form, {})).toEqual({ kind: 'cancelled' });
    const failed = await runDialogProgram(fake({ FAKE_DIALOG: 'print', FAKE_EXIT: '2', FAKE_STDOUT: '{"TOKEN":"sk-value"}' }), form, {});
    expect(failed).toEqual({ kind: 'failed', message: 'the dialog failed: it exited with code 2' });
    const stderr = await runDialogProgram(
      fake({ FAKE_DIALOG: 'exit', FAKE_EXIT: '2', FAKE_STDERR: '\nkeyproxy-dialog: cannot open a display\nmore\n' }),
      form,
      {},
    );
    expect(stderr).toEqual({ kind: 'failed', message: 'the dialog failed: keyproxy-dialog: cannot open a display' });
    const other = await runDialogProgram(fake({ FAKE_DIALOG: 'exit', FAKE_EXIT: '9' }), form, {});
    expect(other).toMatchObject({ kind: 'failed', message: expect.stringContaining('code 9') });
  });

  it('maps a confirm answer to its decision', async () => {
    for (const decision of ['once', 'session', 'always', 'deny'] as const) {
      const outcome = await runDialogProgram(fake({ FAKE_DIALOG: 'print', FAKE_STDOUT: `{"decision":"${decision}"}\n` }), confirm, {});
      expect(outcome).toEqual({ kind: 'confirmed', decision });
    }
  });

  it('reports a program that cannot run as unusable (so the driver can fall back)', async () => {
    const missing = await runDialogProgram({ file: join(dir, 'nope'), args: [], env: {} }, form, {});
    expect(missing).toMatchObject({ kind: 'unusable', message: expect.stringContaining('ENOENT') });
    const notExecutable = join(dir, 'plain-file');
    writeFileSync(notExecutable, 'x', { mode: 0o644 });
    expect(await runDialogProgram({ file: notExecutable, args: [], env: {} }, form, {})).toMatchObject({ kind: 'unusable' });
    // The dynamic loader exits 127 when a shared library (libgtk-3, libjson-glib) is missing.
    const noLibs = await runDialogProgram(
      fake({ FAKE_DIALOG: 'exit', FAKE_EXIT: '127', FAKE_STDERR: 'error while loading shared libraries: libjson-glib-1.0.so.0\n' }),
      form,
      {},
    );
    expect(noLibs).toMatchObject({ kind: 'unusable', message: expect.stringContaining('libjson-glib') });
  });

  it('kills the dialog when the signal aborts, even one that ignores SIGTERM, and reports cancelled', async () => {
    for (const ignoreTerm of ['0', '1']) {
      const controller = new AbortController();
      let pid = 0;
      const running = runDialogProgram(fake({ FAKE_DIALOG: 'hang', FAKE_IGNORE_TERM: ignoreTerm }), form, {
        signal: controller.signal,
        onSpawn: (p) => (pid = p),
      });
      expect(pid).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const abortedAt = Date.now();
      controller.abort();
      expect(await running).toEqual({ kind: 'cancelled' });
      expect(alive(pid)).toBe(false);
      expect(Date.now() - abortedAt).toBeLessThan(ignoreTerm === '1' ? 2000 : 500);
    }
  });

  it('does not start a dialog for an already aborted signal', async () => {
    const record = join(dir, 'never.json');
    const outcome = await runDialogProgram(fake({ FAKE_DIALOG: 'echo', FAKE_RECORD: record }), form, {
      signal: AbortSignal.abort(),
    });
    expect(outcome).toEqual({ kind: 'cancelled' });
    expect(existsSync(record)).toBe(false);
  });
});

describe('parseProgramOutput', () => {
  const failed = (stdout: string, template: FormTemplate | ConfirmTemplate = form) => parseProgramOutput(template, stdout);

  it('ignores unknown keys and reads missing fields as empty', () => {
    expect(failed('{"TOKEN":"a","extra":1}')).toEqual({ kind: 'submitted', values: { TOKEN: 'a', USER: '' } });
  });

  it('keeps a field named __proto__ as a plain value', () => {
    const template: FormTemplate = { ...form, fields: [{ name: '__proto__' }] };
    const outcome = parseProgramOutput(template, '{"__proto__":"v"}');
    expect(outcome.kind === 'submitted' && Object.getOwnPropertyDescriptor(outcome.values, '__proto__')?.value).toBe('v');
  });

  it('refuses malformed output without quoting it', () => {
    const cases = ['sk-secret-value', '["sk-secret-value"]', 'null', '{"TOKEN":["sk-secret-value"]}', '{"TOKEN":1}'];
    for (const stdout of cases) {
      const outcome = failed(stdout);
      expect(outcome.kind).toBe('failed');
      expect(JSON.stringify(outcome)).not.toContain('secret');
    }
    expect(failed('{"decision":"forever"}', confirm)).toMatchObject({ kind: 'failed' });
    expect(failed('{}', confirm)).toMatchObject({ kind: 'failed' });
  });
});
