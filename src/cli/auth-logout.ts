import { Command } from 'commander';
import { logout } from '../oauth/account.js';
import { policyFetch } from '../oauth/sessions.js';
import { privateKeyJwtAuth, readClientKey } from '../oauth/private-key-jwt.js';
import { clientSecretName, privateKeyName } from '../oauth/settings.js';
import { authRecords, loginSettings, oauthServer } from './auth-session.js';
import { checkName } from './check-name.js';
import { writeLine, type CliContext } from './context.js';
import { commandProfile } from './profile-option.js';

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
      const store = ctx.openStore(commandProfile(ctx, undefined));
      const read = async (name: string | undefined) => (name ? ((await store.get(serverName, name)) ?? undefined) : undefined);
      const secret = await read(clientSecretName(settings));
      const keyName = privateKeyName(settings);
      const key = await read(keyName);
      const preRegistered = settings.client_id
        ? { client_id: settings.client_id, ...(secret ? { client_secret: secret } : {}) }
        : undefined;
      // The tokens are deleted whatever the key: one that cannot sign only leaves the revocation unauthenticated.
      let keyAuthentication;
      try {
        keyAuthentication =
          key && keyName && settings.client_id
            ? privateKeyJwtAuth(settings.client_id, readClientKey(serverName, keyName, key, settings.private_key_alg))
            : undefined;
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
