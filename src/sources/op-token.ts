import type { SecretStore } from '../secrets/store.js';
import { OP_TOKEN_ENTRY } from './source.js';

/**
 * The `opToken` of the source readers: the 1Password service-account token kept in the keychain, handed to
 * `onToken` (to scrub it and audit its read) when there is one.
 */
export function opTokenFrom(store: Pick<SecretStore, 'get'>, onToken: (token: string) => void): () => Promise<string | null> {
  return async () => {
    const token = await store.get(OP_TOKEN_ENTRY.server, OP_TOKEN_ENTRY.name);
    if (token !== null) onToken(token);
    return token;
  };
}
