import { auth, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { startCallbackServer } from './callback-server.js';
import { withOAuthLock } from './lock.js';
import { KeychainOAuthProvider, loginRequiredError } from './provider.js';
import type { ClientCredential, OAuthSettings } from './settings.js';
import type { OAuthStateStore, StoredTokens } from './state.js';

/** What one server's OAuth session needs. */
export interface OAuthSessionOptions {
  serverName: string;
  /** The MCP endpoint: the protected resource. */
  serverUrl: URL;
  settings: OAuthSettings;
  records: OAuthStateStore;
  /** Every request to the authorization server goes through it (the guarded fetch: https rules, redirects). */
  fetch: FetchLike;
  /** The pre-registered client's secret or private key, if any. */
  credential?: ClientCredential;
  /** Where `MCP_KEYPROXY_RUNTIME_DIR` is read from (the lock). */
  env?: NodeJS.ProcessEnv;
}

/** How one login shows the authorization URL (opens a browser, sends a URL elicitation, prints it). */
export type ShowUrl = (url: URL) => Promise<void>;

/** Options of {@link OAuthSession.login}. */
export interface LoginOptions {
  show: ShowUrl;
  /** Scopes beyond the configured ones (a step-up); space-separated as in WWW-Authenticate. */
  scope?: string;
  signal?: AbortSignal;
  /** How long to wait for the browser to come back. */
  timeoutMs?: number;
  /** Log in again even when the keychain holds usable tokens (`auth login`); else another process's login counts. */
  force?: boolean;
}

/**
 * What the server said to a request without a usable token (`WWW-Authenticate: Bearer`, RFC 6750 §3 and RFC 9728
 * §5.1): where its protected-resource metadata is, and the scopes it wants.
 */
export interface Challenge {
  resourceMetadataUrl?: URL;
  scope?: string;
}

/** Seconds before expiry at which an access token is renewed: a fifth of its lifetime, at most 60 s. */
function renewMarginMs(tokens: StoredTokens): number {
  if (tokens.expires_at === undefined) return 0;
  return Math.min(60_000, Math.max(0, (tokens.expires_at - tokens.obtained_at) / 5));
}

/** True when the access token is past (or within its margin of) its expiry. */
export function isExpiring(tokens: StoredTokens, now = Date.now()): boolean {
  return tokens.expires_at !== undefined && now >= tokens.expires_at - renewMarginMs(tokens);
}

/** True when `granted` (space-separated) holds every scope of `wanted`. */
function coversScopes(granted: string | undefined, wanted: string | undefined): boolean {
  if (!wanted) return true;
  const have = new Set((granted ?? '').split(/\s+/).filter(Boolean));
  return wanted
    .split(/\s+/)
    .filter(Boolean)
    .every((scope) => have.has(scope));
}

/**
 * One remote server's OAuth: the SDK's `auth()` with our keychain-backed provider, plus what the SDK leaves to
 * its caller. Tokens are renewed before they expire and after a 401, under the cross-process lock of the server
 * (`withOAuthLock`), reading the keychain first: a process that waited finds the other one's new tokens and
 * spends no refresh token of its own. A login also runs under the lock, so a second process waits for the first
 * one's browser tab instead of opening its own.
 */
export class OAuthSession {
  readonly provider: KeychainOAuthProvider;
  private loaded: Promise<void> | undefined;
  /** Scopes a step-up was tried for in this process: never twice for the same (bounded step-up). */
  private readonly steppedUp = new Set<string>();
  /** The server's last challenge (a 401 or 403 of the MCP endpoint), for the next login's discovery and scopes. */
  private challenge: Challenge | undefined;

  constructor(private readonly options: OAuthSessionOptions) {
    this.provider = new KeychainOAuthProvider(options.serverName, options.settings, options.records, options.credential);
  }

  get serverName(): string {
    return this.options.serverName;
  }

  /** Sets the pre-registered client's secret or private key once it is read from the keychain. */
  setClientCredential(credential: ClientCredential): void {
    this.provider.setClientCredential(credential);
  }

  /** Keeps what a 401 / 403 answer of the MCP endpoint says in `WWW-Authenticate: Bearer …`, if anything. */
  noteChallenge(response: Response): void {
    const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(response);
    if (resourceMetadataUrl || scope)
      this.challenge = { ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}), ...(scope ? { scope } : {}) };
  }

  /**
   * The server's challenge: the one an answer already carried, else the answer to one request without a token (a
   * `tools/list`, which changes nothing on any server). The spec's discovery starts there: `resource_metadata` names
   * the protected-resource metadata (else the well-known paths), and `scope` the scopes to ask for.
   */
  async serverChallenge(): Promise<Challenge> {
    if (this.challenge) return this.challenge;
    try {
      const response = await this.options.fetch(this.options.serverUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 'mcp-keyproxy-auth-probe', method: 'tools/list' }),
        signal: AbortSignal.timeout(5_000),
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.status === 401 || response.status === 403) this.noteChallenge(response);
    } catch {
      // Unreachable now: discovery will say so with its own error.
    }
    return this.challenge ?? {};
  }

  /** Reads the keychain once (later reads happen under the lock, when tokens are renewed). */
  ensureLoaded(): Promise<void> {
    this.loaded ??= this.provider.load().catch((error: unknown) => {
      this.loaded = undefined;
      throw error;
    });
    return this.loaded;
  }

  /**
   * True when requests can be sent without a browser: tokens that are valid or can be renewed, or a
   * client_credentials client (which gets its tokens by itself).
   */
  async canRunWithoutBrowser(): Promise<boolean> {
    await this.ensureLoaded();
    if (this.provider.machine) return true;
    const tokens = this.provider.storedTokens;
    return tokens !== undefined && (tokens.refresh_token !== undefined || !isExpiring(tokens));
  }

  /** A usable access token, renewed first when it is about to expire; undefined when there is none. */
  async accessToken(): Promise<string | undefined> {
    await this.ensureLoaded();
    const tokens = this.provider.tokens();
    if (this.provider.machine && !tokens) return this.renew(undefined);
    if (!tokens) return undefined;
    if (!isExpiring(tokens as StoredTokens)) return tokens.access_token;
    return this.renew(tokens.access_token);
  }

  /**
   * Under the lock: reads the keychain again; when it holds a token other than `rejected` that is not expiring (a
   * refresh or login by another process), that one is used. Else the SDK's `auth()` refreshes (or, for
   * client_credentials, asks for new tokens). A refusal becomes LOGIN_REQUIRED.
   */
  async renew(rejected: string | undefined): Promise<string> {
    return withOAuthLock(
      this.serverName,
      async () => {
        await this.provider.load();
        const stored = this.provider.tokens() as StoredTokens | undefined;
        if (stored && stored.access_token !== rejected && !isExpiring(stored)) return stored.access_token;
        if (!stored?.refresh_token && !this.provider.machine) {
          this.provider.markLoginNeeded();
          throw loginRequiredError(this.serverName, stored ? 'its access token expired and it has no refresh token' : 'it has no tokens');
        }
        try {
          const result = await auth(this.provider, { serverUrl: this.options.serverUrl, fetchFn: this.options.fetch });
          const fresh = this.provider.tokens();
          if (result !== 'AUTHORIZED' || !fresh) throw loginRequiredError(this.serverName, 'its tokens could not be renewed');
          return fresh.access_token;
        } catch (error) {
          this.provider.markLoginNeeded();
          throw error;
        }
      },
      { env: this.options.env },
    );
  }

  /**
   * The browser login (authorization code with PKCE S256, `resource`, state checked on a single-use loopback
   * callback), or the client_credentials grant. Runs under the lock: a process that waited for another one's login
   * uses its tokens (unless `force`) and opens no tab.
   */
  async login(options: LoginOptions): Promise<StoredTokens> {
    return withOAuthLock(
      this.serverName,
      async () => {
        await this.provider.load();
        this.loaded = Promise.resolve();
        const current = this.provider.storedTokens;
        if (!options.force && current && !isExpiring(current) && coversScopes(current.scope, options.scope)) return current;
        const challenge = await this.serverChallenge();
        const resourceMetadataUrl = challenge.resourceMetadataUrl;
        if (this.provider.machine) {
          await this.provider.invalidateCredentials('tokens');
          await auth(this.provider, {
            serverUrl: this.options.serverUrl,
            scope: options.scope ?? challenge.scope,
            resourceMetadataUrl,
            fetchFn: this.options.fetch,
          });
          return this.requireTokens();
        }
        const callback = await startCallbackServer(this.options.settings.callback_port);
        const stop = new AbortController();
        const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
        // Listening before the browser is sent: the authorization server may answer before show() returns.
        const code = callback.waitForCode(() => this.provider.expectedState, { timeoutMs: options.timeoutMs, signal });
        code.catch(() => undefined);
        try {
          let redirected = false;
          this.provider.beginLogin(callback.redirectUrl, async (url) => {
            redirected = true;
            await options.show(url);
          });
          // A step-up asks for what it has and what the server named; else the server's choice (WWW-Authenticate;
          // without one the SDK takes its metadata's scopes_supported), then the configured scopes (the provider's
          // client metadata).
          const scope = options.scope
            ? [...new Set([...(current?.scope ?? '').split(/\s+/), ...options.scope.split(/\s+/)])].filter(Boolean).join(' ')
            : challenge.scope;
          const first = await auth(this.provider, {
            serverUrl: this.options.serverUrl,
            scope,
            resourceMetadataUrl,
            fetchFn: this.options.fetch,
          });
          if (first === 'AUTHORIZED' || !redirected) {
            stop.abort();
            return this.requireTokens();
          }
          await auth(this.provider, {
            serverUrl: this.options.serverUrl,
            authorizationCode: await code,
            resourceMetadataUrl,
            fetchFn: this.options.fetch,
          });
          await this.options.records.delete(this.serverName, ['verifier']);
          return this.requireTokens();
        } finally {
          this.provider.endLogin();
          await callback.close();
        }
      },
      // A login waits for a person: another process's login may take as long as its browser does.
      { env: this.options.env, waitMs: (options.timeoutMs ?? 5 * 60_000) + 30_000 },
    );
  }

  /**
   * A fetch for the MCP endpoint that sends the current access token (renewed before expiry), retries once after a
   * 401 with a renewed token, and on 403 `insufficient_scope` runs `stepUp` for the scopes the server names, once
   * per scope set, then retries once. Requests elsewhere (discovery, the authorization server) get no token.
   */
  authFetch(base: FetchLike, stepUp?: (scope: string) => Promise<boolean>): FetchLike {
    const origin = this.options.serverUrl.origin;
    return async (input, init) => {
      const url = new URL(input);
      if (url.origin !== origin || url.pathname.startsWith('/.well-known/')) return base(input, init);
      const send = (token: string | undefined): Promise<Response> => {
        const headers = new Headers(init?.headers);
        if (token) headers.set('authorization', `Bearer ${token}`);
        else headers.delete('authorization');
        return base(input, { ...init, headers });
      };
      let token = await this.accessToken().catch(() => undefined);
      let response = await send(token);
      if (response.status === 401 || response.status === 403) this.noteChallenge(response);
      if (response.status === 401 && token) {
        const fresh = await this.renew(token).catch(() => undefined);
        if (fresh) {
          await response.body?.cancel();
          token = fresh;
          response = await send(token);
        }
      }
      if (response.status === 403 && stepUp) {
        const { error, scope } = extractWWWAuthenticateParams(response);
        if (error === 'insufficient_scope' && scope && !this.steppedUp.has(scope)) {
          this.steppedUp.add(scope);
          if (await stepUp(scope).catch(() => false)) {
            await response.body?.cancel();
            token = await this.accessToken().catch(() => undefined);
            response = await send(token);
          }
        }
      }
      return response;
    };
  }

  private requireTokens(): StoredTokens {
    const tokens = this.provider.storedTokens;
    if (!tokens) throw loginRequiredError(this.serverName, 'the authorization server gave no tokens');
    return tokens;
  }
}
