import { Command } from 'commander';
import { loadConfigIfPresent } from './config-for-secrets.js';
import { isLocalServer } from '../config/types.js';
import { oauthStatus } from '../oauth/account.js';
import { oauthDiscoverable } from '../oauth/discovered.js';
import { oauthSettings } from '../oauth/settings.js';
import { KeyproxyError } from '../errors.js';
import { authRecords } from './auth-session.js';
import { checkName } from './check-name.js';
import { writeLine, type CliContext } from './context.js';

/** `mcp-keyproxy auth status [server] [--json]`: logged in or not, expiry and scopes; never a token. */
export function authStatusCommand(ctx: CliContext): Command {
  return new Command('status')
    .description('show whether you are logged in to each OAuth server, when its access token expires and its scopes (never a token)')
    .argument('[server]', 'only this server')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (server: string | undefined, options: { config?: string; json?: boolean }) => {
      if (server !== undefined) checkName(server);
      const config = await loadConfigIfPresent(ctx, options.config);
      const remote = Object.entries(config?.servers ?? {}).flatMap(([name, entry]) => (isLocalServer(entry) ? [] : [{ name, entry }]));
      // Servers with "auth", and those without a credential of their own that logged in (from their 401 challenge).
      const plain =
        server === undefined ? remote.filter(({ entry }) => oauthSettings(entry) === undefined && oauthDiscoverable(entry)) : [];
      const plainRecords = plain.length > 0 ? authRecords(ctx) : undefined;
      const loggedInPlain = new Set(
        (await Promise.all(plain.map(async ({ name }) => ((await plainRecords!.list(name)).includes('tokens') ? [name] : [])))).flat(),
      );
      const names =
        server !== undefined
          ? [server]
          : remote.filter(({ name, entry }) => oauthSettings(entry) !== undefined || loggedInPlain.has(name)).map(({ name }) => name);
      if (names.length === 0 && server === undefined) {
        throw new KeyproxyError('USAGE', 'No server in the config uses OAuth ("auth"); name one: `mcp-keyproxy auth status <server>`.');
      }
      const records = authRecords(ctx);
      const rows = await Promise.all(names.map((name) => oauthStatus(name, records)));
      if (options.json) {
        writeLine(ctx.stdout, JSON.stringify(rows, null, 2));
        return;
      }
      for (const row of rows) {
        if (!row.loggedIn) {
          writeLine(ctx.stdout, `${row.server}  not logged in (mcp-keyproxy auth login ${row.server})`);
          continue;
        }
        const expiry = row.expiresAt ? `${row.expired ? 'expired' : 'expires'} ${row.expiresAt}` : 'no expiry given';
        const refresh = row.canRefresh ? 'renewable' : 'not renewable';
        writeLine(ctx.stdout, `${row.server}  logged in  ${expiry}  ${refresh}  scopes: ${row.scopes.join(' ') || '(none)'}`);
      }
    });
}
