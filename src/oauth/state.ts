import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { SecretStore } from '../secrets/store.js';

/** Keychain service of one server's OAuth state: its own, beside `mcp-keyproxy/<server>`. */
export function oauthService(server: string): string {
  return `mcp-keyproxy-oauth/${server}`;
}

/** Tokens as kept: the server's answer plus when they were obtained and when the access token expires (ms). */
export interface StoredTokens extends OAuthTokens {
  obtained_at: number;
  expires_at?: number;
  /** The authorization server that issued them (the SDK stamps it). */
  issuer?: string;
}

/** What is kept per server, one keychain account each. */
export interface OAuthRecords {
  tokens: StoredTokens;
  client: OAuthClientInformationMixed & { issuer?: string };
  verifier: string;
  discovery: OAuthDiscoveryState;
}

/** Registers a value that must never be shown (a token, a client secret) with the scrubber; `label` is a name. */
export type SecretSink = (label: string, value: string) => void;

/**
 * One server's OAuth state in the OS keychain (never in a file): the client registration, the tokens, the PKCE
 * verifier of a flow under way and the discovery results, as JSON in accounts of service
 * `mcp-keyproxy-oauth/<server>`. The store given must be bound to that service (KeyringStore's `service`
 * option); every call of it has the store's timeout. Every token and client secret read or written is handed to
 * `sink` first, so no log line or message can carry it.
 */
export class OAuthStateStore {
  constructor(
    private readonly store: SecretStore,
    private readonly sink: SecretSink = () => undefined,
  ) {}

  /** One record, or undefined when absent or unreadable (a damaged record counts as absent: a new login fixes it). */
  async read<K extends keyof OAuthRecords>(server: string, key: K): Promise<OAuthRecords[K] | undefined> {
    const text = await this.store.get(server, key);
    if (text === null) return undefined;
    let value: OAuthRecords[K];
    try {
      value = JSON.parse(text) as OAuthRecords[K];
    } catch {
      return undefined;
    }
    this.register(server, key, value);
    return value;
  }

  /** Stores one record, replacing the previous one. */
  async write<K extends keyof OAuthRecords>(server: string, key: K, value: OAuthRecords[K]): Promise<void> {
    this.register(server, key, value);
    await this.store.set(server, key, JSON.stringify(value));
  }

  /** Deletes records; resolves with the ones that were there. */
  async delete(server: string, keys: ReadonlyArray<keyof OAuthRecords>): Promise<string[]> {
    const deleted: string[] = [];
    for (const key of keys) if (await this.store.delete(server, key)) deleted.push(key);
    return deleted;
  }

  /** Names of the records kept for a server. */
  list(server: string): Promise<string[]> {
    return this.store.list(server);
  }

  private register(server: string, key: keyof OAuthRecords, value: unknown): void {
    const label = (name: string): string => `${server}/oauth-${name}`;
    if (key === 'tokens') {
      const tokens = value as StoredTokens;
      if (tokens.access_token) this.sink(label('access-token'), tokens.access_token);
      if (tokens.refresh_token) this.sink(label('refresh-token'), tokens.refresh_token);
      if (tokens.id_token) this.sink(label('id-token'), tokens.id_token);
    } else if (key === 'client') {
      const secret = (value as { client_secret?: string }).client_secret;
      if (secret) this.sink(label('client-secret'), secret);
    } else if (key === 'verifier') {
      this.sink(label('verifier'), value as string);
    }
  }
}
