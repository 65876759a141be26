import type { ServerConfig } from '../../config/schema.js';
import { KeyproxyError } from '../../errors.js';
import { OP_TOKEN_ENTRY } from '../../sources/source.js';
import { namesByKind, sourceRequests } from '../../sources/server-sources.js';
import type { ServeDeps } from './deps.js';
import type { SecretOutcome } from '../../sources/cached-read.js';
import { formatDuration } from '../../sources/duration.js';
import { opTokenFrom } from '../../sources/op-token.js';
import { cachePolicy } from '../../sources/cache-policy.js';

/** What reading a server's sourced secrets needs from the serve dependencies. */
export type SourceValueDeps = Pick<
  ServeDeps,
  'store' | 'audit' | 'logger' | 'scrubber' | 'sourceEnv' | 'cacheStore' | 'cacheWrites' | 'sourceReads'
> &
  Partial<Pick<ServeDeps, 'clock'>>;

/**
 * Reads those of `names` that have a `"from"` source, all at once, through the keychain cache for op:// and
 * command sources (a fresh entry runs nothing), audited by kind (names only). When a source fails and an expired
 * value is cached, the server's `"stale"` policy decides (warned on stderr and audited unless "use"). The keychain
 * is also touched for an op:// reference with no OP_SERVICE_ACCOUNT_TOKEN in the environment (the token kept there);
 * that token is scrubbed like an injected value.
 */
export async function readSourceValues(
  deps: SourceValueDeps,
  serverName: string,
  server: ServerConfig,
  names: readonly string[],
  options: { force?: boolean } = {},
): Promise<Map<string, string>> {
  const requests = sourceRequests(server, names);
  if (requests.length === 0) return new Map();
  // Loaded only for a server with sources: the readers pull in execa, which a plain start should not pay for.
  const [{ readWithCache }, { SourceCache }, { throwFailures }] = await Promise.all([
    import('../../sources/cached-read.js'),
    import('../../sources/source-cache.js'),
    import('../../sources/read-sources.js'),
  ]);
  const policy = cachePolicy(server.cache);
  const { outcomes } = await readWithCache(
    serverName,
    requests,
    policy,
    {
      env: deps.sourceEnv ?? process.env,
      logger: deps.logger,
      scrub: (text) => deps.scrubber.scrub(text, 'log'),
      opToken: opTokenFrom(deps.store, (token) => {
        deps.scrubber.add(`${OP_TOKEN_ENTRY.server}/${OP_TOKEN_ENTRY.name}`, token);
        deps.audit.secretRead(OP_TOKEN_ENTRY.server, [OP_TOKEN_ENTRY.name], 'keychain');
      }),
      cache: deps.cacheStore && new SourceCache(deps.cacheStore),
      holdWrite: deps.cacheWrites && ((write) => deps.cacheWrites!.run(write)),
      now: () => deps.clock?.now() ?? Date.now(),
      onCacheProblem: (what, error) =>
        deps.logger.debug(
          { server: serverName, reason: error instanceof Error ? error.message : String(error) },
          `source cache ${what} failed`,
        ),
    },
    options,
  );
  deps.sourceReads?.(serverName, outcomes, policy);
  const failed = outcomes.filter((outcome) => outcome.how === 'failed');
  const staleRefused = failed.filter((outcome) => outcome.fetchedAt !== undefined).map((outcome) => outcome.secret);
  if (staleRefused.length > 0) deps.audit.secretStale(serverName, staleRefused, 'fail');
  throwFailures(failed.map((outcome) => outcome.error));
  const stale = outcomes.filter((outcome) => outcome.how === 'stale');
  if (stale.length > 0) {
    deps.audit.secretStale(
      serverName,
      stale.map((outcome) => outcome.secret),
      policy.stale,
    );
    if (policy.stale === 'warn') {
      for (const outcome of stale) deps.logger.warn({ server: serverName, secret: outcome.secret }, staleWarning(serverName, outcome));
    }
  }
  const fresh = outcomes.filter((outcome) => outcome.how === 'fresh').map((outcome) => outcome.secret);
  if (fresh.length > 0) deps.audit.secretRead(serverName, fresh, 'cache');
  const read = requests.filter((request) => outcomes.find((outcome) => outcome.secret === request.secret)?.how === 'read');
  for (const [kind, secrets] of namesByKind(read)) deps.audit.secretRead(serverName, secrets, kind);
  return new Map(outcomes.map((outcome) => [outcome.secret, outcome.value!]));
}

/** The warning for an expired cached value used because its source failed: which, how old, and why. */
export function staleWarning(serverName: string, outcome: SecretOutcome): string {
  const age = outcome.fetchedAt === undefined ? '' : ` read ${formatDuration(Date.now() - outcome.fetchedAt)} ago`;
  return `secret ${outcome.secret} of server "${serverName}": its source failed, so the expired cached value${age} is used. ${outcome.error?.message ?? ''}`.trim();
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
