import { isLocalServer } from '../../config/types.js';
import { loginRequiredError } from '../../oauth/provider.js';
import { clientCredential, oauthSettings } from '../../oauth/settings.js';
import type { CredentialPlan } from './credential-plan.js';
import type { ServeDeps, ServeOptions } from './deps.js';

/**
 * True when the server needs an OAuth login before it can start: its config has `auth` (or, without `auth`, it
 * answered with a Bearer challenge or holds a login of its own: `OAuthSessions.get`), and the keychain holds no tokens
 * that are valid or can be renewed. Headless, that is an error naming `mcp-keyproxy auth login <server>`.
 * The session gets the pre-registered client's secret or private key from `plan` first: a login from `connect_<server>` sends it.
 */
export async function needsLogin(options: ServeOptions, deps: Pick<ServeDeps, 'oauth'>, plan?: CredentialPlan): Promise<boolean> {
  const { serverName, server } = options;
  const session = isLocalServer(server) ? undefined : await deps.oauth?.get(serverName, server);
  if (!session) return false;
  const settings = isLocalServer(server) ? undefined : oauthSettings(server);
  if (plan) session.setClientCredential(clientCredential(settings, (name) => plan.values.get(name)));
  if (await session.canRunWithoutBrowser()) return false;
  if (options.headless) throw loginRequiredError(serverName, 'the keychain holds no usable tokens for it, and --headless opens no browser');
  return true;
}
