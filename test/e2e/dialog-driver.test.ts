// The dialog driver with real dialogs on a private Xvfb display: the GTK program and the zenity fallback, driven
// through AT-SPI and real key presses. Run under scripts/with-display.sh: without a display it fails on purpose.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDialogDriver, type DialogDriver } from '../../src/dialog/driver.js';
import { consentTemplate, credentialTemplate, type DialogOutcome, type DialogTemplate } from '../../src/dialog/template.js';
import { KeyproxyError } from '../../src/errors.js';
import { ARTIFACTS, AtspiDriver, buildDialog, median, requireDisplay, type DialogRun, type WindowDump } from '../helpers/display.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FAKE_PROXY = join(root, 'test', 'unit', 'dialog', 'fixtures', 'fake-proxy.mjs');
const CODE = 'KX7P-M4QZ';
const declarations = {
  TOKEN: { label: 'API token', field_type: 'password' as const, required: true, help_text: 'From the settings page' },
  REGION: { label: 'Region', field_type: 'text' as const, required: false, default: 'eu-west-1' },
};
const form = credentialTemplate('github', declarations, ['TOKEN', 'REGION'], CODE, { clientName: 'test-client' });
const consent = consentTemplate('github', ['TOKEN', 'REGION'], CODE);
/** A package root without the built binary: the driver falls back to zenity. */
const noBinaryRoot = mkdtempSync(join(tmpdir(), 'keyproxy-no-binary-'));

let atspi: AtspiDriver;
/** Milliseconds from the prompt() call to a visible, accessible window. */
const startup = { gtk: [] as number[], zenity: [] as number[] };
/** Milliseconds from the prompt() call to the dialog process being spawned (the driver's own share). */
const spawnMs: number[] = [];
const pids: number[] = [];

/** One prompt in flight: its outcome, and each dialog process it started, as the AT-SPI driver wants them. */
interface Prompt {
  outcome: Promise<DialogOutcome>;
  /** Resolves with the n-th dialog process of this prompt (zenity shows a new one after an invalid submit). */
  dialog(n?: number): Promise<DialogRun>;
}

function prompt(driver: DialogDriver, template: DialogTemplate, signal?: AbortSignal): Prompt {
  const dialogs: DialogRun[] = [];
  const waiters: (() => void)[] = [];
  const calledAt = Date.now();
  const outcome = driver.prompt(template, {
    signal,
    server: 'github',
    onSpawn: (pid) => {
      pids.push(pid);
      if (!dialogs.length) spawnMs.push(Date.now() - calledAt);
      // Timed from the prompt() call, so AtspiDriver.startupMs measures call → visible window. The driver reads
      // only pid and spawnedAt; the process itself belongs to the dialog driver under test.
      dialogs.push({ pid, spawnedAt: dialogs.length ? Date.now() : calledAt } as DialogRun);
      for (const wake of waiters.splice(0)) wake();
    },
  });
  const dialog = async (n = 0): Promise<DialogRun> => {
    while (!dialogs[n]) await new Promise<void>((resolve) => waiters.push(resolve));
    return dialogs[n] as DialogRun;
  };
  return { outcome, dialog };
}

/** True while the process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return !alive(pid);
}

const label = (dump: WindowDump, name: string) => dump.labels.find((l) => l.name === name);

/** Waits for the n-th dialog of a prompt to be visible, records how long that took, and dumps it. */
async function visible(p: Prompt, kind: keyof typeof startup, n = 0): Promise<[DialogRun, WindowDump]> {
  const dialog = await p.dialog(n);
  const before = atspi.startupMs.length;
  const dump = await atspi.dump(dialog);
  const ms = atspi.startupMs[before];
  if (n === 0 && ms !== undefined) startup[kind].push(ms);
  return [dialog, dump];
}

beforeAll(async () => {
  requireDisplay();
  await buildDialog();
  atspi = await AtspiDriver.start();
});

afterAll(() => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  atspi?.close();
  rmSync(noBinaryRoot, { recursive: true, force: true });
  const { gtk, zenity } = startup;
  const [gtkMs, zenityMs, spawn] = [gtk, zenity, spawnMs].map((v) => Math.round(median(v)));
  const report = { gtk_median_ms: gtkMs, gtk_samples: gtk, zenity_median_ms: zenityMs, zenity_samples: zenity, spawn_median_ms: spawn };
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'dialog-driver-startup.json'), JSON.stringify(report));
  console.log(
    `dialog driver: prompt() → visible window, median ${gtkMs} ms (GTK, ${gtk.length} dialogs), ` +
      `${zenityMs} ms (zenity, ${zenity.length} dialogs); prompt() → process spawned ${spawn} ms`,
  );
});

describe('dialog driver with the GTK dialog', () => {
  const driver = () => createDialogDriver({ packageRoot: root });

  it('shows a credential template and returns what was typed', async () => {
    const gtk = driver();
    expect(gtk.name).toBe('gtk');
    const p = prompt(gtk, form);
    const [dialog, dump] = await visible(p, 'gtk');
    expect(dump.title).toBe('mcp-keyproxy: credentials for github');
    expect(label(dump, 'Verification code')?.text).toBe(CODE);
    expect(dump.labels.some((l) => l.text?.includes('test-client') && l.text.includes('matches the one shown'))).toBe(true);
    expect(dump.entries.map((e) => [e.name, e.text, e.password])).toEqual([
      ['API token', '', true],
      ['Region', 'eu-west-1', false],
    ]);
    await atspi.run(dialog, [
      { op: 'set-focused', text: 'sk-a|b "c" é' },
      { op: 'press', name: 'OK' },
    ]);
    expect(await p.outcome).toEqual({ kind: 'submitted', values: { TOKEN: 'sk-a|b "c" é', REGION: 'eu-west-1' } });
  });

  it('returns each consent decision, and Escape as cancelled', async () => {
    const gtk = driver();
    for (const [button, decision] of [
      ['Allow once', 'once'],
      ['Allow for session', 'session'],
      ['Allow always', 'always'],
      ['Deny', 'deny'],
    ]) {
      const p = prompt(gtk, consent);
      const [dialog, dump] = await visible(p, 'gtk');
      expect(dump.entries).toEqual([]);
      expect(dump.labels.some((l) => l.text?.includes('TOKEN, REGION'))).toBe(true);
      await atspi.run(dialog, [{ op: 'press', name: button as string }]);
      expect(await p.outcome).toEqual({ kind: 'confirmed', decision });
    }
    const escaped = prompt(gtk, consent);
    await atspi.run(await escaped.dialog(), [{ op: 'key', keys: ['Escape'] }]);
    expect(await escaped.outcome).toEqual({ kind: 'cancelled' });
  });

  it('returns cancelled on Cancel (five times, for the start-up median)', async () => {
    const gtk = driver();
    for (let i = 0; i < 5; i++) {
      const p = prompt(gtk, form);
      const [dialog] = await visible(p, 'gtk');
      await atspi.run(dialog, [{ op: 'press', name: 'Cancel' }]);
      expect(await p.outcome).toEqual({ kind: 'cancelled' });
    }
  });

  it('kills the dialog within 2 s when the request is aborted', async () => {
    const controller = new AbortController();
    const p = prompt(driver(), form, controller.signal);
    const [dialog] = await visible(p, 'gtk');
    const abortedAt = Date.now();
    controller.abort();
    expect(await p.outcome).toEqual({ kind: 'cancelled' });
    expect(await goneWithin(dialog.pid, 2000)).toBe(true);
    expect(Date.now() - abortedAt).toBeLessThan(2000);
  });

  it('kills the dialog when the proxy process exits', async () => {
    // A separate node process plays the proxy: it opens the dialog through the driver (compiled here), then ends.
    const out = join(root, 'node_modules', '.cache', 'keyproxy-dialog-e2e');
    const tsc = await execa(
      join(root, 'node_modules', '.bin', 'tsc'),
      [
        '--outDir',
        out,
        '--rootDir',
        join(root, 'src'),
        '--module',
        'nodenext',
        '--target',
        'es2022',
        '--skipLibCheck',
        '--types',
        'node',
        join(root, 'src', 'dialog', 'driver.ts'),
      ],
      { reject: false, all: true },
    );
    expect(tsc.all).not.toMatch(/error TS/);
    for (const how of ['exit', 'sigterm']) {
      const args = [FAKE_PROXY, join(out, 'dialog', 'driver.js'), root, JSON.stringify(form)];
      const proxy = execa(process.execPath, args, { stdin: 'pipe', reject: false });
      const pid = await new Promise<number>((resolve) => proxy.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
      pids.push(pid);
      await atspi.dump({ pid, spawnedAt: Date.now() } as DialogRun);
      proxy.stdin?.write(`${how}\n`);
      await proxy;
      expect({ how, gone: await goneWithin(pid, 2000) }).toEqual({ how, gone: true });
    }
  }, 90_000); // includes a tsc run
});

describe('dialog driver with the zenity fallback', () => {
  // A non-UTF-8 locale: the driver must still get non-ASCII values back intact from zenity.
  const env: NodeJS.ProcessEnv = { ...process.env, LANG: 'C' };
  delete env['LC_ALL'];
  delete env['LC_CTYPE'];
  const driver = () => createDialogDriver({ packageRoot: noBinaryRoot, env });

  it('asks again after an invalid submit, then returns the values', async () => {
    const zenity = driver();
    expect(zenity.name).toBe('zenity');
    const p = prompt(zenity, form);
    const [first, dump] = await visible(p, 'zenity');
    expect(dump.title).toBe('mcp-keyproxy: credentials for github');
    // zenity shows the code, the description, the help texts and any problem in one label.
    const text = (d: WindowDump) => d.labels.map((l) => l.text ?? '').join('\n');
    expect(text(dump)).toContain(`Verification code: ${CODE}\n`);
    expect(text(dump)).toContain('test-client');
    expect(text(dump)).toContain('API token: From the settings page');
    expect(dump.labels.map((l) => l.text)).toEqual(expect.arrayContaining(['API token *', 'Region (empty: eu-west-1)']));
    expect(dump.entries.map((e) => e.password).sort()).toEqual([false, true]);
    await atspi.run(first, [{ op: 'press', name: 'OK' }]); // the required token is still empty
    const [second, again] = await visible(p, 'zenity', 1);
    expect(text(again)).toContain('Fill in "API token".');
    expect(text(again)).toContain(`Verification code: ${CODE}\n`);
    await atspi.run(second, [
      { op: 'set-focused', text: 'sk-x|y é' },
      { op: 'press', name: 'OK' },
    ]);
    expect(await p.outcome).toEqual({ kind: 'submitted', values: { TOKEN: 'sk-x|y é', REGION: 'eu-west-1' } });
  });

  it('maps the question buttons to decisions', async () => {
    const zenity = driver();
    for (const [button, decision] of [
      ['Allow for session', 'session'],
      ['Allow always', 'always'],
      ['Allow once', 'once'],
      ['Deny', 'deny'],
    ]) {
      const p = prompt(zenity, consent);
      const [dialog, dump] = await visible(p, 'zenity');
      expect(dump.labels.some((l) => l.text?.startsWith(`Verification code: ${CODE}`))).toBe(true);
      await atspi.run(dialog, [{ op: 'press', name: button as string }]);
      expect(await p.outcome).toEqual({ kind: 'confirmed', decision });
    }
  });

  it('kills zenity within 2 s when the request is aborted', async () => {
    const controller = new AbortController();
    const p = prompt(driver(), form, controller.signal);
    const [dialog] = await visible(p, 'zenity');
    controller.abort();
    expect(await p.outcome).toEqual({ kind: 'cancelled' });
    expect(await goneWithin(dialog.pid, 2000)).toBe(true);
  });
});

describe('no dialog possible', () => {
  it('fails with DIALOG_UNAVAILABLE naming `mcp-keyproxy secrets set` without a display and zenity', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: noBinaryRoot, DISPLAY: '', WAYLAND_DISPLAY: '', XDG_RUNTIME_DIR: '' };
    // No socket of this user either: the X socket of this run's Xvfb would otherwise be found (see display.ts).
    const display = { x11Dir: noBinaryRoot, runtimeDir: noBinaryRoot };
    const driver = createDialogDriver({ packageRoot: root, env, display });
    const error = (await driver.prompt(form, { server: 'github' }).catch((e: unknown) => e)) as KeyproxyError;
    expect(error).toBeInstanceOf(KeyproxyError);
    expect([error.code, error.exitCode]).toEqual(['DIALOG_UNAVAILABLE', 69]);
    expect(error.message).toMatch(/no display.*"env" block of the mcp-keyproxy entry.*mcp-keyproxy secrets set github TOKEN/);
  });
});
