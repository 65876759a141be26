import { randomBytes } from 'node:crypto';
import type { AddClientAuthentication, OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { KeyproxyError } from '../errors.js';
import { clientKeyAuthentication } from './private-key-jwt.js';
import { type ClientCredential, loginCommand, type OAuthSettings } from './settings.js';
import type { OAuthStateStore, StoredTokens } from './state.js';

/** What the provider does when the SDK wants the user's browser at the authorization server. */
export type RedirectHandler = (authorizationUrl: URL) => Promise<void>;

/** The error when a browser login is needed where none may be started (refresh failed, headless, a 401 mid-session). */
export function loginRequiredError(serverName: string, why: string): KeyproxyError {
  return new KeyproxyError(
    'LOGIN_REQUIRED',
    `Server "${serverName}" needs an OAuth login (${why}). Log in with:\n  ${loginCommand(serverName)}`,
  );
}

/** Placeholder redirect URI outside a login: never visited (refreshes and client_credentials need none). */
const IDLE_REDIRECT = 'http://127.0.0.1/callback';

/**
 * mcp-keyproxy's OAuthClientProvider for one server, driven by the SDK's `auth()`: everything it keeps (client
 * registration, tokens, PKCE verifier, discovery) goes to the OS keychain through `OAuthStateStore`, with an
 * in-memory copy so a request does not wait for the keychain. A browser is only ever sent anywhere while a login
 * has installed a redirect handler (`beginLogin`); otherwise a redirect is a "login required" error.
 */
export class KeychainOAuthProvider implements OAuthClientProvider {
  private cachedTokens: StoredTokens | undefined;
  private cachedClient: (OAuthClientInformationMixed & { issuer?: string }) | undefined;
  private cachedDiscovery: OAuthDiscoveryState | undefined;
  private verifier: string | undefined;
  private flowState: string | undefined;
  private login: { redirectUrl: string; onRedirect: RedirectHandler } | undefined;
  /** While a login runs, stored tokens are not offered to `auth()`: it must send the browser, not refresh. */
  private hideTokens = false;
  /** Set when the tokens were found unusable (refresh refused): none are offered until the next login. */
  private loginNeeded = false;
  /** The pre-registered client's secret (resolved from the keychain), if any. */
  private clientSecret: string | undefined;
  /** private_key_jwt authentication of the pre-registered client, when its config gives a private key. */
  private keyAuthentication: AddClientAuthentication | undefined;

  constructor(
    private readonly serverName: string,
    private readonly settings: OAuthSettings,
    private readonly records: OAuthStateStore,
    /** The pre-registered client's secret or private key (resolved from the keychain), if any. */
    credential: ClientCredential = {},
  ) {
    this.setClientCredential(credential);
  }

  /** Reads the stored state into memory (again: another process may have refreshed or logged in meanwhile). */
  async load(): Promise<void> {
    const [tokens, client, discovery] = await Promise.all([
      this.records.read(this.serverName, 'tokens'),
      this.settings.client_id ? undefined : this.records.read(this.serverName, 'client'),
      this.records.read(this.serverName, 'discovery'),
    ]);
    if (tokens?.access_token !== this.cachedTokens?.access_token) this.loginNeeded = false;
    this.cachedTokens = tokens;
    this.cachedClient = client;
    this.cachedDiscovery = discovery;
  }

  /**
   * Sets the pre-registered client's secret or private key once it is read. A private key is checked here (a
   * SECRET_INVALID or CONFIG_INVALID error that names no part of it), and its token requests are signed with it.
   */
  setClientCredential(credential: ClientCredential): void {
    this.clientSecret = credential.secret;
    this.keyAuthentication = clientKeyAuthentication(this.serverName, this.settings, credential.privateKey);
  }

  /**
   * The SDK's hook for the client's authentication at the token endpoint: a private_key_jwt assertion (RFC 7523)
   * when the client has a private key; otherwise undefined, and the SDK sends the client secret (or only the id).
   */
  get addClientAuthentication(): AddClientAuthentication | undefined {
    return this.keyAuthentication;
  }

  /** The stored tokens, whatever the state of a login. */
  get storedTokens(): StoredTokens | undefined {
    return this.cachedTokens;
  }

  /** The discovery results, once `auth()` ran. */
  get discovery(): OAuthDiscoveryState | undefined {
    return this.cachedDiscovery;
  }

  /** The client the tokens were issued to (pre-registered or registered). */
  get client(): OAuthClientInformationMixed | undefined {
    return this.clientInformation();
  }

  /** True for client_credentials: a machine client with no browser and no redirect. */
  get machine(): boolean {
    return this.settings.grant === 'client_credentials';
  }

  /** Lets the next `auth()` send the browser to the authorization server: the redirect goes to `onRedirect`. */
  beginLogin(redirectUrl: string, onRedirect: RedirectHandler): void {
    this.login = { redirectUrl, onRedirect };
    this.hideTokens = true;
  }

  /** Ends what `beginLogin` allowed. */
  endLogin(): void {
    this.login = undefined;
    this.hideTokens = false;
    this.flowState = undefined;
  }

  /** The state parameter of the login under way, for the callback's check. */
  get expectedState(): string | undefined {
    return this.flowState;
  }

  /** Marks the stored tokens as unusable (the server refused their refresh) until the next login or load. */
  markLoginNeeded(): void {
    this.loginNeeded = true;
  }

  get redirectUrl(): string | undefined {
    if (this.machine) return undefined;
    return this.login?.redirectUrl ?? this.registeredRedirect() ?? IDLE_REDIRECT;
  }

  get clientMetadata(): OAuthClientMetadata {
    const scope = this.settings.scopes?.join(' ');
    if (this.machine) {
      return {
        client_name: 'mcp-keyproxy',
        redirect_uris: [],
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: this.keyAuthentication ? 'private_key_jwt' : 'client_secret_basic',
        ...(scope ? { scope } : {}),
      };
    }
    return {
      client_name: 'mcp-keyproxy',
      redirect_uris: [this.redirectUrl ?? IDLE_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: !this.settings.client_id
        ? 'none'
        : this.keyAuthentication
          ? 'private_key_jwt'
          : this.clientSecret
            ? 'client_secret_basic'
            : 'none',
      ...(scope ? { scope } : {}),
    };
  }

  state(): string {
    this.flowState = randomBytes(24).toString('base64url');
    return this.flowState;
  }

  clientInformation(): (OAuthClientInformationMixed & { issuer?: string }) | undefined {
    if (this.settings.client_id) {
      return { client_id: this.settings.client_id, ...(this.clientSecret ? { client_secret: this.clientSecret } : {}) };
    }
    const client = this.cachedClient;
    // A registration made for another callback port does not cover this login's redirect URI: register again.
    if (client && this.login && 'redirect_uris' in client && Array.isArray(client.redirect_uris)) {
      if (!client.redirect_uris.map(String).includes(this.login.redirectUrl)) return undefined;
    }
    return client;
  }

  async saveClientInformation(information: OAuthClientInformationMixed): Promise<void> {
    if (this.settings.client_id) return; // pre-registered: the config is its home
    this.cachedClient = information;
    await this.records.write(this.serverName, 'client', information);
  }

  tokens(): OAuthTokens | undefined {
    if (this.hideTokens || this.loginNeeded) return undefined;
    return this.cachedTokens;
  }

  async saveTokens(tokens: OAuthTokens): Promise<void> {
    const now = Date.now();
    const stored: StoredTokens = {
      ...tokens,
      // A refresh that brings no new refresh token keeps the old one (RFC 6749 §6).
      ...(tokens.refresh_token || !this.cachedTokens?.refresh_token || this.hideTokens
        ? {}
        : { refresh_token: this.cachedTokens.refresh_token }),
      obtained_at: now,
      ...(typeof tokens.expires_in === 'number' ? { expires_at: now + tokens.expires_in * 1000 } : {}),
    };
    await this.records.write(this.serverName, 'tokens', stored);
    this.cachedTokens = stored;
    this.loginNeeded = false;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    if (!this.login) throw loginRequiredError(this.serverName, 'its tokens are missing or were refused');
    await this.login.onRedirect(authorizationUrl);
  }

  async saveCodeVerifier(codeVerifier: string): Promise<void> {
    this.verifier = codeVerifier;
    await this.records.write(this.serverName, 'verifier', codeVerifier);
  }

  async codeVerifier(): Promise<string> {
    const verifier = this.verifier ?? (await this.records.read(this.serverName, 'verifier'));
    if (!verifier) throw new KeyproxyError('LOGIN_REQUIRED', `No login of server "${this.serverName}" is under way; start it again.`);
    return verifier;
  }

  async invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): Promise<void> {
    const keys = (
      {
        all: ['tokens', 'client', 'verifier', 'discovery'],
        client: ['client'],
        tokens: ['tokens'],
        verifier: ['verifier'],
        discovery: ['discovery'],
      } as const
    )[scope];
    if (keys.includes('tokens' as never)) this.cachedTokens = undefined;
    if (keys.includes('client' as never)) this.cachedClient = undefined;
    if (keys.includes('discovery' as never)) this.cachedDiscovery = undefined;
    if (keys.includes('verifier' as never)) this.verifier = undefined;
    await this.records.delete(this.serverName, keys);
  }

  async saveDiscoveryState(state: OAuthDiscoveryState): Promise<void> {
    this.cachedDiscovery = state;
    await this.records.write(this.serverName, 'discovery', state);
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.cachedDiscovery;
  }

  prepareTokenRequest(scope?: string): URLSearchParams | undefined {
    if (!this.machine) return undefined;
    const params = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope) params.set('scope', scope);
    return params;
  }

  private registeredRedirect(): string | undefined {
    const client = this.cachedClient;
    const uris = client && 'redirect_uris' in client && Array.isArray(client.redirect_uris) ? client.redirect_uris : undefined;
    const first: unknown = uris?.[0];
    if (first !== undefined) return String(first);
    return this.settings.callback_port ? `http://127.0.0.1:${this.settings.callback_port}/callback` : undefined;
  }
}
