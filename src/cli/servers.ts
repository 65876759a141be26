import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { isLocalServer } from '../config/types.js';
import { describeSource, parseSource } from '../sources/source.js';
import { reportUntrusted } from './config-for-secrets.js';
import { writeLine, type CliContext } from './context.js';

/** One row of `servers`: a server of the catalog or of the project, never a value. */
interface ServerListing {
  name: string;
  kind: 'local' | 'remote';
  /** The file that defines it: the user config, or the project file for a project's own server. */
  definedIn: string;
  enabled: boolean;
  /** Each declared secret and where its value comes from: `keychain`, or its "from" (`env:CI_TOKEN`, `op://…`). */
  secrets: Array<{ name: string; source: string }>;
}

/** `mcp-keyproxy servers [--json]`: every server, where it is defined, enabled or not, and its secret sources. */
export function serversCommand(ctx: CliContext): Command {
  return new Command('servers')
    .description(
      'list the servers (the user config and the trusted project file): where each is defined, enabled or not, its secret sources',
    )
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (options: { config?: string; json?: boolean }) => {
      const config = await loadConfig({ configPath: options.config, env: ctx.env, cwd: ctx.cwd });
      reportUntrusted(ctx, config);
      const rows: ServerListing[] = Object.entries(config.servers).map(([name, server]) => ({
        name,
        kind: isLocalServer(server) ? 'local' : 'remote',
        definedIn: config.definedIn?.[name] ?? config.path,
        enabled: server.enabled,
        secrets: Object.entries(server.secrets).map(([secret, declaration]) => ({
          name: secret,
          source: declaration.from === undefined ? 'keychain' : describeSource(parseSource(declaration.from)),
        })),
      }));
      if (options.json) {
        const untrusted = (config.untrusted ?? []).map(({ path, kind, state }) => ({ path, kind, state }));
        writeLine(ctx.stdout, JSON.stringify({ config: config.path, project: config.project ?? null, untrusted, servers: rows }, null, 2));
        return;
      }
      writeLine(ctx.stdout, `config: ${config.path}${config.project ? `\nproject: ${config.project}` : ''}`);
      for (const row of rows) {
        const secrets = row.secrets.map((secret) => `${secret.name} (${secret.source})`).join(', ') || 'none';
        const where = row.definedIn === config.path ? '' : `  defined in ${row.definedIn}`;
        writeLine(ctx.stdout, `${row.enabled ? 'enabled ' : 'disabled'}  ${row.name} (${row.kind})  secrets: ${secrets}${where}`);
      }
    });
}
