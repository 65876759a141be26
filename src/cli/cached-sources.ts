import type { LoadedConfig } from '../config/types.js';
import type { ServerConfig } from '../config/schema.js';
import { KeyproxyError } from '../errors.js';
import { isCacheable } from '../sources/cache-policy.js';
import type { SourceRequest } from '../sources/read-sources.js';
import { sourceRequests } from '../sources/server-sources.js';
import { SourceCache } from '../sources/source-cache.js';
import { findServer } from '../config/load.js';
import type { CliContext } from './context.js';

/** The servers `secrets refresh` and `secrets status` look at: the one named, or every server of the config. */
export function serversOf(config: LoadedConfig | undefined, server: string | undefined, command: string): Array<[string, ServerConfig]> {
  if (!config) {
    throw new KeyproxyError(
      'CONFIG_NOT_FOUND',
      `No config was found, and \`mcp-keyproxy secrets ${command}\` reads which sources to use from it. Pass --config <file>.`,
    );
  }
  if (server !== undefined) return [[server, findServer(config, server)]];
  return Object.entries(config.servers);
}

/** A server's secrets that have a `"from"` source, in config order; `cacheable`: only op:// and commands. */
export function sourcedSecrets(server: ServerConfig, cacheable = false): SourceRequest[] {
  return sourceRequests(server, Object.keys(server.secrets)).filter((request) => !cacheable || isCacheable(request.source));
}

/** The keychain cache of the CLI, or an error saying that this build has none (never the case from the bin). */
export function cliSourceCache(ctx: CliContext, profile?: string): SourceCache {
  const store = ctx.openCacheStore?.(profile);
  if (!store) throw new KeyproxyError('KEYCHAIN_UNAVAILABLE', 'No keychain cache is available in this context.');
  return new SourceCache(store);
}
