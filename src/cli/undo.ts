import { Command } from 'commander';
import { undo } from '../clients/undo.js';
import { checkClients, clientSetup, collect } from './client-setup.js';
import { writeLine, type CliContext } from './context.js';
import { ExitCode } from '../errors.js';

/** `mcp-keyproxy undo`: puts back the client files `migrate` and `install` changed. */
export function undoCommand(ctx: CliContext, setExitCode: (code: number) => void): Command {
  return new Command('undo')
    .description('put back, byte for byte, the client files migrate or install changed (if unchanged since)')
    .option('--client <name>', 'only this client (repeatable)', collect)
    .option('--all', 'every client (the default); the proxy config is put back too')
    .option('--purge', 'also delete from the keychain the keys migrate stored')
    .action(async (options: { client?: string[]; purge?: boolean }) => {
      const { stateDir } = clientSetup(ctx, undefined);
      const failures = await undo(
        { stateDir, clients: checkClients(options.client), purge: options.purge === true },
        { store: ctx.openStore(), out: (line) => writeLine(ctx.stdout, line) },
      );
      if (failures > 0) setExitCode(ExitCode.failure);
    });
}
