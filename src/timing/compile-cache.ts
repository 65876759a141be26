import { lstatSync, mkdirSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { platformStateDir } from '../config/paths.js';

/** Node's `module.enableCompileCache(dir)` (Node ≥ 22.1), or undefined on an older Node. */
type EnableCompileCache = ((dir: string) => unknown) | undefined;

const nodeEnableCompileCache = (nodeModule as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;

/**
 * Turns on Node's module compile cache (Node ≥ 22.1; nothing at all on Node 20) in `compile-cache/` of the state
 * directory, so the chunks loaded after the entry (the run path, the router, the SDK, zod) are compiled once, not
 * at every start. Never Node's default folder under os.tmpdir(), which other local users can write: compiled code
 * found there would run as ours. The folder must be this user's, not a link, and closed to everyone else (0700);
 * otherwise, or on any error, the cache stays off. Returns the folder when the cache is on.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv, enable: EnableCompileCache = nodeEnableCompileCache): string | undefined {
  if (typeof enable !== 'function') return undefined;
  try {
    const dir = path.join(platformStateDir(process.platform, env, homedir()), 'compile-cache');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const info = lstatSync(dir);
    const private_ = process.platform === 'win32' || (info.uid === process.getuid?.() && (info.mode & 0o077) === 0);
    if (!info.isDirectory() || !private_) return undefined;
    enable(dir);
    return dir;
  } catch {
    // A cache that cannot be used only costs the compile it would have saved.
    return undefined;
  }
}
