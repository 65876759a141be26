import { findServer, loadConfig } from '../config/load.js';
import type { RemoteServerConfig } from '../config/schema.js';
import { isLocalServer } from '../config/types.js';
import { KeyproxyError } from '../errors.js';
import { OAuthSessions } from '../oauth/sessions.js';
import { DISCOVERED_SETTINGS, oauthDiscoverable } from '../oauth/discovered.js';
import { type ClientCredential, clientSecretName, oauthSettings, type OAuthSettings, privateKeyName } from '../oauth/settings.js';
import type { OAuthSession } from '../oauth/session.js';
import { OAuthStateStore } from '../oauth/state.js';
import { secretsSetCommand } from '../secrets/hints.js';
import type { CliContext } from './context.js';
import { commandProfile, inProfile } from './profile-option.js';

/** The OAuth state store of the `auth` commands, every token it handles registered with the stderr scrubber. */
export function authRecords(ctx: CliContext): OAuthStateStore {
  const store = ctx.openOAuthStore?.();
  if (!store) throw new KeyproxyError('KEYCHAIN_UNAVAILABLE', 'No keychain for OAuth state is available in this context.');
  return new OAuthStateStore(store, (label, value) => ctx.registerSecret?.(label, value));
}

/**
 * A remote server that can log in from the config: one with `auth`, or one with no credential of its own (a plain
 * `{"url": …}`, whose login starts from its 401 challenge, as the proxy's does); else a clear error naming what to add.
 */
export async function oauthServer(ctx: CliContext, serverName: string, configPath: string | undefined): Promise<RemoteServerConfig> {
  const config = await loadConfig({ configPath, env: ctx.env, cwd: ctx.cwd });
  const server = findServer(config, serverName);
  if (isLocalServer(server) || !loginSettings(server)) {
    throw new KeyproxyError(
      'USAGE',
      `Server "${serverName}" in ${config.path} does not use OAuth${isLocalServer(server) ? '' : ': it sends a credential of its own (a header or a secret in its url)'}. Add "auth": "oauth" to its entry (a remote server with "url").`,
    );
  }
  return server;
}

/** The OAuth settings a login of the server uses: its `auth`, or `"auth": "oauth"`'s for a server without a credential of its own. */
export function loginSettings(server: RemoteServerConfig): OAuthSettings | undefined {
  return oauthSettings(server) ?? (oauthDiscoverable(server) ? DISCOVERED_SETTINGS : undefined);
}

/**
 * The OAuth session of one configured server, with its pre-registered client's secret or private key read from the
 * keychain in the credential profile the environment names (MCP_KEYPROXY_PROFILE, MCP_CREDENTIAL_PROFILE), as `run`
 * reads it.
 */
export async function openOAuthSession(ctx: CliContext, serverName: string, server: RemoteServerConfig): Promise<OAuthSession> {
  const sessions = new OAuthSessions(authRecords(ctx), ctx.env);
  const session = (await sessions.get(serverName, server, { assume: true }))!;
  session.setClientCredential(await readClientCredential(ctx, serverName, loginSettings(server)!));
  return session;
}

/**
 * The pre-registered client's secret or private key from the keychain (in the environment's credential profile); one
 * the config names but the keychain lacks is an error naming the secrets set command, unless `required` is false.
 */
export async function readClientCredential(
  ctx: CliContext,
  serverName: string,
  settings: OAuthSettings,
  { required = true }: { required?: boolean } = {},
): Promise<ClientCredential> {
  const credential: ClientCredential = {};
  const profile = commandProfile(ctx, undefined);
  for (const [name, what, field] of [
    [clientSecretName(settings), 'client secret', 'secret'],
    [privateKeyName(settings), 'private key', 'privateKey'],
  ] as const) {
    if (!name) continue;
    const value = await ctx.openStore(profile).get(serverName, name);
    if (value === null && !required) continue;
    if (value === null) {
      throw new KeyproxyError(
        'SECRET_MISSING',
        `Server "${serverName}" names its OAuth ${what} \${secret:${name}}, which is not in the keychain${inProfile(profile)}. Store it with:\n  ${secretsSetCommand(serverName, name, profile)}`,
      );
    }
    credential[field] = value;
  }
  return credential;
}
