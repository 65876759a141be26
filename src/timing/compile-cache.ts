import { lstatSync, mkdirSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { BUILD_FOLDER_PREFIX, cacheChunkCode, type CodeCacheUse } from './code-cache.js';
import { platformStateDir } from '../config/paths.js';
import { bundleBuild } from '../build.js';

/** Node's `module.enableCompileCache(dir)` (Node ≥ 22.1), or undefined on an older Node. */
type EnableCompileCache = ((dir: string) => unknown) | undefined;

/** Where the compile cache is, and which kind is on. */
export type CompileCache =
  | { kind: 'node'; dir: string }
  /** Node 20: V8's code cache for the bundle's chunks (code-cache.ts). */
  | { kind: 'chunks'; dir: string; use: CodeCacheUse };

/** What can differ from this process (for tests). */
export interface CompileCacheRuntime {
  enable: EnableCompileCache;
  /** The bundle's hash; undefined unbundled, where nothing is cached. */
  build: string | undefined;
  /** The folder of the bundle's chunks. */
  chunkDir: string;
  sourceMaps: boolean;
}

const thisRuntime: CompileCacheRuntime = {
  enable: (nodeModule as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache,
  build: bundleBuild,
  chunkDir: import.meta.dirname,
  sourceMaps: process.sourceMapsEnabled,
};

/**
 * Keeps compiled code between starts, in `compile-cache/` of the state directory, so the chunks loaded after the
 * entry (the run path, the router, the SDK, zod) are compiled once, not at every start. Node ≥ 22.1 has its own
 * (`module.enableCompileCache`), for every module; on Node 20, the bundle's chunks get V8's code cache
 * (code-cache.ts) in a folder of this build's own. Never Node's default folder under os.tmpdir(), which other local
 * users can write: compiled code found there would run as ours. The folder must be this user's, not a link, and
 * closed to everyone else (0700); otherwise, or on any error, the cache stays off. Off too on Node 20 unbundled, and
 * with source maps on (a stack trace through code the cache compiled would not be mapped).
 */
export function enableCompileCache(env: NodeJS.ProcessEnv, runtime: CompileCacheRuntime = thisRuntime): CompileCache | undefined {
  const { enable, build } = runtime;
  if (typeof enable !== 'function' && (build === undefined || runtime.sourceMaps)) return undefined;
  try {
    const dir = path.join(platformStateDir(process.platform, env, homedir()), 'compile-cache');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const info = lstatSync(dir);
    const private_ = process.platform === 'win32' || (info.uid === process.getuid?.() && (info.mode & 0o077) === 0);
    if (!info.isDirectory() || !private_) return undefined;
    if (typeof enable === 'function') {
      enable(dir);
      return { kind: 'node', dir };
    }
    const buildDir = path.join(dir, `${BUILD_FOLDER_PREFIX}${build}`);
    return { kind: 'chunks', dir: buildDir, use: cacheChunkCode(buildDir, runtime.chunkDir) };
  } catch {
    // A cache that cannot be used only costs the compile it would have saved.
    return undefined;
  }
}
