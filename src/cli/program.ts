import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import { Scrubber } from '../log/scrubber.js';
import { auditCommand } from './audit.js';
import { authCommand } from './auth.js';
import { clientsCommand } from './clients.js';
import { consentCommand } from './consent.js';
import type { CliContext } from './context.js';
import { doctorCommand } from './doctor.js';
import { enableCommands } from './enable.js';
import { installCommand } from './install.js';
import { migrateCommand } from './migrate.js';
import { runCommand } from './run.js';
import { reportFailure, scrubbedContext } from './scrubbed-context.js';
import { secretsClearCommand } from './secrets-clear.js';
import { secretsDeleteCommand } from './secrets-delete.js';
import { secretsListCommand } from './secrets-list.js';
import { secretsRefreshCommand } from './secrets-refresh.js';
import { secretsStatusCommand } from './secrets-status.js';
import { secretsSetCommand } from './secrets-set.js';
import { serversCommand } from './servers.js';
import { trustCommand } from './trust.js';
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
      .addCommand(secretsClearCommand(ctx))
      .addCommand(secretsRefreshCommand(ctx))
      .addCommand(secretsStatusCommand(ctx)),
  );
  program.addCommand(authCommand(ctx));
  program.addCommand(consentCommand(ctx));
  program.addCommand(doctorCommand(ctx, setExitCode));
  program.addCommand(auditCommand(ctx));
  program.addCommand(migrateCommand(ctx));
  program.addCommand(undoCommand(ctx, setExitCode));
  program.addCommand(installCommand(ctx));
  program.addCommand(clientsCommand(ctx));
  program.addCommand(serversCommand(ctx));
  for (const command of enableCommands(ctx)) program.addCommand(command);
  program.addCommand(trustCommand(ctx));
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
    return reportFailure(ctx.stderr, error);
  }
}
