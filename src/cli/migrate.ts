import { Command } from 'commander';
import { migrate } from '../clients/migrate.js';
import { stampNow } from '../clients/record.js';
import { clientSetup, collect, confirmer, launcher } from './client-setup.js';
import { writeLine, type CliContext } from './context.js';

/** `mcp-keyproxy migrate`: moves the literal keys of MCP client configs into the keychain. */
export function migrateCommand(ctx: CliContext): Command {
  return new Command('migrate')
    .description('move the keys pasted into MCP client configs into the keychain and point the entries at the proxy')
    .option(
      '--client <name>',
      'only this client (repeatable): claude-desktop, claude-code, cursor, vscode, windsurf, codex, gemini',
      collect,
    )
    .option('--all', 'every client found (the default)')
    .option('--dry-run', 'show what would change, values masked; change nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--npx', 'rewritten entries run "npx -y mcp-keyproxy" instead of this node and bin by absolute path')
    .option('-c, --config <file>', 'the proxy config to add the servers to (default: the user config dir)')
    .action(async (options: { client?: string[]; dryRun?: boolean; yes?: boolean; npx?: boolean; config?: string }) => {
      const setup = clientSetup(ctx, options.client, options.config);
      const { parseConfig } = await import('../config/parse.js');
      await migrate(
        {
          ...setup,
          launcher: launcher(options.npx),
          dryRun: options.dryRun === true,
          stamp: stampNow(),
          validateProxyConfig: (text, file) => void parseConfig(text, file),
        },
        {
          store: ctx.openStore(),
          out: (line) => writeLine(ctx.stdout, line),
          confirm: confirmer(ctx, options.yes),
          step: pauseForTests(ctx),
        },
      );
    });
}

/**
 * Test hook: MCP_KEYPROXY_TEST_PAUSE_AT_STEP=n makes migrate stop for good after its n-th step that changes
 * something, saying so on stderr, so a test can SIGKILL it exactly there.
 */
function pauseForTests(ctx: CliContext): ((name: string) => Promise<void>) | undefined {
  const at = Number(ctx.env.MCP_KEYPROXY_TEST_PAUSE_AT_STEP);
  if (!Number.isInteger(at) || at <= 0) return undefined;
  let count = 0;
  return async (name) => {
    if (++count !== at) return;
    writeLine(ctx.stderr, `paused after step ${count} (${name})`);
    await new Promise<never>(() => setInterval(() => undefined, 60_000));
  };
}
