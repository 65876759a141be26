import { KeyproxyError } from '../errors.js';
import { characterLength, MIN_STORED_LENGTH } from '../log/scrubber.js';
import type { CliContext } from './context.js';
import { promptHidden } from './hidden-prompt.js';

const MAX_SECRET_BYTES = 1024 * 1024;

/**
 * Reads a secret value: a hidden prompt on a terminal (one line), otherwise all of stdin, every line kept (one
 * trailing newline dropped, as `echo` adds it). Never from argv. Refuses an empty value, and one shorter than
 * {@link MIN_STORED_LENGTH} characters. `command` is the command line that reads it, quoted in advice.
 */
export async function readSecretValue(ctx: CliContext, prompt: string, command: string): Promise<string> {
  const value = ctx.stdin.isTTY ? await promptHidden(ctx, prompt, command) : await readAll(ctx.stdin);
  if (value.length === 0) {
    throw new KeyproxyError('SECRET_INVALID', 'The value is empty; nothing was stored. Type or pipe the secret value.');
  }
  if (characterLength(value) < MIN_STORED_LENGTH) {
    throw new KeyproxyError(
      'SECRET_INVALID',
      `The value is shorter than ${MIN_STORED_LENGTH} characters; nothing was stored. The proxy replaces every value it injects in what servers send back, and a value this short would match ordinary text. Type or pipe the whole value (at least ${MIN_STORED_LENGTH} characters).`,
    );
  }
  return value;
}

async function readAll(stdin: CliContext['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_SECRET_BYTES) {
      throw new KeyproxyError('SECRET_INVALID', 'The value is larger than 1 MiB; nothing was stored.');
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
