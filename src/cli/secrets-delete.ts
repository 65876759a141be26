import { Command } from 'commander';
import { KeyproxyError } from '../errors.js';
import { openCliAuditLog } from './audit.js';
import { announceChange, writeLine, type CliContext } from './context.js';
import { checkName } from './check-name.js';
import { profileFlag } from '../config/profile.js';
import { commandProfile, inProfile, withProfileOption } from './profile-option.js';

/** `mcp-keyproxy secrets delete <server> <name>`. */
export function secretsDeleteCommand(ctx: CliContext): Command {
  return withProfileOption(new Command('delete'))
    .description('remove one secret from the keychain')
    .argument('<server>', 'server name')
    .argument('<name>', 'secret name')
    .action(async (server: string, name: string, options: { profile?: string }) => {
      checkName(server, name);
      const profile = commandProfile(ctx, options.profile);
      if (!(await ctx.openStore(profile).delete(server, name))) {
        throw new KeyproxyError(
          'NOT_FOUND',
          `No secret "${name}" is stored for server "${server}"${inProfile(profile)}; nothing was deleted. See \`mcp-keyproxy secrets list ${server}${profileFlag(profile)}\`.`,
        );
      }
      openCliAuditLog(ctx, profile).secretDeleted(server, name, 'cli');
      await announceChange(ctx, [server]);
      writeLine(ctx.stdout, `Deleted ${name} for ${server}${inProfile(profile)}.`);
    });
}
