import type { ServerConfig } from '../../config/schema.js';
import { KeyproxyError } from '../../errors.js';
import { OP_TOKEN_ENTRY } from '../../sources/source.js';
import { namesByKind, sourceRequests } from '../../sources/server-sources.js';
import type { ServeDeps } from './deps.js';

/** What reading a server's sourced secrets needs from the serve dependencies. */
export type SourceValueDeps = Pick<ServeDeps, 'store' | 'audit' | 'logger' | 'scrubber' | 'sourceEnv'>;

/**
 * Reads those of `names` that have a `"from"` source, all at once, audited by kind (names only). The keychain is
 * touched only for an op:// reference with no OP_SERVICE_ACCOUNT_TOKEN in the environment (the token kept there);
 * that token is scrubbed like an injected value.
 */
export async function readSourceValues(
  deps: SourceValueDeps,
  serverName: string,
  server: ServerConfig,
  names: readonly string[],
): Promise<Map<string, string>> {
  const requests = sourceRequests(server, names);
  if (requests.length === 0) return new Map();
  // Loaded only for a server with sources: the readers pull in execa, which a plain start should not pay for.
  const { readSources } = await import('../../sources/read-sources.js');
  const values = await readSources(serverName, requests, {
    env: deps.sourceEnv ?? process.env,
    logger: deps.logger,
    scrub: (text) => deps.scrubber.scrub(text, 'log'),
    opToken: async () => {
      const token = await deps.store.get(OP_TOKEN_ENTRY.server, OP_TOKEN_ENTRY.name);
      if (token !== null) {
        deps.scrubber.add(`${OP_TOKEN_ENTRY.server}/${OP_TOKEN_ENTRY.name}`, token);
        deps.audit.secretRead(OP_TOKEN_ENTRY.server, [OP_TOKEN_ENTRY.name], 'keychain');
      }
      return token;
    },
  });
  for (const [kind, read] of namesByKind(requests)) deps.audit.secretRead(serverName, read, kind);
  return values;
}

/** The keychain's values for `names`; when it cannot be reached, the error also says which secrets need it. */
export async function readKeychainValues(
  deps: Pick<ServeDeps, 'store'>,
  serverName: string,
  names: readonly string[],
): Promise<Map<string, string>> {
  if (names.length === 0) return new Map();
  try {
    const stored = await deps.store.getAll(serverName);
    return new Map([...stored].filter(([name]) => names.includes(name)));
  } catch (error) {
    if (!(error instanceof KeyproxyError) || error.code !== 'KEYCHAIN_UNAVAILABLE') throw error;
    const which = `Server "${serverName}" keeps ${names.join(', ')} in the keychain, so it needs one (or give ${names.length === 1 ? 'that secret' : 'those secrets'} a "from" source: env:, file:, credential:, a command or op://).`;
    throw new KeyproxyError(error.code, `${error.message}\n${which}`, { cause: error });
  }
}
