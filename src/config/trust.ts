import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { KeyproxyError } from '../errors.js';
import { readPrivateJson, writePrivateJson } from '../files/private-json.js';

/**
 * Files found in the working directory (or a parent) that the user has trusted, like `direnv allow`: a project
 * file (`.mcp-keyproxy.json`) or a `proxy.config.json` in the working directory is used only while its content
 * is the one trusted. A cloned repository can ship either; neither may run a command with the user's keys unless
 * the user has read it and said so.
 */

/** File name of the trusted files in the state directory; the previous version is kept beside it as `.bak`. */
export const TRUST_FILE_NAME = 'trusted-files.json';
/** Bumped when the file's shape changes; a file of another format is read as empty (nothing trusted). */
const FORMAT = 1;

/** One trusted file: the sha256 of its content when the user trusted it. */
export interface TrustedFile {
  sha256: string;
  trusted_at: string;
}

interface TrustFileContent {
  format: number;
  files: Record<string, TrustedFile>;
}

/** What the trust store says of a file's current content. */
export type TrustState = 'trusted' | 'untrusted' | 'changed';

/** The trust store of a state directory. */
export function trustStorePath(stateDir: string): string {
  return path.join(stateDir, TRUST_FILE_NAME);
}

/** sha256 of a file's content, as recorded. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The trusted files in `store`. Only a file this user owns and nobody else can write counts (another user able to
 * write it could trust a file in our name); a missing, foreign or damaged store trusts nothing.
 */
export function readTrusted(store: string): Record<string, TrustedFile> {
  const parsed = readPrivateJson(store) as Partial<TrustFileContent> | undefined;
  if (parsed?.format !== FORMAT || typeof parsed.files !== 'object' || parsed.files === null) return {};
  const files: Record<string, TrustedFile> = {};
  for (const [file, entry] of Object.entries(parsed.files)) {
    if (typeof entry?.sha256 === 'string' && typeof entry.trusted_at === 'string') files[file] = entry;
  }
  return files;
}

/** Whether `file` (an absolute path) with content `text` is trusted, was trusted with another content, or never. */
export function trustState(store: string, file: string, text: string): TrustState {
  const trusted = readTrusted(store);
  const entry = Object.hasOwn(trusted, file) ? trusted[file] : undefined;
  if (!entry) return 'untrusted';
  return entry.sha256 === contentHash(text) ? 'trusted' : 'changed';
}

/**
 * Changes the store: the previous version is kept as `.bak` and the new one written atomically (mode 0600). Two
 * `trust` commands at the same instant may lose one of the two entries; that only leaves a file untrusted (the
 * safe side), so no lock is taken.
 */
async function change(store: string, edit: (files: Record<string, TrustedFile>) => void): Promise<void> {
  try {
    const files = readTrusted(store);
    edit(files);
    const content: TrustFileContent = { format: FORMAT, files };
    await writePrivateJson(store, content);
  } catch (error) {
    throw new KeyproxyError('STATE_WRITE_FAILED', `Cannot write the trusted files to ${store}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Records `file` (an absolute path) as trusted with content `text`. */
export function trustContent(store: string, file: string, text: string, now: Date = new Date()): Promise<void> {
  return change(store, (files) => {
    files[file] = { sha256: contentHash(text), trusted_at: now.toISOString() };
  });
}

/** Forgets `file`; resolves false when it was not trusted. */
export async function forgetTrust(store: string, file: string): Promise<boolean> {
  if (!Object.hasOwn(readTrusted(store), file)) return false;
  await change(store, (files) => {
    delete files[file];
  });
  return true;
}
