import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { binPath, repoRoot, waitFor } from './proxy.js';

/** Any python3 has the `pty` module; the Debian one is preferred, as for the AT-SPI driver. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const BRIDGE = join(repoRoot, 'test', 'helpers', 'pty-bridge.py');

/** The built CLI running on a real pseudo-terminal (test/helpers/pty-bridge.py). */
export interface PtySession {
  /** Everything the terminal showed so far (for `stderrOnly`: what the command wrote to stderr). */
  screen(): string;
  /** Types keys: each string is written at once (one key or one paste), the next after the screen answered. */
  type(...keys: string[]): Promise<void>;
  /** Waits (bounded) until the screen matches; throws with the screen when it does not. */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  /** The command's exit code (128 + n after signal n). */
  exited: Promise<number>;
  /** The bridge process: its stdin/stdout are the command's when `stderrOnly`. */
  process: ChildProcessWithoutNullStreams;
}

/** The escape sequences of a few keys, as an xterm-like terminal sends them. */
export const keys = {
  left: '\u001b[D',
  right: '\u001b[C',
  home: '\u001b[H',
  end: '\u001b[F',
  backspace: '\u007f',
  tab: '\t',
  enter: '\r',
  ctrlC: '\u0003',
  /** What a terminal in bracketed-paste mode sends for a paste of `text` (line breaks as carriage returns). */
  paste: (text: string) => `\u001b[200~${text.replace(/\r?\n/g, '\r')}\u001b[201~`,
};

/**
 * Starts `mcp-keyproxy <args>` on a pseudo-terminal: stdin, stdout and stderr all on it (a person at a shell), or
 * with `stderrOnly` only stderr (stdin and stdout are pipes, as when a client starts the proxy).
 */
export function startOnPty(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; stderrOnly?: boolean } = {}): PtySession {
  const bridgeArgs = [BRIDGE, ...(options.stderrOnly ? ['--stderr-only'] : []), '--', process.execPath, binPath, ...args];
  const child = spawn(PYTHON, bridgeArgs, { env: options.env ?? process.env, cwd: options.cwd ?? repoRoot });
  let screen = '';
  const terminal = options.stderrOnly ? child.stderr : child.stdout;
  terminal.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  if (!options.stderrOnly) child.stderr.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return {
    screen: () => screen,
    process: child,
    exited,
    async type(...typed: string[]) {
      for (const key of typed) {
        const before = screen.length;
        child.stdin.write(key);
        // One key per read, as from a person: the next key goes once the prompt has redrawn for this one.
        await waitFor(() => screen.length > before, 5000);
      }
    },
    async waitFor(pattern: RegExp, ms = 15_000) {
      if (!(await waitFor(() => pattern.test(screen), ms))) {
        throw new Error(`the terminal never showed ${String(pattern)}; it showed:\n${JSON.stringify(screen)}`);
      }
    },
  };
}
