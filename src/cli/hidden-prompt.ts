import { PassThrough, Writable } from 'node:stream';
import { KeyproxyError } from '../errors.js';
import type { CliContext } from './context.js';
import { PasteGuard, splitKeys } from './paste-guard.js';

/** Terminal sequences that turn bracketed paste on and off: the terminal then marks what is pasted. */
const BRACKETED_PASTE_ON = '\u001b[?2004h';
const BRACKETED_PASTE_OFF = '\u001b[?2004l';

/** How long input must stay quiet after a refused paste before the prompt lets go of the terminal. */
const PASTE_QUIET_MS = 200;
const PASTE_DRAIN_MAX_MS = 3000;

/**
 * Asks for a secret on the terminal with @inquirer/password (hidden input; the line editing keys of readline:
 * arrows, Home/End, backspace, delete, Ctrl-U/W). Control characters never end up in the value (Tab, a stray
 * escape byte). A pasted multi-line value is refused, not cut at its first line: the terminal's line breaks would
 * submit the first line and hand the rest to the shell; the advice quotes `command` reading a file instead. Ctrl-C
 * is `INTERRUPTED`.
 */
export async function promptHidden(ctx: CliContext, message: string, command: string): Promise<string> {
  // Loaded here, not at start: only an interactive `secrets set` needs it.
  const { default: password } = await import('@inquirer/password');
  const { stdin, stderr } = ctx;
  const controller = new AbortController();
  const guard = new PasteGuard(() => controller.abort());
  // readline reads the guarded copy of the terminal input; raw mode is the terminal's.
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    setRawMode: (mode: boolean) => stdin.setRawMode?.(mode),
  });
  let lastData = Date.now();
  const onData = (chunk: Buffer | string): void => {
    lastData = Date.now();
    for (const key of splitKeys(guard.filter(chunk.toString()))) input.write(key);
  };
  // Not stderr itself: inquirer ends the stream it writes to when the prompt is done.
  const output = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        stderr.write(chunk);
        callback();
      },
    }),
    { isTTY: true, columns: (stderr as { columns?: number }).columns ?? 80 },
  );
  stderr.write(BRACKETED_PASTE_ON);
  stdin.setRawMode?.(true);
  stdin.on('data', onData);
  stdin.resume();
  try {
    const value = await password({ message }, { input, output, signal: controller.signal });
    return value.replace(/\p{Cc}/gu, '');
  } catch (error) {
    if (guard.refused) {
      // The rest of an unmarked paste may still be arriving: read it here so it does not reach the shell.
      const started = Date.now();
      while (Date.now() - lastData < PASTE_QUIET_MS && Date.now() - started < PASTE_DRAIN_MAX_MS) {
        await new Promise((resolve) => setTimeout(resolve, PASTE_QUIET_MS / 4));
      }
      throw new KeyproxyError(
        'USAGE',
        `A value of several lines was pasted; nothing was stored. Pass a multi-line value (a PEM key) through stdin instead, which keeps every line: ${command} < key.pem`,
      );
    }
    if (error instanceof Error && error.name === 'ExitPromptError') {
      throw new KeyproxyError('INTERRUPTED', 'Cancelled (Ctrl-C); nothing was stored.');
    }
    throw error;
  } finally {
    stdin.off('data', onData);
    stdin.setRawMode?.(false);
    stdin.pause();
    stderr.write(BRACKETED_PASTE_OFF);
    input.end();
  }
}
