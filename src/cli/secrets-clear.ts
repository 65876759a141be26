import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { KeyproxyError } from '../errors.js';
import { openCliAuditLog } from './audit.js';
import { writeLine, type CliContext } from './context.js';
import { checkName } from './check-name.js';

/** `mcp-keyproxy secrets clear <server>`: removes every secret of a server, after confirmation. */
export function secretsClearCommand(ctx: CliContext): Command {
  return new Command('clear')
    .description('remove every secret of a server (asks first on a terminal; --yes otherwise)')
    .argument('<server>', 'server name')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (server: string, options: { yes?: boolean }) => {
      checkName(server);
      const store = ctx.openStore();
      const names = await store.list(server);
      if (names.length === 0) {
        writeLine(ctx.stdout, `No secrets are stored for ${server}.`);
        return;
      }
      if (!options.yes && !(await confirm(ctx, `Delete ${names.length} secret(s) of ${server} (${names.join(', ')})? [y/N] `))) {
        writeLine(ctx.stdout, 'Nothing was deleted.');
        return;
      }
      const audit = openCliAuditLog(ctx);
      for (const name of names) {
        if (await store.delete(server, name)) audit.secretDeleted(server, name, 'cli');
      }
      writeLine(ctx.stdout, `Deleted ${names.length} secret(s) of ${server}: ${names.join(', ')}.`);
    });
}

async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  if (!ctx.stdin.isTTY) {
    throw new KeyproxyError('USAGE', 'Refusing to delete without confirmation: stdin is not a terminal. Add --yes.');
  }
  const readline = createInterface({ input: ctx.stdin, output: ctx.stderr });
  // Ctrl-C reaches readline as a key, not as a signal: it ends the question as an interruption.
  const interrupted = new AbortController();
  readline.once('SIGINT', () => interrupted.abort());
  try {
    return /^y(es)?$/i.test((await readline.question(question, { signal: interrupted.signal })).trim());
  } catch (error) {
    if (interrupted.signal.aborted) throw new KeyproxyError('INTERRUPTED', 'Cancelled (Ctrl-C); nothing was deleted.');
    throw error;
  } finally {
    readline.close();
  }
}
