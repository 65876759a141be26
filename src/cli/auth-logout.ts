import { Command } from 'commander';
import { logout } from '../oauth/account.js';
import { policyFetch } from '../oauth/sessions.js';
import { clientKeyAuthentication } from '../oauth/private-key-jwt.js';
import { authRecords, loginSettings, oauthServer, readClientCredential } from './auth-session.js';
import { checkName } from './check-name.js';
import { writeLine, type CliContext } from './context.js';

/** `mcp-keyproxy auth logout <server>`: revokes (RFC 7009, where offered) and deletes the tokens. */
export function authLogoutCommand(ctx: CliContext): Command {
  return new Command('logout')
    .description('delete the OAuth tokens of a server from the keychain, revoking them first when the server supports it')
    .argument('<server>', 'server name from the config')
    .option('-c, --config <file>', 'config file')
    .option('--all', 'also forget the client registration and the discovery results')
    .action(async (serverName: string, options: { config?: string; all?: boolean }) => {
      checkName(serverName);
      const server = await oauthServer(ctx, serverName, options.config);
      const settings = loginSettings(server)!;
      const credential = await readClientCredential(ctx, serverName, settings, { required: false });
      const preRegistered = settings.client_id
        ? { client_id: settings.client_id, ...(credential.secret ? { client_secret: credential.secret } : {}) }
        : undefined;
      // The tokens are deleted whatever the key: one that cannot sign only leaves the revocation unauthenticated.
      let keyAuthentication;
      try {
        keyAuthentication = clientKeyAuthentication(serverName, settings, credential.privateKey);
      } catch (error) {
        writeLine(ctx.stderr, `warning: ${error instanceof Error ? error.message : String(error)}`);
      }
      const result = await logout(serverName, authRecords(ctx), policyFetch(serverName, server.allow_http), {
        preRegistered,
        keyAuthentication,
        all: options.all,
      });
      if (!result.deleted.includes('tokens')) {
        writeLine(ctx.stdout, `Not logged in to ${serverName}: no tokens were stored.`);
        return;
      }
      const revocation =
        result.revocation === 'revoked'
          ? 'revoked at the authorization server and deleted'
          : result.revocation === 'unsupported'
            ? 'deleted (the authorization server offers no revocation)'
            : `deleted; revoking them failed (${result.revocation.slice('failed: '.length)})`;
      writeLine(ctx.stdout, `Logged out of ${serverName}: its tokens were ${revocation}.`);
    });
}
