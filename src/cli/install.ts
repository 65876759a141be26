import { Command, Option } from 'commander';
import { install } from '../clients/install.js';
import { stampNow } from '../clients/record.js';
import { findServer, loadConfig } from '../config/load.js';
import { KeyproxyError } from '../errors.js';
import { clientSetup, confirmer, launcher } from './client-setup.js';
import { writeLine, type CliContext } from './context.js';

/** `mcp-keyproxy install`: adds a client entry that runs the proxy for a server of the proxy config. */
export function installCommand(ctx: CliContext): Command {
  return new Command('install')
    .description('add to an MCP client an entry that runs the proxy for a server of the proxy config (idempotent)')
    .argument('[server]', 'server of the proxy config')
    .option('--all', 'every enabled server of the proxy config')
    .requiredOption('--client <name>', 'claude-desktop, claude-code, cursor, vscode, windsurf, codex or gemini')
    .addOption(
      new Option('--scope <scope>', 'the user file, or the project file in this directory').choices(['user', 'project']).default('user'),
    )
    .option('--dry-run', 'show what would change; change nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--npx', 'the entry runs "npx -y mcp-keyproxy" instead of this node and bin by absolute path')
    .option('-c, --config <file>', 'the proxy config (default: the user config dir)')
    .action(
      async (
        server: string | undefined,
        options: {
          all?: boolean;
          client: string;
          scope: 'user' | 'project';
          dryRun?: boolean;
          yes?: boolean;
          npx?: boolean;
          config?: string;
        },
      ) => {
        if ((server === undefined) === (options.all !== true)) throw new KeyproxyError('USAGE', 'name one server, or pass --all.');
        const setup = clientSetup(ctx, [options.client], options.config);
        const file = setup.files.find((candidate) => candidate.scope === options.scope);
        if (!file) throw new KeyproxyError('USAGE', `${options.client} has no ${options.scope} config file.`);
        const config = await loadConfig({ configPath: setup.configPath, env: ctx.env, cwd: ctx.cwd });
        const servers =
          server === undefined
            ? Object.entries(config.servers)
                .filter(([, s]) => s.enabled)
                .map(([name]) => name)
            : [server];
        for (const name of servers) findServer(config, name);
        await install(
          {
            file,
            servers,
            configPath: config.path,
            stateDir: setup.stateDir,
            launcher: launcher(options.npx),
            dryRun: options.dryRun === true,
            stamp: stampNow(),
          },
          { out: (line) => writeLine(ctx.stdout, line), confirm: confirmer(ctx, options.yes) },
        );
      },
    );
}
