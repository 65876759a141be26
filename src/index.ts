import type { CliContext } from './cli/context.js';
import { runPlain } from './cli/plain-run.js';
import { ExitCode } from './errors.js';
import { logsWritten } from './log/logger.js';
import { Scrubber } from './log/scrubber.js';
import { showsStacks } from './log/stacks.js';
import { cacheService, keychainService, type SecretStore } from './secrets/store.js';
import { KeyringStore } from './secrets/keyring-store.js';
import { oauthService } from './oauth/state.js';
import { nativeCredentialDialog } from './dialog/credential-dialog.js';
import { endBlockedKeychainCalls } from './hardening/keychain-exit.js';
import { markStartup } from './timing/startup-trace.js';
import { DEFAULT_PROFILE } from './config/profile.js';

/**
 * The process entry: runs the CLI against the real process and keychain, then exits with its code. bin/ runs
 * `beforeMain` (src/early.ts) first. `binStart` is when bin/ began (`performance.now()`), for the start-up trace.
 */
export async function main(argv: readonly string[], binStart?: number): Promise<never> {
  markStartup('binStart', binStart);
  markStartup('bundleEvaluated');
  const stores = new Map<string, SecretStore>();
  const cacheStores = new Map<string, SecretStore>();
  let oauthStore: SecretStore | undefined;
  // One scrubber for every line this process prints: runCli feeds it every value the store handles.
  const scrubber = new Scrubber();
  // Node's own report of an uncaught error would print its message raw; an error can quote a value.
  process.on('uncaughtException', (error: unknown) => {
    // The stack trace only at debug level, as in the logs.
    const text = error instanceof Error ? ((stacksShown(argv) ? error.stack : undefined) ?? error.message) : String(error);
    process.stderr.write(scrubber.scrub(`mcp-keyproxy: unexpected error: ${text}\n`, 'stderr'));
    process.exit(ExitCode.failure);
  });
  const ctx: CliContext = {
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    openStore: (profile = DEFAULT_PROFILE) => {
      let store = stores.get(profile);
      if (!store) stores.set(profile, (store = new KeyringStore({ service: (server) => keychainService(server, profile), profile })));
      return store;
    },
    openCacheStore: (profile = DEFAULT_PROFILE) => {
      let store = cacheStores.get(profile);
      if (!store) cacheStores.set(profile, (store = new KeyringStore({ service: (server) => cacheService(server, profile), profile })));
      return store;
    },
    openDialog: (profile) => nativeCredentialDialog({ profile }),
    openOAuthStore: () => (oauthStore ??= new KeyringStore({ service: oauthService })),
  };
  // What a client starts (`run <server>`) builds no commander program and loads none of the other commands: the
  // program is imported only when needed, so the bundle keeps it and them in chunks of their own. The run path
  // itself is a static import: one pass of the module loader is faster than a second one after main() starts.
  const code =
    (argv[2] === 'run' ? await runPlain(argv, ctx, scrubber) : undefined) ??
    (await (await import('./cli/program.js')).runCli(argv, ctx, scrubber));
  // Lines logged before pino was loaded (src/log/logger.ts) are written before the process ends.
  await logsWritten();
  // A keychain call blocked on an unlock prompt would make exit wait for its thread for ever.
  await endBlockedKeychainCalls();
  process.exit(code);
}

/** Whether `--log-level debug|trace` or MCP_KEYPROXY_LOG_LEVEL asks for stack traces. */
function stacksShown(argv: readonly string[]): boolean {
  const at = argv.indexOf('--log-level');
  const flag = at >= 0 ? argv[at + 1] : argv.find((arg) => arg.startsWith('--log-level='))?.slice('--log-level='.length);
  return showsStacks(flag ?? process.env.MCP_KEYPROXY_LOG_LEVEL);
}
