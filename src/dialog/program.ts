import { execa, type Result } from 'execa';
import { isConfirmTemplate, type DialogOutcome, type DialogTemplate, type FormValues } from './template.js';

/** Options of one dialog request. */
export interface PromptOptions {
  /** Aborting kills the dialog process; the request then ends as `cancelled`. */
  signal?: AbortSignal;
  /** Called with the dialog's process id once it runs (tests drive the window by it; logs may name it). */
  onSpawn?: (pid: number) => void;
  /** The server the dialog is for; only named in the error that says no dialog can be shown. */
  server?: string;
  /** The credential profile, named in that error's `secrets set` commands. */
  profile?: string;
}

/** A program that speaks the native-dialog protocol (native-dialog/README.md). */
export interface ProgramSpec {
  file: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  windowsHide?: boolean;
}

/** A dialog outcome, or `unusable` when the program could not run at all (missing, not executable, no libs). */
export type ProgramOutcome = DialogOutcome | { kind: 'unusable'; message: string };

/** How long a dialog may ignore SIGTERM before it gets SIGKILL. */
const FORCE_KILL_MS = 1000;
/** Extra time past `timeout_s` before the proxy kills a dialog that failed to time out on its own. */
const TIMEOUT_GRACE_MS = 30_000;
const DEFAULT_TIMEOUT_S = 3600;
/** Exit codes of a program that never ran: 126 not executable, 127 not found or a shared library missing. */
const UNUSABLE_EXIT_CODES = new Set([126, 127]);
const UNUSABLE_ERRNOS = new Set(['ENOENT', 'EACCES', 'ENOEXEC', 'EPERM']);

/**
 * Starts a dialog process and waits for it. Shared by every platform: the template goes on stdin, values come
 * back on stdout, and the process dies with the request (`cancelSignal`) or with the proxy (`cleanup`).
 */
export function spawnDialog(
  spec: ProgramSpec,
  input: string,
  timeoutS: number | undefined,
  options: PromptOptions,
): Promise<Result<{ reject: false; encoding: 'utf8' }>> | undefined {
  if (options.signal?.aborted) return undefined;
  const child = execa(spec.file, spec.args, {
    input,
    env: spec.env,
    extendEnv: false,
    reject: false,
    encoding: 'utf8',
    stripFinalNewline: false,
    cleanup: true,
    cancelSignal: options.signal,
    forceKillAfterDelay: FORCE_KILL_MS,
    timeout: (timeoutS ?? DEFAULT_TIMEOUT_S) * 1000 + TIMEOUT_GRACE_MS,
    windowsHide: spec.windowsHide ?? true,
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  return child;
}

/** Runs a protocol program with the template on stdin and maps its exit to an outcome. */
export async function runDialogProgram(spec: ProgramSpec, template: DialogTemplate, options: PromptOptions): Promise<ProgramOutcome> {
  const running = spawnDialog(spec, JSON.stringify(template), template.timeout_s, options);
  if (!running) return { kind: 'cancelled' };
  const result = await running;
  const ended = endedEarly(result, spec.file);
  if (ended) return ended;
  if (result.exitCode === 1) return { kind: 'cancelled' };
  if (result.exitCode !== 0) {
    const reason = firstLine(result.stderr) || `it exited with code ${String(result.exitCode)}`;
    return { kind: 'failed', message: `the dialog failed: ${reason}` };
  }
  return parseProgramOutput(template, result.stdout);
}

/** The outcome of a process that ended without an exit code of its own: aborted, timed out, killed, not started. */
export function endedEarly(result: Result, file: string): ProgramOutcome | undefined {
  if (result.isCanceled) return { kind: 'cancelled' };
  if (result.timedOut) return { kind: 'failed', message: 'the dialog did not answer in time and was closed' };
  const errno = (result.cause as NodeJS.ErrnoException | undefined)?.code;
  if (result.exitCode === undefined && errno && UNUSABLE_ERRNOS.has(errno)) {
    return { kind: 'unusable', message: `cannot run ${file} (${errno})` };
  }
  if (result.exitCode !== undefined && UNUSABLE_EXIT_CODES.has(result.exitCode)) {
    return { kind: 'unusable', message: `cannot run ${file}: ${firstLine(result.stderr) || `exit ${result.exitCode}`}` };
  }
  if (result.exitCode === undefined) {
    const how = result.signal ? `it was killed by ${result.signal}` : 'it could not be started';
    return { kind: 'failed', message: `the dialog ended without an answer: ${how}` };
  }
  return undefined;
}

/** The first non-empty line of a program's stderr, trimmed and bounded. Never used on stdout: it holds values. */
export function firstLine(stderr: unknown): string {
  const text = typeof stderr === 'string' ? stderr : '';
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, 300);
}

/**
 * Checks the JSON a dialog printed: in form mode an object whose template keys are strings (unknown keys are
 * dropped, missing ones read as ""), in confirm mode a known decision. Errors never quote the output.
 */
export function parseProgramOutput(template: DialogTemplate, stdout: string): DialogOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return { kind: 'failed', message: 'the dialog printed something that is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { kind: 'failed', message: 'the dialog printed JSON that is not an object' };
  }
  const record = parsed as Record<string, unknown>;
  if (isConfirmTemplate(template)) {
    const decision = record['decision'];
    if (decision === 'once' || decision === 'session' || decision === 'always' || decision === 'deny')
      return { kind: 'confirmed', decision };
    return { kind: 'failed', message: 'the dialog printed no known decision' };
  }
  const entries: [string, string][] = [];
  for (const field of template.fields) {
    const value = Object.hasOwn(record, field.name) ? record[field.name] : '';
    if (typeof value !== 'string') {
      return { kind: 'failed', message: `the dialog printed a value of the wrong type for ${field.name}` };
    }
    entries.push([field.name, value]);
  }
  // fromEntries defines own properties, so even a secret named __proto__ stays a plain value.
  const values: FormValues = Object.fromEntries(entries);
  return { kind: 'submitted', values };
}
