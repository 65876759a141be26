import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { RemoteServerConfig } from '../config/schema.js';
import { assertUrlAllowed } from '../config/url-policy.js';
import type { OAuthSession } from './session.js';
import { oauthSettings } from './settings.js';
import type { OAuthStateStore } from './state.js';

/**
 * The fetch of requests to the authorization server and for discovery: the URL policy applies (https unless
 * loopback or `allow_http`) to every URL the SDK reaches, which metadata documents choose.
 */
export function policyFetch(serverName: string, allowHttp: boolean, base: FetchLike = fetch): FetchLike {
  return (input, init) => {
    assertUrlAllowed(new URL(input), { serverName, allowHttp });
    return base(input, init);
  };
}

/** One OAuthSession per server and process, shared by the gate, the setup tool and the remote connector. */
export class OAuthSessions {
  private readonly sessions = new Map<string, OAuthSession>();

  constructor(
    private readonly records: OAuthStateStore,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The store of every server's OAuth state (for `auth status` and `auth logout`). */
  get store(): OAuthStateStore {
    return this.records;
  }

  /**
   * The session of a server whose config has `auth`; undefined for any other server. The OAuth code (the SDK's
   * `auth()` and its schemas) is loaded only then, so a start without OAuth never pays for it.
   */
  async get(serverName: string, server: RemoteServerConfig): Promise<OAuthSession | undefined> {
    const settings = oauthSettings(server);
    if (!settings) return undefined;
    let session = this.sessions.get(serverName);
    if (!session) {
      const { OAuthSession } = await import('./session.js');
      session ??= this.sessions.get(serverName);
      if (session) return session;
      session = new OAuthSession({
        serverName,
        serverUrl: new URL(server.url),
        settings,
        records: this.records,
        fetch: policyFetch(serverName, server.allow_http),
        env: this.env,
      });
      this.sessions.set(serverName, session);
    }
    return session;
  }
}
