import { readdir, readFile, rename } from 'node:fs/promises';
import * as path from 'node:path';
import type { ClientName } from './catalog.js';
import { writeOwnFile } from './files.js';

/** One file a migration or install changed (or was about to change). */
export interface ChangedFile {
  path: string;
  /** The client, or `mcp-keyproxy` for the proxy config. */
  client: ClientName | 'mcp-keyproxy';
  /** sha256 of the file before (undefined: it did not exist). */
  before?: string;
  /** sha256 of what mcp-keyproxy writes. */
  after: string;
  /** The backup of the file as it was (none when it did not exist). */
  backup?: string;
}

/** What one `migrate` or `install` run did, kept in the state directory for `undo`. Holds no values. */
export interface ChangeRecord {
  stamp: string;
  command: 'migrate' | 'install';
  files: ChangedFile[];
  /** Keychain items it stored, for `undo --purge`. */
  secrets: Array<{ server: string; name: string }>;
}

/** The folder of change records in the state directory. */
export function recordsDir(stateDir: string): string {
  return path.join(stateDir, 'client-changes');
}

/** Keeps a record; written before any file it names, so a run killed half-way can still be undone. */
export async function saveRecord(stateDir: string, record: ChangeRecord): Promise<void> {
  await writeOwnFile(path.join(recordsDir(stateDir), `${record.stamp}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

/** The records not undone yet, newest first. */
export async function openRecords(stateDir: string): Promise<Array<{ file: string; record: ChangeRecord }>> {
  const dir = recordsDir(stateDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const open = names
    .filter((name) => /^[0-9TZ-]+\.json$/.test(name))
    .sort()
    .reverse();
  return Promise.all(
    open.map(async (name) => ({
      file: path.join(dir, name),
      record: JSON.parse(await readFile(path.join(dir, name), 'utf8')) as ChangeRecord,
    })),
  );
}

/** Marks a record undone (it stays, renamed, as a trace). */
export async function closeRecord(file: string): Promise<void> {
  await rename(file, file.replace(/\.json$/, '.undone'));
}

/** A timestamp usable in file names, unique per run: 20260102T030405123Z. */
export function stampNow(date = new Date()): string {
  return date.toISOString().replace(/[-:.]/g, '');
}
