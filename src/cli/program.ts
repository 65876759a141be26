import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { Command, CommanderError } from 'commander';
import { ExitCode, KeyproxyError } from '../errors.js';
import { Scrubber } from '../log/scrubber.js';
import { ReportingStore } from '../secrets/reporting-store.js';
import type { SecretStore } from '../secrets/store.js';
import { auditCommand } from './audit.js';
import { clientsCommand } from './clients.js';
import { consentCommand } from './consent.js';
import { writeLine, type CliContext } from './context.js';
import { doctorCommand } from './doctor.js';
import { installCommand } from './install.js';
import { migrateCommand } from './migrate.js';
import { runCommand } from './run.js';
import { secretsClearCommand } from './secrets-clear.js';
import { secretsDeleteCommand } from './secrets-delete.js';
import { secretsListCommand } from './secrets-list.js';
import { secretsSetCommand } from './secrets-set.js';
import { undoCommand } from './undo.js';
import { packageVersion } from '../version.js';

/**
 * Runs the CLI with `argv` (as `process.argv`) and resolves with the process exit code. Every value the store
 * reads or writes is added to `scrubber`, which cleans every line written to stderr, errors included.
 */
export async function runCli(argv: readonly string[], given: CliContext, scrubber: Scrubber = new Scrubber()): Promise<number> {
  const ctx = scrubbedContext(given, scrubber);
  let exitCode: number = ExitCode.ok;
  const setExitCode = (code: number): void => {
    exitCode = code;
  };
  const program = new Command('mcp-keyproxy')
    .description('Local stdio MCP proxy that keeps API keys in the OS keychain and injects them into MCP servers')
    .version(packageVersion, '-v, --version')
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    })
    .exitOverride();
  program.addCommand(runCommand(ctx, setExitCode));
  program.addCommand(
    new Command('secrets')
      .description('manage the secrets stored in the keychain')
      .addCommand(secretsSetCommand(ctx))
      .addCommand(secretsListCommand(ctx))
      .addCommand(secretsDeleteCommand(ctx))
      .addCommand(secretsClearCommand(ctx)),
  );
  program.addCommand(consentCommand(ctx));
  program.addCommand(doctorCommand(ctx, setExitCode));
  program.addCommand(auditCommand(ctx));
  program.addCommand(migrateCommand(ctx));
  program.addCommand(undoCommand(ctx, setExitCode));
  program.addCommand(installCommand(ctx));
  program.addCommand(clientsCommand(ctx));
  for (const command of [program, ...program.commands, ...program.commands.flatMap((command) => command.commands)]) {
    command.exitOverride();
  }

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof KeyproxyError) {
      writeLine(ctx.stderr, `mcp-keyproxy: ${error.message}`);
      return error.exitCode;
    }
    writeLine(ctx.stderr, `mcp-keyproxy: unexpected error: ${error instanceof Error ? error.message : String(error)}`);
    return ExitCode.failure;
  }
}

/** `ctx` with a store that registers every value it handles with `scrubber`, and a stderr that it scrubs. */
function scrubbedContext(ctx: CliContext, scrubber: Scrubber): CliContext {
  const known = new Set<string>();
  const register = (server: string, name: string, value: string): void => {
    const key = `${server}/${name}\u0000${value}`;
    if (known.has(key)) return;
    known.add(key);
    // Node's own errors quote a value as inspect() does (escaping control characters): scrub that spelling too.
    const quoted = inspect(value).slice(1, -1);
    try {
      scrubber.add(`${server}/${name}`, value);
      if (quoted !== value) scrubber.add(`${server}/${name}`, quoted);
    } catch (error) {
      // Too short to scrub: the proxy refuses to inject such a value, and a read or write must not fail here.
      if (!(error instanceof KeyproxyError)) throw error;
    }
  };
  let store: SecretStore | undefined;
  return {
    ...ctx,
    stderr: scrubbingStream(ctx.stderr, scrubber),
    openStore: () => (store ??= new ReportingStore(ctx.openStore(), register)),
  };
}

/**
 * A stream that writes each chunk, scrubbed, to `stream` at once (callers write whole lines). It completes every
 * write synchronously, so nothing waits in it when the process exits. stdout is not wrapped: for `run` it is the
 * JSON-RPC channel, which the proxy scrubs itself and whose backpressure must reach the proxy.
 */
function scrubbingStream(stream: Writable, scrubber: Scrubber): Writable {
  const scrubbed = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      stream.write(scrubber.scrub(typeof chunk === 'string' ? chunk : chunk.toString('utf8'), 'stderr'));
      callback();
    },
  });
  // readline (the confirmation of `secrets clear`) asks its output whether it is a terminal.
  Object.defineProperty(scrubbed, 'isTTY', { get: () => (stream as { isTTY?: boolean }).isTTY });
  return scrubbed;
}
