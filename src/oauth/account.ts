import type { AddClientAuthentication } from '@modelcontextprotocol/sdk/client/auth.js';
import type { AuthorizationServerMetadata, OAuthClientInformationMixed } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OAuthStateStore, StoredTokens } from './state.js';

/** What `auth status` shows of one server: never a token. */
export interface OAuthStatus {
  server: string;
  loggedIn: boolean;
  /** ISO time the access token expires, when the server said. */
  expiresAt?: string;
  expired?: boolean;
  canRefresh: boolean;
  scopes: string[];
  /** The authorization server that issued the tokens. */
  issuer?: string;
  /** True when a registration (dynamic) is kept; a pre-registered client lives in the config. */
  registered: boolean;
}

/** One server's login, read from the keychain. */
export async function oauthStatus(server: string, records: OAuthStateStore, now = Date.now()): Promise<OAuthStatus> {
  const [tokens, client] = await Promise.all([records.read(server, 'tokens'), records.read(server, 'client')]);
  const expiresAt = tokens?.expires_at;
  return {
    server,
    loggedIn: tokens !== undefined,
    ...(expiresAt !== undefined ? { expiresAt: new Date(expiresAt).toISOString(), expired: now >= expiresAt } : {}),
    canRefresh: tokens?.refresh_token !== undefined,
    scopes: (tokens?.scope ?? '').split(/\s+/).filter(Boolean),
    ...(tokens?.issuer ? { issuer: tokens.issuer } : {}),
    registered: client !== undefined,
  };
}

/** What logging out did. */
export interface LogoutResult {
  /** Records deleted from the keychain (tokens, verifier, discovery; the client registration too with `all`). */
  deleted: string[];
  /** `revoked` when the server took the revocation (RFC 7009), `unsupported` when it offers none, else why not. */
  revocation: 'revoked' | 'unsupported' | 'none' | `failed: ${string}`;
}

/**
 * Revokes the tokens at the authorization server's revocation endpoint (RFC 7009: the refresh token, which ends
 * the grant, then the access token), when discovery found one, with the client's authentication.
 */
export async function revokeTokens(
  tokens: StoredTokens,
  endpoint: string,
  client: OAuthClientInformationMixed | undefined,
  fetchFn: FetchLike,
  methods: readonly string[] = [],
  /** The client's private_key_jwt authentication (RFC 7523), used instead of its secret; `metadata` goes with it. */
  keyAuthentication?: { authenticate: AddClientAuthentication; metadata?: AuthorizationServerMetadata },
): Promise<void> {
  // The method the server advertises for revocation (else for its token endpoint); HTTP Basic when it names none.
  const basic = methods.length === 0 || methods.includes('client_secret_basic');
  const hints: Array<[string, string]> = [];
  if (tokens.refresh_token) hints.push([tokens.refresh_token, 'refresh_token']);
  hints.push([tokens.access_token, 'access_token']);
  for (const [token, hint] of hints) {
    const body = new URLSearchParams({ token, token_type_hint: hint });
    const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded' });
    if (keyAuthentication) {
      await keyAuthentication.authenticate(headers, body, endpoint, keyAuthentication.metadata);
    } else if (client?.client_secret && basic) {
      headers.set(
        'authorization',
        `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`,
      );
    } else if (client) {
      body.set('client_id', client.client_id);
      if (client.client_secret) body.set('client_secret', client.client_secret);
    }
    const response = await fetchFn(endpoint, { method: 'POST', headers, body: body.toString() });
    await response.body?.cancel();
    // RFC 7009 §2.2: 200 also for a token the server no longer knows.
    if (!response.ok) throw new Error(`the revocation endpoint answered HTTP ${response.status}`);
  }
}

/** Deletes one server's tokens from the keychain, revoking them first where the server supports it. */
export async function logout(
  server: string,
  records: OAuthStateStore,
  fetchFn: FetchLike,
  options: { preRegistered?: OAuthClientInformationMixed; keyAuthentication?: AddClientAuthentication; all?: boolean } = {},
): Promise<LogoutResult> {
  const [tokens, client, discovery] = await Promise.all([
    records.read(server, 'tokens'),
    records.read(server, 'client'),
    records.read(server, 'discovery'),
  ]);
  let revocation: LogoutResult['revocation'] = 'none';
  if (tokens) {
    const metadata = discovery?.authorizationServerMetadata as
      | {
          revocation_endpoint?: string;
          revocation_endpoint_auth_methods_supported?: string[];
          token_endpoint_auth_methods_supported?: string[];
        }
      | undefined;
    const endpoint = metadata?.revocation_endpoint;
    if (!endpoint) revocation = 'unsupported';
    else {
      try {
        const methods = metadata?.revocation_endpoint_auth_methods_supported ?? metadata?.token_endpoint_auth_methods_supported ?? [];
        const keyAuthentication = options.keyAuthentication
          ? { authenticate: options.keyAuthentication, metadata: discovery?.authorizationServerMetadata }
          : undefined;
        await revokeTokens(tokens, endpoint, options.preRegistered ?? client, fetchFn, methods, keyAuthentication);
        revocation = 'revoked';
      } catch (error) {
        revocation = `failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
  }
  const deleted = await records.delete(server, options.all ? ['tokens', 'verifier', 'discovery', 'client'] : ['tokens', 'verifier']);
  return { deleted, revocation };
}
