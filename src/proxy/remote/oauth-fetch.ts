import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../../log/logger.js';
import { openUrl } from '../../browser/open-url.js';
import type { RemoteServerConfig } from '../../config/schema.js';
import type { OAuthSession } from '../../oauth/session.js';
import { isBearerChallenge } from '../../oauth/discovered.js';
import { clientCredential, oauthSettings } from '../../oauth/settings.js';
import type { CredentialPlan } from '../downstream/credential-plan.js';

/** What the OAuth layer of one remote connection needs to know. */
export interface OAuthFetchOptions {
  serverName: string;
  server: RemoteServerConfig;
  logger: Logger;
  /** A browser may be opened: a 403 insufficient_scope then runs a login for the scopes the server names. */
  interactive: boolean;
}

/**
 * The guarded fetch with the server's OAuth on top: the access token on every request to the MCP endpoint,
 * renewed before expiry and after a 401 (under the cross-process lock), and a bounded step-up on 403
 * insufficient_scope when a browser may be opened (its URL is printed to stderr too). The pre-registered client's
 * secret or private key comes from the keychain with the server's other secrets.
 */
export function oauthFetch(session: OAuthSession, guarded: FetchLike, plan: CredentialPlan, options: OAuthFetchOptions): FetchLike {
  session.setClientCredential(clientCredential(oauthSettings(options.server), (name) => plan.values.get(name)));
  const stepUp = options.interactive
    ? async (scope: string): Promise<boolean> => {
        options.logger.info({ server: options.serverName, scope }, 'the server asks for more scopes: opening the browser to log in again');
        await session.login({
          scope,
          show: async (url) => {
            await openUrl(url.href, {
              purpose: `Server "${options.serverName}" needs more permissions (${scope})`,
              write: (line) => options.logger.warn({ server: options.serverName }, line),
            });
          },
        });
        return true;
      }
    : undefined;
  return session.authFetch(guarded, stepUp);
}

/**
 * The fetch of a server that may turn out to use OAuth (no `auth`, no credential of its own): passes everything
 * through, and hands the `WWW-Authenticate` value of a 401 with a Bearer challenge to `onChallenge`.
 */
export function challengeWatch(base: FetchLike, onChallenge: (challenge: string) => void): FetchLike {
  return async (input, init) => {
    const response = await base(input, init);
    if (response.status === 401) {
      const challenge = response.headers.get('www-authenticate');
      if (challenge !== null && isBearerChallenge(challenge)) onChallenge(challenge);
    }
    return response;
  };
}
