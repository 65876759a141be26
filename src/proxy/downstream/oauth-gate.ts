import { isLocalServer } from '../../config/types.js';
import { loginRequiredError } from '../../oauth/provider.js';
import type { ServeDeps, ServeOptions } from './deps.js';

/**
 * True when the server needs an OAuth login before it can start: its config has `auth`, and the keychain holds no
 * tokens that are valid or can be renewed. Headless, that is an error naming `mcp-keyproxy auth login <server>`.
 */
export async function needsLogin(options: ServeOptions, deps: Pick<ServeDeps, 'oauth'>): Promise<boolean> {
  const { serverName, server } = options;
  const session = isLocalServer(server) ? undefined : await deps.oauth?.get(serverName, server);
  if (!session || (await session.canRunWithoutBrowser())) return false;
  if (options.headless) throw loginRequiredError(serverName, 'the keychain holds no usable tokens for it, and --headless opens no browser');
  return true;
}
