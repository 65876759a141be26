/** Helpers for tests that show the real native dialog on a private X display and drive it through AT-SPI. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where tests leave files for people to look at (screenshots, timings). */
export const ARTIFACTS = join(root, 'test-artifacts');
/** The built Linux dialog. */
export const DIALOG_BIN = join(root, 'native-dialog', 'linux', 'build', 'keyproxy-dialog');
const DIALOG_SRC = join(root, 'native-dialog', 'linux', 'keyproxy-dialog.c');
const DRIVER = join(root, 'test', 'helpers', 'atspi-driver.py');
/** The Debian python3 that has python3-gi; a pyenv or venv python3 on PATH usually does not. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Throws unless the tests run under scripts/with-display.sh: GUI suites must fail, never skip, without one. */
export function requireDisplay(): void {
  if (!process.env['DISPLAY']) {
    throw new Error(
      'DISPLAY is not set: the native dialog tests need a display. Run them under scripts/with-display.sh ' +
        '(e.g. scripts/with-keyring.sh scripts/with-display.sh npx vitest run --project e2e) or `npm run test:all`.',
    );
  }
}

/** Builds the dialog when it is missing or older than its source; throws with the compiler's output on failure. */
export async function buildDialog(): Promise<string> {
  if (existsSync(DIALOG_BIN) && statSync(DIALOG_BIN).mtimeMs >= statSync(DIALOG_SRC).mtimeMs) return DIALOG_BIN;
  const build = await execa('bash', [join(root, 'scripts', 'build-dialog.sh')], { reject: false, all: true });
  if (build.exitCode !== 0) {
    throw new Error(`cannot build the native dialog (scripts/build-dialog.sh):\n${build.all ?? ''}`);
  }
  return DIALOG_BIN;
}

/** One running dialog process. */
export interface DialogRun {
  pid: number;
  spawnedAt: number;
  process: ResultPromise<{ input: string; reject: false }>;
}

/** Starts the dialog with a template (an object, or raw text) on stdin. */
export function startDialog(template: unknown, env: NodeJS.ProcessEnv = process.env, args: string[] = []): DialogRun {
  const input = typeof template === 'string' ? template : JSON.stringify(template);
  const spawnedAt = Date.now();
  const child = execa(DIALOG_BIN, args, { input, reject: false, env, extendEnv: false, timeout: 25_000 });
  if (child.pid === undefined) throw new Error('the dialog did not start');
  return { pid: child.pid, spawnedAt, process: child };
}

/** A dialog window to drive: any process showing one (a test's own, or one the proxy started). */
export interface DialogWindow {
  pid: number;
  /** When known, the driver records the time from spawn to visible. */
  spawnedAt?: number;
}

/** A step for the AT-SPI driver; see test/helpers/atspi-driver.py. */
export type Step =
  | { op: 'dump' }
  | { op: 'set'; name: string; text: string }
  | { op: 'press'; name: string }
  | { op: 'focus'; name: string }
  | { op: 'key'; keys: string[] }
  | { op: 'type'; text: string }
  | { op: 'set-focused'; text: string }
  | { op: 'sleep'; ms: number };

/** What the driver reads from the dialog window. */
export interface WindowDump {
  title: string;
  labels: { name: string; text: string | null; showing: boolean }[];
  entries: { name: string; text: string | null; password: boolean; focused: boolean }[];
  buttons: { name: string; sensitive: boolean }[];
}

interface Reply {
  ok: boolean;
  error?: string;
  visible_at_ms: number;
  results: unknown[];
}

/** A long-lived python3 AT-SPI client, so each request costs no interpreter start-up. */
export class AtspiDriver {
  private readonly pending: ((line: string) => void)[] = [];
  /** Milliseconds from spawn to the window being visible and accessible, one per dialog first seen. */
  readonly startupMs: number[] = [];
  private readonly seen = new Set<number>();

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => this.pending.shift()?.(line));
  }

  /** Starts the driver and waits until AT-SPI answers. */
  static async start(): Promise<AtspiDriver> {
    const child = spawn(PYTHON, ['-W', 'ignore', DRIVER], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const driver = new AtspiDriver(child);
    const ready = await Promise.race([
      new Promise<string>((resolve) => driver.pending.push(resolve)),
      new Promise<string>((resolve) => child.once('exit', () => resolve(''))),
    ]);
    if (!ready.includes('"ready"')) throw new Error(`the AT-SPI driver did not start:\n${stderr}`);
    return driver;
  }

  /** Waits for the dialog's window, runs the steps and returns one result per step. */
  async run(dialog: DialogWindow, steps: Step[]): Promise<unknown[]> {
    const line = await new Promise<string>((resolve) => {
      this.pending.push(resolve);
      this.child.stdin.write(`${JSON.stringify({ pid: dialog.pid, steps })}\n`);
    });
    const reply = JSON.parse(line) as Reply;
    if (!reply.ok) throw new Error(`AT-SPI driver: ${reply.error ?? 'failed'}`);
    if (!this.seen.has(dialog.pid)) {
      this.seen.add(dialog.pid);
      if (dialog.spawnedAt !== undefined) this.startupMs.push(reply.visible_at_ms - dialog.spawnedAt);
    }
    return reply.results;
  }

  /** Every window showing on the display now, of any process (to count dialogs). */
  async windows(): Promise<Array<{ pid: number; title: string }>> {
    const line = await new Promise<string>((resolve) => {
      this.pending.push(resolve);
      this.child.stdin.write(`${JSON.stringify({ windows: true })}\n`);
    });
    const reply = JSON.parse(line) as { ok: boolean; error?: string; windows?: Array<{ pid: number; title: string }> };
    if (!reply.ok || !reply.windows) throw new Error(`AT-SPI driver: ${reply.error ?? 'no window list'}`);
    return reply.windows;
  }

  /** Shortcut: one dump of the window. */
  async dump(dialog: DialogWindow): Promise<WindowDump> {
    const [result] = await this.run(dialog, [{ op: 'dump' }]);
    return result as WindowDump;
  }

  /** Ends the driver. */
  close(): void {
    this.child.stdin.end();
  }
}

/** Saves a PNG of the dialog's window (found by its process id) and returns how many distinct colours it has. */
export async function screenshot(dialog: DialogRun, file: string): Promise<number> {
  const search = await execa('xdotool', ['search', '--onlyvisible', '--pid', String(dialog.pid)]);
  const window = search.stdout.split('\n')[0];
  if (!window) throw new Error('xdotool cannot see the dialog window');
  await execa('import', ['-window', window, file]);
  const colours = await execa('identify', ['-format', '%k', file]);
  return Number(colours.stdout);
}

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}
