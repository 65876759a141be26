import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { packageVersion } from '../version.js';
import type { LoadedConfig } from './types.js';

/** Bumped when the shape of a cached entry changes. */
const CACHE_FORMAT = 1;
/** Entries kept; older ones (earlier versions of the config) are removed when a new one is written. */
const MAX_ENTRIES = 16;

function cacheFile(dir: string, file: string, text: string): string {
  const key = createHash('sha256').update(`${CACHE_FORMAT}\0${packageVersion}\0${file}\0${text}`).digest('hex');
  return path.join(dir, `${key}.json`);
}

/**
 * The result of an earlier validation of exactly this config text by this version, if one was kept. Validating
 * needs zod, the heaviest import of the start-up path, and a proxy starts far more often than its config changes.
 * Only an entry this user owns and nobody else can write is trusted.
 */
export async function readValidatedCache(dir: string, file: string, text: string): Promise<LoadedConfig | undefined> {
  try {
    const entry = cacheFile(dir, file, text);
    const info = await stat(entry);
    if (process.platform !== 'win32' && (info.uid !== process.getuid?.() || (info.mode & 0o022) !== 0)) return undefined;
    const cached = JSON.parse(await readFile(entry, 'utf8')) as LoadedConfig;
    return cached.path === file ? cached : undefined;
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
    const entry = cacheFile(dir, config.path, text);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = `${entry}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(config), { mode: 0o600 });
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
