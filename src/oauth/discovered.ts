import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import { referencedSecretNames } from '../config/references.js';
import type { RemoteServerConfig } from '../config/schema.js';
import type { OAuthSettings } from './settings.js';

/** The settings of a server found to use OAuth without `auth` in its config: `"auth": "oauth"`'s. */
export const DISCOVERED_SETTINGS: OAuthSettings = { grant: 'authorization_code' };

/**
 * True when a 401 of the server can only mean "log in": a remote entry with no `auth`, no `${secret:…}` in its headers
 * or url and no Authorization header of any kind (a plain `{"url": …}`, as mcp-remote users have). A server with a
 * credential of its own that answers 401 has refused that credential: the fix is `secrets set`, not a login.
 */
export function oauthDiscoverable(server: RemoteServerConfig): boolean {
  if (server.auth !== undefined || referencedSecretNames(server).length > 0) return false;
  return !Object.keys(server.headers).some((name) => name.toLowerCase() === 'authorization');
}

/** True when a `WWW-Authenticate` value holds a Bearer challenge (RFC 6750 §3; the scheme is case-insensitive). */
export function isBearerChallenge(header: string | null | undefined): boolean {
  return header != null && /(?:^|,)\s*bearer(?:\s|,|$)/i.test(header);
}

/**
 * True when stored discovery results were made for `url`: the protected resource they name (RFC 9728 `resource`)
 * is `url`'s origin and a prefix of its path (the SDK's own rule for `resource`), or, for a server without resource
 * metadata, the authorization server the SDK then assumes (`url`'s origin) is the one recorded. Tokens of a login
 * made while the entry pointed elsewhere are not sent to a new URL under the same name.
 */
export function discoveryCovers(discovery: OAuthDiscoveryState | undefined, url: string): boolean {
  if (!discovery) return false;
  const target = new URL(url);
  const resource = discovery.resourceMetadata?.resource;
  if (resource === undefined) return sameOrigin(discovery.authorizationServerUrl, target);
  let named: URL;
  try {
    named = new URL(resource);
  } catch {
    return false;
  }
  if (named.origin !== target.origin) return false;
  const prefix = named.pathname.endsWith('/') ? named.pathname : `${named.pathname}/`;
  return target.pathname === named.pathname || `${target.pathname}/`.startsWith(prefix);
}

function sameOrigin(candidate: string | undefined, target: URL): boolean {
  try {
    return candidate !== undefined && new URL(candidate).origin === target.origin;
  } catch {
    return false;
  }
}
