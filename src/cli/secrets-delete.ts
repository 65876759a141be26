import { Command } from 'commander';
import { KeyproxyError } from '../errors.js';
import { openCliAuditLog } from './audit.js';
import { announceChange, writeLine, type CliContext } from './context.js';
import { checkName } from './check-name.js';

/** `mcp-keyproxy secrets delete <server> <name>`. */
export function secretsDeleteCommand(ctx: CliContext): Command {
  return new Command('delete')
    .description('remove one secret from the keychain')
    .argument('<server>', 'server name')
    .argument('<name>', 'secret name')
    .action(async (server: string, name: string) => {
      checkName(server, name);
      if (!(await ctx.openStore().delete(server, name))) {
        throw new KeyproxyError(
          'NOT_FOUND',
          `No secret "${name}" is stored for server "${server}"; nothing was deleted. See \`mcp-keyproxy secrets list ${server}\`.`,
        );
      }
      openCliAuditLog(ctx).secretDeleted(server, name, 'cli');
      await announceChange(ctx, [server]);
      writeLine(ctx.stdout, `Deleted ${name} for ${server}.`);
    });
}
