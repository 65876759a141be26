import { lstatSync, readFileSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { bundleBuild } from '../build.js';
import { packageVersion } from '../version.js';
import type { LoadedConfig } from './types.js';

/** Bumped when the shape of a cached entry changes. */
const CACHE_FORMAT = 3;
/** Entries kept; older ones (earlier versions of the config) are removed when a new one is written. */
const MAX_ENTRIES = 16;

/**
 * Which validator produced an entry: a git clone rebuilt with other checks keeps its version number, so the
 * version alone would let an entry validated by older code through.
 */
const validator = `${packageVersion}+${bundleBuild ?? 'unbundled'}`;

/**
 * What a cache file holds: the config, and the whole of what it was validated from (so a renamed, copied or
 * merely same-named entry misses).
 */
interface CacheEntry {
  validation: string;
  text: string;
  config: LoadedConfig;
}

/** What an entry must have been validated as besides its text: this entry format, by this validator, of this file. */
const validationOf = (file: string): string => `${CACHE_FORMAT}\0${validator}\0${file}`;

/**
 * The file name an entry is kept under: a hash of what it was validated from, only to find it. Not a cryptographic
 * hash, because loading node:crypto would cost every start about 3.5 ms: an entry is trusted only when it holds the
 * very text and validation it is looked up for, so two configs sharing a name only cost a validation. (FNV-1a.)
 */
function entryName(validation: string, text: string): string {
  let hash = 0x811c9dc5;
  for (const part of [validation, '\0', text]) {
    for (let i = 0; i < part.length; i++) hash = Math.imul(hash ^ part.charCodeAt(i), 0x01000193);
  }
  return `${(hash >>> 0).toString(16).padStart(8, '0')}.json`;
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
 * link, and the entry holds the very text and validation it was looked up for.
 */
export function readValidatedCache(dir: string, file: string, text: string): LoadedConfig | undefined {
  // Synchronous calls, as for the config itself (load.ts): a start waits for them with nothing else to do.
  try {
    const validation = validationOf(file);
    const entry = path.join(dir, entryName(validation, text));
    const folder = lstatSync(dir);
    const info = lstatSync(entry);
    if (!folder.isDirectory() || !ownedAndPrivate(folder) || !info.isFile() || !ownedAndPrivate(info)) return undefined;
    const cached = JSON.parse(readFileSync(entry, 'utf8')) as Partial<CacheEntry>;
    return cached.validation === validation && cached.text === text && cached.config?.path === file ? cached.config : undefined;
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
    const validation = validationOf(config.path);
    const entry = path.join(dir, entryName(validation, text));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // A folder that others can write (made before, or by someone else) is left alone: its entries would be ignored.
    if (!ownedAndPrivate(await lstat(dir))) return;
    const temp = `${entry}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify({ validation, text, config } satisfies CacheEntry), { mode: 0o600, flag: 'wx' });
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
