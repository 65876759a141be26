import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, realpath, stat, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { KeyproxyError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic-write.js';

/** A file's text and mode, or undefined when it does not exist. */
export async function readIfExists(file: string): Promise<{ text: string; mode: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    return { text, mode: info.mode & 0o7777 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** sha256 of a text, to tell later whether a file is still what was written. */
export function digest(text: string | undefined): string | undefined {
  return text === undefined ? undefined : createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `<file>.mcp-keyproxy-<stamp>.bak`, beside the file (beside its target when it is a symlink). */
export async function backupPath(file: string, stamp: string): Promise<string> {
  const target = (await lstat(file).catch(() => undefined))?.isSymbolicLink() ? await realpath(file) : file;
  return `${target}.mcp-keyproxy-${stamp}.bak`;
}

/** Writes a backup of `text` (the file as read) with the file's mode; returns its path. */
export async function writeBackup(file: string, text: string, mode: number, stamp: string): Promise<string> {
  const backup = await backupPath(file, stamp);
  await writeFileAtomic(backup, text, mode);
  return backup;
}

/**
 * Replaces `file` with `next` atomically, keeping its mode, only if it still holds `expected` (undefined: it must
 * not exist): a client that changed it since it was read wins, and nothing is written.
 */
export async function replaceIfUnchanged(file: string, expected: string | undefined, next: string, mode?: number): Promise<void> {
  const now = await readIfExists(file);
  if (now?.text !== expected) {
    throw new KeyproxyError(
      'CONFIG_INVALID',
      `${file} changed while mcp-keyproxy was working on it (the client may have written it); it was left as it is. Run the command again.`,
    );
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, next, now?.mode ?? mode);
}

/** Removes `file` if it still holds `expected`. */
export async function removeIfUnchanged(file: string, expected: string): Promise<boolean> {
  const now = await readIfExists(file);
  if (now?.text !== expected) return false;
  await unlink(file);
  return true;
}

/** Writes a file of ours (state records) atomically, mode 0600. */
export async function writeOwnFile(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, text, 0o600);
}
