import { KeyproxyError } from '../errors.js';
import { characterLength, MIN_STORED_LENGTH } from '../log/scrubber.js';
import type { CliContext } from './context.js';

const MAX_SECRET_BYTES = 1024 * 1024;

/**
 * Reads a secret value: a hidden prompt on a terminal, otherwise all of stdin (one trailing newline dropped, as
 * `echo` adds it). Never from argv. Refuses an empty value, and one shorter than {@link MIN_STORED_LENGTH} characters.
 */
export async function readSecretValue(ctx: CliContext, prompt: string): Promise<string> {
  const value = ctx.stdin.isTTY ? await promptHidden(ctx, prompt) : await readAll(ctx.stdin);
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

function promptHidden(ctx: CliContext, prompt: string): Promise<string> {
  const { stdin, stderr } = ctx;
  stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: Error): void => {
      stdin.setRawMode?.(false);
      stdin.off('data', onData);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish();
        if (char === '\u0003') return finish(new KeyproxyError('USAGE', 'Cancelled; nothing was stored.'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.setRawMode?.(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}
