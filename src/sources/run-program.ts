import { MAX_SOURCE_BYTES } from './text.js';

/** How a secret-printing program ended. */
export type ProgramRun =
  | { kind: 'ok'; stdout: string; stderr: string }
  | { kind: 'missing' }
  | { kind: 'timeout'; stderr: string }
  | { kind: 'too-large' }
  | { kind: 'failed'; exitCode: number | undefined; signal: string | undefined; stderr: string };

/** How long a source program may take by default (a vault that does not answer must not hold a start forever). */
export const SOURCE_TIMEOUT_MS = 20_000;

/** What a program gets beside its argv and environment. */
export interface ProgramInput {
  /** Written to its stdin (then closed); without it stdin is ignored. */
  stdin?: string;
  /** The most stdout it may print (default MAX_SOURCE_BYTES, one secret). */
  maxBytes?: number;
}

/**
 * Runs a program that prints a secret: no shell, stdin ignored (or given `input.stdin`), the given environment only,
 * a timeout, output bounded, and the child killed with the proxy. Never throws for how the program ended.
 */
export async function runProgram(
  argv: readonly [string, ...string[]],
  env: NodeJS.ProcessEnv,
  timeoutMs = SOURCE_TIMEOUT_MS,
  input: ProgramInput = {},
): Promise<ProgramRun> {
  const [file, ...args] = argv;
  // Loaded here, not at the top: most starts run no source program, and execa is a large part of the bundle.
  const { execa } = await import('execa');
  const result = await execa(file, args, {
    env,
    extendEnv: false,
    ...(input.stdin === undefined ? { stdin: 'ignore' as const } : { input: input.stdin }),
    reject: false,
    encoding: 'utf8',
    stripFinalNewline: false,
    cleanup: true,
    timeout: timeoutMs,
    forceKillAfterDelay: 1000,
    maxBuffer: input.maxBytes ?? MAX_SOURCE_BYTES,
    windowsHide: true,
  });
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';
  if ((result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return { kind: 'missing' };
  if (result.timedOut) return { kind: 'timeout', stderr };
  if (result.isMaxBuffer) return { kind: 'too-large' };
  if (result.failed) return { kind: 'failed', exitCode: result.exitCode, signal: result.signal, stderr };
  return { kind: 'ok', stdout: result.stdout, stderr };
}
