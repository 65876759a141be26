import { Command } from 'commander';
import type { LoadedConfig } from '../config/types.js';
import { KeyproxyError } from '../errors.js';
import type { SecretStore } from '../secrets/store.js';
import { configuredServer } from '../config/load.js';
import { loadConfigIfPresent } from './config-for-secrets.js';
import { writeLine, type CliContext } from './context.js';
import { checkName } from './check-name.js';
import { commandProfile, withProfileOption } from './profile-option.js';
import { DEFAULT_PROFILE } from '../config/profile.js';
import { describeSource, parseSource } from '../sources/source.js';

/** One row of `secrets list`: a name and where it stands, never a value. */
interface SecretListing {
  server: string;
  name: string;
  stored: boolean;
  /** The config file that declares it, or null when no config declares it. */
  declaredIn: string | null;
  required: boolean | null;
  /** Where its value is read when not the keychain (its `"from"`, e.g. `env:CI_TOKEN`, `op://…`), else null. */
  source: string | null;
}

/** `mcp-keyproxy secrets list [server]`: names, whether stored, and where declared. */
export function secretsListCommand(ctx: CliContext): Command {
  return withProfileOption(new Command('list'))
    .description('list secret names (never values): stored, missing or the source they come from, and where declared')
    .argument('[server]', 'only this server')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (server: string | undefined, options: { config?: string; json?: boolean; profile?: string }) => {
      if (server !== undefined) checkName(server);
      const profile = commandProfile(ctx, options.profile);
      const config = await loadConfigIfPresent(ctx, options.config);
      const servers = server !== undefined ? [server] : Object.keys(config?.servers ?? {});
      if (servers.length === 0) {
        throw new KeyproxyError('USAGE', 'No config was found, so name the server: `mcp-keyproxy secrets list <server>`.');
      }
      const store = ctx.openStore(profile);
      const rows = (await Promise.all(servers.map((name) => listServer(store, config, name)))).flat();
      if (options.json) {
        const shown = profile === DEFAULT_PROFILE ? rows : rows.map((row) => ({ ...row, profile }));
        writeLine(ctx.stdout, JSON.stringify(shown, null, 2));
        return;
      }
      if (profile !== DEFAULT_PROFILE) writeLine(ctx.stdout, `profile: ${profile}`);
      if (rows.length === 0) writeLine(ctx.stdout, 'No secrets declared or stored.');
      for (const row of rows) {
        const state = row.source ? `from ${row.source}` : row.stored ? 'stored' : row.required === false ? 'missing (optional)' : 'MISSING';
        const where = row.declaredIn ? `declared in ${row.declaredIn}` : 'not declared in any config';
        writeLine(ctx.stdout, `${row.server}  ${row.name}  ${state}  ${where}`);
      }
    });
}

async function listServer(store: SecretStore, config: LoadedConfig | undefined, server: string): Promise<SecretListing[]> {
  const stored = new Set(await store.list(server));
  const declarations = configuredServer(config, server)?.secrets ?? {};
  const names = [...new Set([...Object.keys(declarations), ...stored])].sort();
  return names.map((name) => ({
    server,
    name,
    stored: stored.has(name),
    declaredIn: declarations[name] && config ? config.path : null,
    required: declarations[name]?.required ?? null,
    source: declarations[name]?.from === undefined ? null : describeSource(parseSource(declarations[name].from)),
  }));
}
