import { openAuditLog } from '../audit/open.js';
import { defaultConsentPath, fileConsentStore } from '../consent/file-store.js';
import { findServer } from '../config/load.js';
import type { CollectChannel, ServerConfig } from '../config/schema.js';
import { DEFAULT_PROFILE, resolveProfile } from '../config/profile.js';
import type { LoadedConfig } from '../config/types.js';
import { ExitCode, KeyproxyError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from '../log/levels.js';
import { createLogger, prettySink } from '../log/logger.js';
import { Scrubber } from '../log/scrubber.js';
import { OAuthSessions } from '../oauth/sessions.js';
import { OAuthStateStore } from '../oauth/state.js';
import { patternGuard } from '../proxy/core/pattern-guard.js';
import { enterProxyChain } from '../proxy/core/proxy-chain.js';
import { systemClock } from '../proxy/core/clock.js';
import { launchDownstream } from '../proxy/launch.js';
import type { ServeDeps, ServeOptions } from '../proxy/downstream/deps.js';
import { HeldWrites } from '../proxy/downstream/held-writes.js';
import { serveServer } from '../proxy/serve.js';
import { StdioFrontTransport } from '../proxy/wire/stdio-front-transport.js';
import { markStartup } from '../timing/startup-trace.js';
import { noteKeychainUse } from '../secrets/keychain-prefetch.js';
import { clearStoredSecrets, storageClearRequested } from '../secrets/storage-clear.js';
import { packageVersion } from '../version.js';
import type { CliContext } from './context.js';
import { isHeadless } from './headless.js';
import { configForRun, type InlineOptions } from './inline-server.js';

/**
 * What `mcp-keyproxy run` does once its arguments are parsed, by commander (run.ts) or by the bin's fast path
 * (plain-run.ts). Kept apart from the commander wiring so that a client's start never loads commander.
 */

/** The options of `run`. */
export interface RunOptions extends InlineOptions {
  headless?: boolean;
  collect?: CollectChannel;
  logLevel?: LogLevel;
  only?: string;
  profile?: string;
}

/** `run [server]` with its options parsed already: the bin's fast path (plain-run.ts), which loads no commander. */
export function runServer(
  ctx: CliContext,
  serverName: string | undefined,
  options: Pick<RunOptions, 'config' | 'headless' | 'logLevel' | 'collect' | 'profile'>,
): Promise<number> {
  return run(ctx, serverName, options, []);
}

/** `mcp-keyproxy run [server] [-- command…]`: the proxy itself, until it stops; resolves with the exit code. */
export async function run(ctx: CliContext, serverName: string | undefined, options: RunOptions, command: string[]): Promise<number> {
  const profile = resolveProfile(options.profile, ctx.env);
  const scrubber = new Scrubber({ profile });
  // Human-readable lines for a person at a terminal; JSON lines for a client (stderr is then a pipe).
  const sink = (ctx.stderr as { isTTY?: boolean }).isTTY ? await prettySink(scrubber, { colorize: !ctx.env.NO_COLOR }) : undefined;
  const logger = createLogger({ level: logLevel(options.logLevel, ctx.env), scrubber, sink });
  markStartup('configStart');
  const config = await configForRun(ctx, serverName, options, command);
  markStartup('configRead');
  for (const warning of config.warnings) logger.warn(warning);
  for (const file of config.untrusted ?? []) logger.warn(file.message);
  // Before anything starts: a server entry that runs this very proxy again is refused here, once.
  const parentEnv = enterProxyChain(ctx.env, `${config.path}#${serverName ?? (options.only ? `only:${options.only}` : '*')}`);
  if (serverName !== undefined && options.only !== undefined) {
    throw new KeyproxyError('USAGE', '--only selects servers when no server name is given; pass either a server name or --only.');
  }
  const headless = isHeadless(options.headless, ctx.env);
  if (profile !== DEFAULT_PROFILE) logger.info({ profile }, `credential profile ${profile}`);
  const audit = openAuditLog({
    env: ctx.env,
    profile,
    onError: (error) => logger.warn({ err: error }, 'the audit log cannot be written'),
  });
  scrubber.onhit = (hit) => audit.scrubHit(hit.server, hit.name, hit.where, hit.count);
  const cacheWrites = new HeldWrites();
  const deps: ServeDeps = {
    audit,
    consent: fileConsentStore(defaultConsentPath(ctx.env)),
    store: ctx.openStore(profile),
    cacheStore: ctx.openCacheStore?.(profile),
    cacheWrites,
    logger,
    scrubber,
    dialog: ctx.openDialog(profile),
    guard: patternGuard(
      Object.entries(config.servers).flatMap(([name, server]) => (server.block_secret_patterns ? [name] : [])),
      { audit, logger },
    ),
    openFront: async () => new StdioFrontTransport(ctx.stdin, ctx.stdout),
    oauth: oauthSessions(ctx, scrubber),
    launcher: launchDownstream,
    clock: systemClock,
    openBrowser: async (url) => {
      const { openUrl } = await import('../browser/open-url.js');
      // stdout is the protocol and stderr carries JSON log lines (which clients often keep in files): the log says
      // where the page listens, not its one-time path, which only the client and the browser get.
      const { origin } = new URL(url);
      await openUrl(url, { purpose: 'Enter the keys in the page', write: (line) => logger.info(line.replace(url, `${origin}/…`)) });
    },
    pageTtlMs: testPageTtl(ctx.env),
    noteKeychainUse: (server, asked) => noteKeychainUse(server, profile, ctx.env, asked),
  };
  const common = { headless, parentEnv, version: packageVersion, collect: options.collect, profile };
  const servers = serverName === undefined ? selectServers(config, options.only) : undefined;
  if (storageClearRequested(ctx.env)) {
    await clearAtStart(serverName === undefined ? servers!.map(([name]) => name) : [serverName], deps, ctx.env);
  }
  // What the start read from its sources is cached even when the proxy stops, or fails, right after it.
  return serveUntilStopped(ctx, serverName, servers, config, deps, common).finally(() => cacheWrites.flush());
}

/** Serves the one server or the aggregate until the proxy stops; resolves with its exit code. */
async function serveUntilStopped(
  ctx: CliContext,
  serverName: string | undefined,
  servers: Array<[string, ServerConfig]> | undefined,
  config: LoadedConfig,
  deps: ServeDeps,
  common: Omit<ServeOptions, 'serverName' | 'server'>,
): Promise<number> {
  const { logger, audit } = deps;
  const proxy =
    serverName === undefined
      ? await (
          await import('../proxy/aggregate/serve-aggregate.js')
        ).serveAggregate(
          {
            ...common,
            servers: servers!,
            separator: config.toolSeparator,
            notices: (config.untrusted ?? []).map((file) => file.message),
          },
          deps,
        )
      : await serveServer(
          { ...common, serverName, server: findServer(config, serverName), notices: (config.untrusted ?? []).map((file) => file.message) },
          deps,
        );

  // StdioFrontTransport does not close at the end of stdin: the client closing it means "stop".
  const stop = (reason: string) => () => {
    logger.info({ reason }, 'stopping');
    void proxy.stop();
  };
  ctx.stdin.once('end', stop('client closed stdin'));
  process.once('SIGTERM', stop('SIGTERM'));
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    stop('SIGINT')();
  });
  const exitCode = await proxy.finished;
  audit.close();
  return interrupted ? ExitCode.interrupted : exitCode;
}

/**
 * `SECRETS_STORAGE_CLEAR=true`: the stored secrets (and cached source values) of the servers this start serves are
 * deleted, audited, and other running proxies are told; the start then goes on as if they were never stored.
 */
async function clearAtStart(servers: readonly string[], deps: ServeDeps, env: NodeJS.ProcessEnv): Promise<void> {
  const cleared = await clearStoredSecrets(servers, deps, deps.audit, (server, error) =>
    deps.logger.warn({ server, reason: (error as Error).message }, `SECRETS_STORAGE_CLEAR: could not clear the secrets of "${server}"`),
  );
  deps.logger.info({ servers: cleared }, 'SECRETS_STORAGE_CLEAR: stored secrets deleted');
  if (cleared.length > 0) {
    const { touchChangeStamp } = await import('../secrets/change-stamp.js');
    await touchChangeStamp(cleared, env).catch(() => undefined);
  }
}

/** The servers `run` serves with no server name: the enabled ones, or those named by `--only`, in config order. */
function selectServers(config: LoadedConfig, only: string | undefined): Array<[string, ServerConfig]> {
  const names = only
    ?.split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  for (const name of names ?? []) findServer(config, name);
  const selected = Object.entries(config.servers).filter(([name, server]) => (names ? names.includes(name) : server.enabled));
  if (selected.length === 0) {
    throw new KeyproxyError(
      'CONFIG_INVALID',
      `no server to serve in ${config.path}: every server has "enabled": false. Enable one, or name it: mcp-keyproxy run <server>.`,
    );
  }
  return selected;
}

/**
 * `MCP_KEYPROXY_TEST_PAGE_TTL_MS`: a shorter life for key pages, for the tests of their expiry. It can only shorten
 * the 10 minutes (the page caps it).
 */
function testPageTtl(env: NodeJS.ProcessEnv): number | undefined {
  const ms = Number(env.MCP_KEYPROXY_TEST_PAGE_TTL_MS);
  return Number.isInteger(ms) && ms > 0 ? ms : undefined;
}

/** The OAuth sessions of the proxy: state in the keychain, every token registered with the proxy's scrubber. */
function oauthSessions(ctx: CliContext, scrubber: Scrubber): OAuthSessions | undefined {
  const store = ctx.openOAuthStore?.();
  if (!store) return undefined;
  const seen = new Set<string>();
  const sink = (label: string, value: string): void => {
    if (seen.has(value)) return;
    seen.add(value);
    ctx.registerSecret?.(label, value);
    try {
      scrubber.add(label, value);
    } catch {
      // A value too short to scrub is not a token any server issues; nothing to register.
    }
  };
  return new OAuthSessions(new OAuthStateStore(store, sink), ctx.env);
}

function logLevel(flag: LogLevel | undefined, env: NodeJS.ProcessEnv): LogLevel {
  const fromEnv = env.MCP_KEYPROXY_LOG_LEVEL?.toLowerCase();
  if (flag) return flag;
  if (fromEnv && (LOG_LEVELS as readonly string[]).includes(fromEnv)) return fromEnv as LogLevel;
  return 'info';
}
