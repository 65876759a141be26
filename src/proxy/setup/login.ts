import { randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log/logger.js';
import { openUrl } from '../../browser/open-url.js';
import type { OAuthSession } from '../../oauth/session.js';
import { connectedText, toolText, type SetupCallExtra, type SetupServer } from './setup-server.js';

/** Everything the login flow of one `connect_<server>` call needs. */
export interface LoginFlowOptions {
  serverName: string;
  session: OAuthSession;
  setup: SetupServer;
  logger: Logger;
  /** Aborted when the proxy stops: the callback server must not outlive it. */
  stopSignal: AbortSignal;
  /** Starts the downstream once logged in; resolves with its tool names (and announces them). */
  start: () => Promise<string[]>;
  /** The login or the start failed after the tool call had answered: say why in the setup tool. */
  failedLater: (reason: string) => void;
}

/**
 * `connect_<server>` for a server that needs an OAuth login. The flow (the SDK's `auth()`: discovery, registration,
 * PKCE, the loopback callback) starts at once. A client with URL-mode elicitation is sent the authorization URL as
 * `elicitation/create` (`mode: "url"`); the call then answers when the server is connected, and
 * `notifications/elicitation/complete` follows. Any other client gets the URL in the tool result while the system
 * browser opens it; the server's tools arrive later with `list_changed`. Nothing here waits during `initialize`.
 */
export async function loginAndStart(options: LoginFlowOptions, extra: SetupCallExtra): Promise<CallToolResult> {
  const { serverName, session, setup, logger } = options;
  const urlMode = setup.clientHasUrlElicitation();
  const cancel = new AbortController();
  let shown: (url: URL) => void = () => undefined;
  const urlKnown = new Promise<URL>((resolve) => (shown = resolve));
  const done = session
    .login({
      signal: AbortSignal.any([options.stopSignal, cancel.signal]),
      show: async (url) => {
        shown(url);
        // With URL elicitation the client opens it (after asking its user); a second tab would only confuse.
        if (!urlMode) {
          await openUrl(url.href, {
            purpose: `Log in to server "${serverName}"`,
            write: (line) => logger.info({ server: serverName }, line),
          });
        }
      },
    })
    .then(() => options.start());
  done.catch(() => undefined);

  const first = await Promise.race([urlKnown, done.then(() => undefined)]).catch((error: unknown) => error as Error);
  if (first instanceof Error) return toolText(`Logging in to ${serverName} failed: ${first.message}`, true);
  if (first === undefined) return toolText(connectedText(serverName, await done));

  if (urlMode) {
    const elicitationId = randomUUID();
    const answer = await setup.server
      .elicitInput(
        {
          mode: 'url',
          elicitationId,
          url: first.href,
          message: `Log in to ${serverName} in your browser. mcp-keyproxy keeps the tokens in the OS keychain; they never pass through this chat.`,
        },
        { signal: extra.signal },
      )
      .catch((error: unknown) => ({ action: 'cancel' as const, error }));
    if (answer.action !== 'accept') {
      cancel.abort(new Error('login declined'));
      return toolText(`The login to ${serverName} was not accepted. Call connect_${serverName} to try again.`, true);
    }
    try {
      const tools = await done;
      await setup
        .createCompletionNotifier(elicitationId)()
        .catch(() => undefined);
      return toolText(connectedText(serverName, tools));
    } catch (error) {
      return toolText(`Logging in to ${serverName} failed: ${(error as Error).message}`, true);
    }
  }

  done.catch((error: unknown) => options.failedLater((error as Error).message));
  return toolText(
    `Log in to ${serverName} in your browser: a browser window should have opened on this computer. If it did not, open this URL yourself:\n${first.href}\nThe tools of ${serverName} will appear when the login is done (mcp-keyproxy keeps the tokens in the OS keychain).`,
  );
}
