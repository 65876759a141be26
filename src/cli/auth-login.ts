import { Command } from 'commander';
import { openUrl } from '../browser/open-url.js';
import { authRecords, oauthServer, openOAuthSession } from './auth-session.js';
import { oauthStatus } from '../oauth/account.js';
import { checkName } from './check-name.js';
import { writeLine, type CliContext } from './context.js';

/** `mcp-keyproxy auth login <server>`: the OAuth login in the browser; the tokens go to the keychain. */
export function authLoginCommand(ctx: CliContext): Command {
  return new Command('login')
    .description('log in to a remote server with OAuth in your browser; the tokens are kept in the OS keychain')
    .argument('<server>', 'server name from the config (its entry has "auth")')
    .option('-c, --config <file>', 'config file')
    .option('--scope <scopes>', 'ask for these scopes (space-separated) besides what the server names')
    .action(async (serverName: string, options: { config?: string; scope?: string }) => {
      checkName(serverName);
      const server = await oauthServer(ctx, serverName, options.config);
      const session = await openOAuthSession(ctx, serverName, server);
      await session.login({
        force: true,
        scope: options.scope,
        show: async (url) => {
          await openUrl(url.href, { purpose: `Log in to server "${serverName}"`, write: (line) => writeLine(ctx.stderr, line) });
        },
      });
      const status = await oauthStatus(serverName, authRecords(ctx));
      const until = status.expiresAt ? `, the access token expires at ${status.expiresAt}` : '';
      const scopes = status.scopes.length > 0 ? ` (scopes: ${status.scopes.join(' ')})` : '';
      writeLine(
        ctx.stdout,
        `Logged in to ${serverName}${scopes}${until}. The tokens are in the OS keychain (service mcp-keyproxy-oauth/${serverName}).`,
      );
    });
}
