import { Command } from 'commander';
import { checkName } from './check-name.js';
import { openCliAuditLog } from './audit.js';
import { configuredServer } from '../config/load.js';
import { loadConfigIfPresent } from './config-for-secrets.js';
import { writeLine, type CliContext } from './context.js';
import { readSecretValue } from './read-secret.js';
import { assertInjectableValue } from '../secrets/value-rules.js';

/** `mcp-keyproxy secrets set <server> <name>`: stores a value read from a hidden prompt or stdin, never argv. */
export function secretsSetCommand(ctx: CliContext): Command {
  return new Command('set')
    .description('store a secret in the keychain (hidden prompt on a terminal, else read from stdin)')
    .argument('<server>', 'server name')
    .argument('<name>', 'secret name, as in ${secret:NAME}')
    .option('-c, --config <file>', 'config file to check the name against')
    .action(async (server: string, name: string, options: { config?: string }) => {
      checkName(server, name);
      const config = await loadConfigIfPresent(ctx, options.config);
      const secrets = configuredServer(config, server)?.secrets;
      const declared = secrets && Object.hasOwn(secrets, name) ? secrets[name] : undefined;
      if (config && !declared) {
        writeLine(
          ctx.stderr,
          `warning: ${config.path} does not declare secret "${name}" for server "${server}"; it is stored, but only injected once the config references it.`,
        );
      }
      const value = await readSecretValue(ctx, `${declared?.label ?? name} for ${server} (input hidden): `);
      assertInjectableValue(name, value);
      const store = ctx.openStore();
      await store.set(server, name, value);
      openCliAuditLog(ctx).secretStored(server, name, 'cli');
      writeLine(ctx.stdout, `Stored ${name} for ${server} in the ${store.backend} keychain.`);
    });
}
