import type { OAuthSettingsConfig, RemoteServerConfig } from '../config/schema.js';

/** A remote server's OAuth settings with `"auth": "oauth"` spelled out; undefined when it has no `auth`. */
export type OAuthSettings = OAuthSettingsConfig;

/** The server's OAuth settings, or undefined when its config does not ask for OAuth. */
export function oauthSettings(server: RemoteServerConfig): OAuthSettings | undefined {
  if (server.auth === undefined) return undefined;
  return server.auth === 'oauth' ? { grant: 'authorization_code' } : server.auth;
}

/** The secret name inside the settings' `client_secret: "${secret:NAME}"`, if any. */
export function clientSecretName(settings: OAuthSettings): string | undefined {
  return settings.client_secret ? /^\$\{secret:(.+)\}$/.exec(settings.client_secret)?.[1] : undefined;
}

/** The command a person runs to log in; named by every "login needed" error. */
export function loginCommand(serverName: string): string {
  return `mcp-keyproxy auth login ${serverName}`;
}
