import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { RemoteServerConfig } from '../config/schema.js';
import { assertUrlAllowed } from '../config/url-policy.js';
import { withDeadline } from '../timing/deadline.js';
import { DISCOVERED_SETTINGS, discoveryCovers, oauthDiscoverable } from './discovered.js';
import type { OAuthSession } from './session.js';
import { oauthSettings, type OAuthSettings } from './settings.js';
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

/** How long the start of a server without `auth` waits for the keychain to say whether it holds a login of its own. */
const STORED_LOGIN_WAIT_MS = 1_000;

/** One OAuthSession per server and process, shared by the gate, the setup tool and the remote connector. */
export class OAuthSessions {
  private readonly sessions = new Map<string, OAuthSession>();
  /** Servers without `auth` whose MCP endpoint answered 401 with a Bearer challenge: its `WWW-Authenticate` value. */
  private readonly challenges = new Map<string, string>();
  /** Whether a server without `auth` has a login of its own in the keychain (read once per process). */
  private readonly storedLogins = new Map<string, Promise<boolean>>();

  constructor(
    private readonly records: OAuthStateStore,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The store of every server's OAuth state (for `auth status` and `auth logout`). */
  get store(): OAuthStateStore {
    return this.records;
  }

  /**
   * Records that a server without `auth` (see `oauthDiscoverable`) answered 401 with `WWW-Authenticate: Bearer …`:
   * from now on, in this process, it is an OAuth server like one configured with `"auth": "oauth"`, and its login
   * starts from that challenge (`resource_metadata`, `scope`).
   */
  discover(serverName: string, challenge: string): void {
    this.challenges.set(serverName, challenge);
    const session = this.sessions.get(serverName);
    if (session) noteChallenge(session, challenge);
  }

  /** True once `discover` was called for the server in this process. */
  isDiscovered(serverName: string): boolean {
    return this.challenges.has(serverName);
  }

  /**
   * The session of a server that uses OAuth, undefined for any other server. That is a server whose config has
   * `auth`; or one without `auth` and without a credential of its own that answered with a Bearer challenge
   * (`discover`), that holds a login of its own in the keychain (`hasStoredLogin`), or that `auth login` names
   * (`assume`). The OAuth code (the SDK's `auth()` and its schemas) is loaded only then, so a start without OAuth
   * never pays for it.
   */
  async get(serverName: string, server: RemoteServerConfig, options: { assume?: boolean } = {}): Promise<OAuthSession | undefined> {
    const settings = await this.settingsOf(serverName, server, options.assume ?? false);
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
      const challenge = this.challenges.get(serverName);
      if (challenge !== undefined) noteChallenge(session, challenge);
      this.sessions.set(serverName, session);
    }
    return session;
  }

  private async settingsOf(serverName: string, server: RemoteServerConfig, assume: boolean): Promise<OAuthSettings | undefined> {
    const configured = oauthSettings(server);
    if (configured) return configured;
    if (!oauthDiscoverable(server)) return undefined;
    if (assume || this.challenges.has(serverName)) return DISCOVERED_SETTINGS;
    let stored = this.storedLogins.get(serverName);
    if (!stored) {
      // A keychain that does not answer soon (locked) must not hold up the start of a server that may need no login:
      // it is then started without, and its challenge, if any, gates it.
      stored = withDeadline(this.hasStoredLogin(serverName, server.url), STORED_LOGIN_WAIT_MS, () => false).catch(() => false);
      this.storedLogins.set(serverName, stored);
    }
    return (await stored) ? DISCOVERED_SETTINGS : undefined;
  }

  /**
   * True when the keychain holds tokens of an earlier login of this server (one discovered from its challenge, or
   * `auth login`) whose discovery results were made for its URL now. Such a server starts as an OAuth server: its
   * first request carries the token, and no 401 has to come first. This is safe because the tokens are the ones
   * this server name logged in for (service mcp-keyproxy-oauth/<server>, written only by a login the user started),
   * they only ever go to the origin of the configured URL (`authFetch`), and the URL is checked against the stored
   * protected resource (`discoveryCovers`): after the entry is pointed at another server, the old tokens are not
   * sent there, and that server's own challenge decides. A refresh is bound to the issuer that issued them (the
   * SDK's check). Servers with a credential of their own never get here (`oauthDiscoverable`).
   */
  private async hasStoredLogin(serverName: string, url: string): Promise<boolean> {
    const [tokens, discovery] = await Promise.all([this.records.read(serverName, 'tokens'), this.records.read(serverName, 'discovery')]);
    return tokens !== undefined && discoveryCovers(discovery, url);
  }
}

/** Hands a recorded `WWW-Authenticate` value to the session as the answer it came in. */
function noteChallenge(session: OAuthSession, challenge: string): void {
  session.noteChallenge(new Response(null, { status: 401, headers: { 'www-authenticate': challenge } }));
}
