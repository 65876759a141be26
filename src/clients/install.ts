import { KeyproxyError } from '../errors.js';
import type { ClientFile } from './catalog.js';
import { readEntries, sameEntry, setEntry } from './client-file.js';
import { backupPath, digest, readIfExists, replaceIfUnchanged, writeBackup } from './files.js';
import { clientEntryFor, proxyLaunch, runsProxy, type Launcher } from './plan.js';
import { saveRecord } from './record.js';

/**
 * `mcp-keyproxy install`: adds to a client file an entry that runs the proxy for each named server of the proxy
 * config. Idempotent: an entry that is already exactly that is left alone; an entry of the same name that does
 * not run the proxy is refused (it may be the user's own server; `migrate` moves its keys).
 */
export async function install(
  options: {
    file: ClientFile;
    servers: string[];
    configPath: string;
    stateDir: string;
    launcher: Launcher;
    dryRun: boolean;
    stamp: string;
  },
  deps: { out(line: string): void; confirm(question: string): Promise<boolean> },
): Promise<boolean> {
  const { file } = options;
  const read = await readIfExists(file.path);
  const current = new Map(readEntries(file, read?.text ?? '').map(({ name, entry }) => [name, entry]));
  let next = read?.text ?? '';
  const added: string[] = [];
  for (const server of options.servers) {
    const own = current.get(server);
    const entry = clientEntryFor(file, proxyLaunch(options.launcher, server, options.configPath), own);
    if (own && sameEntry(own, entry)) {
      deps.out(`${file.path}: "${server}" already runs the proxy; unchanged.`);
      continue;
    }
    if (own && !runsProxy(own)) {
      throw new KeyproxyError(
        'USAGE',
        `${file.path} already has an entry "${server}" that does not run mcp-keyproxy; nothing was changed. Run \`mcp-keyproxy migrate --client ${file.client}\` to move its keys, or remove it first.`,
      );
    }
    next = setEntry(file, next, server, entry);
    added.push(server);
    deps.out(`${file.path}: ${own ? 'update' : 'add'} "${server}" → ${entry.command} ${entry.args.join(' ')}`);
  }
  if (added.length === 0 || options.dryRun) {
    if (options.dryRun && added.length > 0) deps.out('Dry run: nothing was changed.');
    return false;
  }
  if (!(await deps.confirm(`Write ${file.path}? [y/N] `))) return false;
  const backup = read ? await backupPath(file.path, options.stamp) : undefined;
  await saveRecord(options.stateDir, {
    stamp: options.stamp,
    command: 'install',
    files: [
      { path: file.path, client: file.client, before: digest(read?.text), after: digest(next) as string, ...(backup ? { backup } : {}) },
    ],
    secrets: [],
  });
  if (read) await writeBackup(file.path, read.text, read.mode, options.stamp);
  await replaceIfUnchanged(file.path, read?.text, next, 0o600);
  deps.out(`Wrote ${file.path}${backup ? ` (backup: ${backup})` : ''}. Undo with: mcp-keyproxy undo --client ${file.client}`);
  return true;
}
