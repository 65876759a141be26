import { Command } from 'commander';
import { closestName } from '../config/closest-name.js';
import { configuredServer } from '../config/load.js';
import type { LoadedConfig } from '../config/types.js';
import { KeyproxyError } from '../errors.js';
import { checkName } from './check-name.js';
import { secretsSetCommand as secretsSetHint } from '../secrets/hints.js';
import { commandProfile, inProfile, withProfileOption } from './profile-option.js';

import { openCliAuditLog } from './audit.js';
import { loadConfigIfPresent } from './config-for-secrets.js';
import { announceChange, writeLine, type CliContext } from './context.js';
import { readSecretValue } from './read-secret.js';
import { assertInjectableValue } from '../secrets/value-rules.js';

/** `mcp-keyproxy secrets set <server> <name>`: stores a value read from a hidden prompt or stdin, never argv. */
export function secretsSetCommand(ctx: CliContext): Command {
  return withProfileOption(new Command('set'))
    .description('store a secret in the keychain (hidden prompt on a terminal, else read from stdin)')
    .argument('<server>', 'server name')
    .argument('<name>', 'secret name, as in ${secret:NAME}')
    .option('-c, --config <file>', 'config file to check the name against')
    .option('--new-server', 'store it although the config has no such server, even one named like a configured one')
    .action(async (server: string, name: string, options: { config?: string; newServer?: boolean; profile?: string }) => {
      checkName(server, name);
      const profile = commandProfile(ctx, options.profile);
      const config = await loadConfigIfPresent(ctx, options.config);
      if (config && !configuredServer(config, server) && !options.newServer) noteUnknownServer(ctx, config, server, name, profile);
      const secrets = configuredServer(config, server)?.secrets;
      const declared = secrets && Object.hasOwn(secrets, name) ? secrets[name] : undefined;
      if (config && secrets && !declared) {
        const closest = closestName(name, Object.keys(secrets));
        writeLine(
          ctx.stderr,
          `warning: ${config.path} does not declare secret "${name}" for server "${server}"${closest ? ` (did you mean "${closest}"?)` : ''}; it is stored, but only injected once the config references it.`,
        );
      }
      const value = await readSecretValue(
        ctx,
        `${declared?.label ?? name} for ${server}${inProfile(profile)}`,
        secretsSetHint(server, name, profile),
      );
      assertInjectableValue(name, value);
      const store = ctx.openStore(profile);
      await store.set(server, name, value);
      openCliAuditLog(ctx, profile).secretStored(server, name, 'cli');
      await announceChange(ctx, [server]);
      writeLine(ctx.stdout, `Stored ${name} for ${server}${inProfile(profile)} in the ${store.backend} keychain.`);
    });
}

/**
 * A server the config does not have: a name close to a configured one is most often a typo, so it is refused with
 * that name; any other is stored with a plain note (an inline server, or one about to be added).
 */
function noteUnknownServer(ctx: CliContext, config: LoadedConfig, server: string, name: string, profile: string): void {
  const closest = closestName(server, Object.keys(config.servers));
  if (closest) {
    throw new KeyproxyError(
      'NOT_FOUND',
      `${config.path} has no server "${server}", so nothing was stored. A typo? Did you mean "${closest}"? Run: ${secretsSetHint(closest, name, profile)}. To store it under "${server}" anyway, add --new-server.`,
    );
  }
  writeLine(
    ctx.stderr,
    `note: ${config.path} has no server "${server}" (it has: ${Object.keys(config.servers).join(', ') || 'none'}); storing the value under "${server}" for \`run ${server} --secret ${name} -- <command>\`, or for the config once it has a server "${server}".`,
  );
}
