import type { Scrubber } from '../log/scrubber.js';
import type { CliContext } from './context.js';
import { plainRunArgs } from './plain-run-args.js';
import { runServer } from './serve-run.js';
import { reportFailure, scrubbedContext } from './scrubbed-context.js';

/**
 * Runs `run [server]` without loading commander or the other commands, when `argv` has the plain shape (see
 * `plainRunArgs`): what every client start does. Resolves with the exit code, or undefined when `argv` is for
 * commander (`runCli`). Runs in the same scrubbed context and reports errors the same way as `runCli`.
 */
export async function runPlain(argv: readonly string[], given: CliContext, scrubber: Scrubber): Promise<number | undefined> {
  const plain = plainRunArgs(argv);
  if (!plain) return undefined;
  const ctx = scrubbedContext(given, scrubber);
  try {
    return await runServer(ctx, plain.serverName, plain.options);
  } catch (error) {
    return reportFailure(ctx.stderr, error);
  }
}
