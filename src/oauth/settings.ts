import type { OAuthSettingsConfig, RemoteServerConfig } from '../config/schema.js';

/** A remote server's OAuth settings with `"auth": "oauth"` spelled out; undefined when it has no `auth`. */
export type OAuthSettings = OAuthSettingsConfig;

/** The server's OAuth settings, or undefined when its config does not ask for OAuth. */
export function oauthSettings(server: RemoteServerConfig): OAuthSettings | undefined {
  if (server.auth === undefined) return undefined;
  return server.auth === 'oauth' ? { grant: 'authorization_code' } : server.auth;
}

/** The pre-registered client's credential, read from the keychain: its secret or its private key (PEM). */
export interface ClientCredential {
  secret?: string;
  privateKey?: string;
}

const referencedName = (reference: string | undefined): string | undefined =>
  reference ? /^\$\{secret:(.+)\}$/.exec(reference)?.[1] : undefined;

/** The secret name inside the settings' `client_secret: "${secret:NAME}"`, if any. */
export function clientSecretName(settings: OAuthSettings): string | undefined {
  return referencedName(settings.client_secret);
}

/** The secret name inside the settings' `private_key: "${secret:NAME}"`, if any. */
export function privateKeyName(settings: OAuthSettings): string | undefined {
  return referencedName(settings.private_key);
}

/** The client credential of the settings, its values looked up by secret name (undefined where there is none). */
export function clientCredential(settings: OAuthSettings | undefined, lookup: (name: string) => string | undefined): ClientCredential {
  const secretName = settings ? clientSecretName(settings) : undefined;
  const keyName = settings ? privateKeyName(settings) : undefined;
  const secret = secretName ? lookup(secretName) : undefined;
  const privateKey = keyName ? lookup(keyName) : undefined;
  return { ...(secret !== undefined ? { secret } : {}), ...(privateKey !== undefined ? { privateKey } : {}) };
}

/** The command a person runs to log in; named by every "login needed" error. */
export function loginCommand(serverName: string): string {
  return `mcp-keyproxy auth login ${serverName}`;
}
