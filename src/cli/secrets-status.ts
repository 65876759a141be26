import { Command } from 'commander';
import type { ServerConfig } from '../config/schema.js';
import { cachePolicy, isCacheable } from '../sources/cache-policy.js';
import { formatDuration } from '../sources/duration.js';
import type { CacheEntry, SourceCache } from '../sources/source-cache.js';
import { describeSource } from '../sources/source.js';
import { checkName } from './check-name.js';
import { commandProfile, withProfileOption } from './profile-option.js';
import { cliSourceCache, serversOf, sourcedSecrets } from './cached-sources.js';
import { loadConfigIfPresent } from './config-for-secrets.js';
import { writeLine, type CliContext } from './context.js';

/** One row of `secrets status`: where a sourced secret stands, never its value. */
interface SourceStatus {
  server: string;
  name: string;
  source: string;
  /** Whether its values are cached (op:// and commands with a "ttl" above 0). */
  cached: boolean;
  /** When the cached value was read (ISO time), or null. */
  fetchedAt: string | null;
  ageSeconds: number | null;
  /** When it expires (ISO time), or null. */
  expiresAt: string | null;
  /** A cached value that has expired (used only when its source fails, as "stale" says). */
  stale: boolean;
  stalePolicy: 'fail' | 'warn' | 'use';
  /** The last failed read (its message: names and the fix, never a value), or null. */
  lastError: string | null;
  lastErrorAt: string | null;
}

/** `mcp-keyproxy secrets status [server] [--json]`: per sourced secret its source, age, expiry, staleness and last error. */
export function secretsStatusCommand(ctx: CliContext): Command {
  return withProfileOption(new Command('status'))
    .description('show where each sourced secret stands: source, cached age and expiry, stale or not, last error (never a value)')
    .argument('[server]', 'only this server')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (server: string | undefined, options: { config?: string; json?: boolean; profile?: string }) => {
      if (server !== undefined) checkName(server);
      const profile = commandProfile(ctx, options.profile);
      const servers = serversOf(await loadConfigIfPresent(ctx, options.config), server, 'status');
      const anyCached = servers.some(([, config]) => sourcedSecrets(config, true).length > 0);
      const cache = anyCached ? cliSourceCache(ctx, profile) : undefined;
      const now = Date.now();
      const rows = (await Promise.all(servers.map(([name, config]) => statusOf(cache, name, config, now)))).flat();
      if (options.json) {
        writeLine(ctx.stdout, JSON.stringify(rows, null, 2));
        return;
      }
      if (rows.length === 0) writeLine(ctx.stdout, 'No secret has a "from" source.');
      for (const row of rows) writeLine(ctx.stdout, line(row, now));
    });
}

async function statusOf(cache: SourceCache | undefined, server: string, config: ServerConfig, now: number): Promise<SourceStatus[]> {
  const requests = sourcedSecrets(config);
  if (requests.length === 0) return [];
  const policy = cachePolicy(config.cache);
  const entries: Map<string, CacheEntry> =
    cache && requests.some((request) => isCacheable(request.source)) ? await cache.entries(server) : new Map();
  return requests.map(({ secret, source }) => {
    const described = describeSource(source);
    const cached = isCacheable(source) && policy.ttlMs > 0;
    const found = entries.get(secret);
    const entry = cached && found?.source === described ? found : undefined;
    const fetchedAt = entry?.fetchedAt;
    return {
      server,
      name: secret,
      source: described,
      cached,
      fetchedAt: fetchedAt === undefined ? null : new Date(fetchedAt).toISOString(),
      ageSeconds: fetchedAt === undefined ? null : Math.round((now - fetchedAt) / 1000),
      expiresAt: fetchedAt === undefined ? null : new Date(fetchedAt + policy.ttlMs).toISOString(),
      stale: fetchedAt !== undefined && now - fetchedAt >= policy.ttlMs,
      stalePolicy: policy.stale,
      lastError: entry?.error ?? null,
      lastErrorAt: entry?.errorAt === undefined ? null : new Date(entry.errorAt).toISOString(),
    };
  });
}

function line(row: SourceStatus, now: number): string {
  const head = `${row.server}  ${row.name}  from ${row.source}`;
  let state: string;
  if (!row.cached) state = 'read at each start (not cached)';
  else if (row.fetchedAt === null) state = 'not cached yet';
  else {
    const expires = Date.parse(row.expiresAt!) - now;
    state = row.stale
      ? `STALE: read ${formatDuration((row.ageSeconds ?? 0) * 1000)} ago, expired ${formatDuration(-expires)} ago (stale: ${row.stalePolicy})`
      : `cached ${formatDuration((row.ageSeconds ?? 0) * 1000)} ago, expires in ${formatDuration(expires)}`;
  }
  const error = row.lastError ? `\n    last error (${row.lastErrorAt}): ${row.lastError.replace(/\n/g, ' ')}` : '';
  return `${head}  ${state}${error}`;
}
