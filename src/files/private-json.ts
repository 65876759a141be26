import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from './atomic-write.js';

/**
 * JSON state files that decide what runs with the user's keys (remembered consent, trusted files). Such a file counts
 * only when this user owns it and nobody else can write it: another user able to write it could decide in our name.
 */

/** The parsed content of `file`, or undefined when it is missing, not a regular file, foreign, writable by others, or not JSON. */
export function readPrivateJson(file: string): unknown {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return undefined;
    if (process.platform !== 'win32' && (info.uid !== process.getuid?.() || (info.mode & 0o022) !== 0)) return undefined;
    return JSON.parse(readFileSync(fd, 'utf8')) as unknown;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Writes `content` to `file` (mode 0600, its folder 0700) atomically, keeping the previous version as `<file>.bak`. */
export async function writePrivateJson(file: string, content: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await copyFile(file, `${file}.bak`).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await writeFileAtomic(file, `${JSON.stringify(content, null, 2)}\n`, 0o600);
}
