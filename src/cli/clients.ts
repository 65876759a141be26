import { Command } from 'commander';
import { inventory } from '../clients/inventory.js';
import { clientSetup } from './client-setup.js';
import { writeLine, type CliContext } from './context.js';

const label = { 'runs-proxy': 'runs mcp-keyproxy', 'plaintext-keys': 'PLAINTEXT KEYS', 'no-keys': 'no key' } as const;

/** `mcp-keyproxy clients`: the MCP client config files on this machine and what their entries hold (names only). */
export function clientsCommand(ctx: CliContext): Command {
  return new Command('clients')
    .description('list the MCP client config files found here, and which entries hold plaintext keys or run the proxy')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const found = await inventory(clientSetup(ctx, undefined).files);
      if (options.json) {
        writeLine(ctx.stdout, JSON.stringify(found, null, 2));
        return;
      }
      if (found.length === 0) writeLine(ctx.stdout, 'No MCP client config file found.');
      for (const file of found) {
        writeLine(ctx.stdout, `${file.client} (${file.scope}) ${file.path}${file.error ? `: ${file.error}` : ''}`);
        for (const entry of file.entries) {
          writeLine(ctx.stdout, `  ${entry.name}: ${label[entry.status]}${entry.keys.length > 0 ? ` (${entry.keys.join(', ')})` : ''}`);
        }
      }
    });
}
