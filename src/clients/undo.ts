import { readFile } from 'node:fs/promises';
import type { SecretStore } from '../secrets/store.js';
import type { ClientName } from './catalog.js';
import { digest, readIfExists, removeIfUnchanged, replaceIfUnchanged } from './files.js';
import { closeRecord, openRecords, saveRecord, type ChangedFile } from './record.js';

/** What `undo` does: every client (undefined), or only these, and whether keychain values go too. */
export interface UndoOptions {
  stateDir: string;
  clients?: readonly ClientName[];
  purge: boolean;
}

async function undoFile(change: ChangedFile, out: (line: string) => void): Promise<boolean> {
  const now = await readIfExists(change.path);
  const current = digest(now?.text);
  if (current === change.before) {
    out(`${change.path}: as it was before mcp-keyproxy; nothing to undo.`);
    return true;
  }
  if (current !== change.after || now === undefined) {
    const where = change.backup ? `; the file as it was is ${change.backup}` : '';
    out(`${change.path}: changed since mcp-keyproxy wrote it, so it was left as it is${where}.`);
    return false;
  }
  if (change.backup === undefined) {
    await removeIfUnchanged(change.path, now.text);
    out(`${change.path}: removed (mcp-keyproxy had created it).`);
    return true;
  }
  const before = await readFile(change.backup, 'utf8');
  if (digest(before) !== change.before) {
    out(`${change.path}: its backup ${change.backup} is not the file as it was; left as it is.`);
    return false;
  }
  await replaceIfUnchanged(change.path, now.text, before);
  out(`${change.path}: restored byte for byte from ${change.backup}.`);
  return true;
}

/**
 * `mcp-keyproxy undo`: puts back every file a `migrate` or `install` changed, newest first, when it still is what
 * was written; otherwise says so and names the backup. The proxy config is put back only with every client.
 */
export async function undo(options: UndoOptions, deps: { store: SecretStore; out(line: string): void }): Promise<number> {
  const records = await openRecords(options.stateDir);
  if (records.length === 0) deps.out('Nothing to undo: no migrate or install is on record.');
  let failures = 0;
  for (const { file, record } of records) {
    const selected = (change: ChangedFile): boolean =>
      options.clients === undefined || (change.client !== 'mcp-keyproxy' && options.clients.includes(change.client));
    const left: ChangedFile[] = [];
    for (const change of record.files) {
      if (!selected(change)) left.push(change);
      else if (!(await undoFile(change, deps.out))) failures++;
    }
    if (options.purge && options.clients === undefined) {
      for (const { server, name } of record.secrets) {
        if (await deps.store.delete(server, name)) deps.out(`Deleted ${name} of ${server} from the keychain.`);
      }
    }
    if (left.length === 0) await closeRecord(file);
    else await saveRecord(options.stateDir, { ...record, files: left });
  }
  return failures;
}
