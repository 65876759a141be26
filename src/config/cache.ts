import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { packageVersion } from '../version.js';
import type { LoadedConfig } from './types.js';

/** Bumped when the shape of a cached entry changes. */
const CACHE_FORMAT = 2;
/** Entries kept; older ones (earlier versions of the config) are removed when a new one is written. */
const MAX_ENTRIES = 16;

/** A hash of the code that was bundled, set by scripts/bundle.mjs; absent when src/ runs unbundled (tests). */
declare const __MCP_KEYPROXY_BUILD__: string | undefined;
/**
 * Which validator produced an entry: a git clone rebuilt with other checks keeps its version number, so the
 * version alone would let an entry validated by older code through.
 */
const validator = `${packageVersion}+${typeof __MCP_KEYPROXY_BUILD__ === 'string' ? __MCP_KEYPROXY_BUILD__ : 'unbundled'}`;

/** What a cache file holds: the config, and the key it was written under (so a renamed or copied file misses). */
interface CacheEntry {
  key: string;
  config: LoadedConfig;
}

/** The key of a validation: this text of this file, by this validator. */
function cacheKey(file: string, text: string): string {
  return createHash('sha256').update(`${CACHE_FORMAT}\0${validator}\0${file}\0${text}`).digest('hex');
}

/** True for a path that is not a link, belongs to this user and nobody else can write (always true on Windows). */
function ownedAndPrivate(info: { uid: number; mode: number; isSymbolicLink(): boolean }): boolean {
  if (info.isSymbolicLink()) return false;
  return process.platform === 'win32' || (info.uid === process.getuid?.() && (info.mode & 0o022) === 0);
}

/**
 * The result of an earlier validation of exactly this config text by this build, if one was kept. Validating
 * needs zod, the heaviest import of the start-up path, and a proxy starts far more often than its config changes.
 * Trusted only when the folder and the entry belong to this user, nobody else can write either, neither is a
 * link, and the entry names the key it was looked up by.
 */
export function readValidatedCache(dir: string, file: string, text: string): LoadedConfig | undefined {
  // Synchronous calls, as for the config itself (load.ts): a start waits for them with nothing else to do.
  try {
    const key = cacheKey(file, text);
    const entry = path.join(dir, `${key}.json`);
    const folder = lstatSync(dir);
    const info = lstatSync(entry);
    if (!folder.isDirectory() || !ownedAndPrivate(folder) || !info.isFile() || !ownedAndPrivate(info)) return undefined;
    const cached = JSON.parse(readFileSync(entry, 'utf8')) as Partial<CacheEntry>;
    return cached.key === key && cached.config?.path === file ? cached.config : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Keeps a validated config for the next start (mode 0600, written atomically). A config with warnings is not
 * kept: a warning may be about a literal credential, which must not be copied into another file.
 */
export async function writeValidatedCache(dir: string, config: LoadedConfig, text: string): Promise<void> {
  if (config.warnings.length > 0) return;
  try {
    const key = cacheKey(config.path, text);
    const entry = path.join(dir, `${key}.json`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // A folder that others can write (made before, or by someone else) is left alone: its entries would be ignored.
    if (!ownedAndPrivate(await lstat(dir))) return;
    const temp = `${entry}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify({ key, config } satisfies CacheEntry), { mode: 0o600, flag: 'wx' });
    await rename(temp, entry);
    await pruneCache(dir);
  } catch {
    // A cache that cannot be written only costs the next start the validation again.
  }
}

async function pruneCache(dir: string): Promise<void> {
  const entries = await Promise.all(
    (await readdir(dir))
      .filter((name) => name.endsWith('.json'))
      .map(async (name) => ({ name, mtime: (await stat(path.join(dir, name))).mtimeMs })),
  );
  entries.sort((a, b) => b.mtime - a.mtime);
  await Promise.all(entries.slice(MAX_ENTRIES).map((entry) => unlink(path.join(dir, entry.name)).catch(() => undefined)));
}
