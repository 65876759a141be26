import { plainRunArgs } from './cli/plain-run-args.js';
import { resolveProfile } from './config/profile.js';
import { disableCoreDumps } from './hardening/core-dumps.js';
import { beginKeychainPrefetch } from './secrets/keychain-prefetch.js';
import { enableCompileCache } from './timing/compile-cache.js';
import { markStartup, traceCodeCache } from './timing/startup-trace.js';

/**
 * What bin/ runs before it loads the CLI (src/index.ts, whose bundle chunk takes about 20 ms to evaluate): a small
 * chunk of its own, so that what must come first, or can start early, does.
 */
export function beforeMain(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  // Before any secret is in memory: a crash must not write one into a core file.
  disableCoreDumps();
  // The chunks loaded from here on are compiled once, not at every start.
  const compileCache = enableCompileCache(env);
  if (compileCache?.kind === 'chunks') traceCodeCache(compileCache.use);
  // A client's start (`run <server>`) reads the server's keychain secrets while the CLI loads.
  const plain = plainRunArgs(argv);
  if (plain?.serverName !== undefined) prefetchFor(plain.serverName, plain.options.profile, env);
  markStartup('earlyDone');
}

function prefetchFor(server: string, profileFlag: string | undefined, env: NodeJS.ProcessEnv): void {
  let profile: string;
  try {
    profile = resolveProfile(profileFlag, env);
  } catch {
    return; // an invalid profile name: the CLI says so
  }
  beginKeychainPrefetch(server, profile, env);
}
