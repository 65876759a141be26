import { KeyproxyError } from '../errors.js';
import type { SecretStore } from '../secrets/store.js';
import type { ClientFile } from './catalog.js';
import { readEntries, setEntry } from './client-file.js';
import { masked } from './credentials.js';
import { digest, readIfExists, backupPath, replaceIfUnchanged, writeBackup } from './files.js';
import { isPlan, planEntry, serverNamer, type EntryPlan, type Launcher, type LeftEntry } from './plan.js';
import { proxyServers, withProxyServers } from './proxy-config-edit.js';
import { saveRecord, type ChangedFile, type ChangeRecord } from './record.js';

/** Everything `migrate` touches, handed in (tests give a memory store and a temporary HOME). */
export interface MigrateDeps {
  store: SecretStore;
  out(line: string): void;
  /** Asked once before anything is written; false leaves everything as it is. */
  confirm(question: string): Promise<boolean>;
  /** Called after each step that changes something (tests stop and kill the process at each one). */
  step?(name: string): Promise<void>;
}

/** What to migrate and where to. */
export interface MigrateOptions {
  files: ClientFile[];
  configPath: string;
  stateDir: string;
  launcher: Launcher;
  dryRun: boolean;
  stamp: string;
  /** Validates the proxy config text before it is written (throws when invalid). */
  validateProxyConfig(text: string, file: string): void;
}

interface FileWork {
  file: ClientFile;
  text: string;
  mode: number;
  plans: EntryPlan[];
  left: LeftEntry[];
}

function describePlan(plan: EntryPlan, configPath: string): string[] {
  const lines = plan.literals.map(
    (literal) =>
      `    ${literal.where}.${literal.key} ${masked(literal.value)} → keychain mcp-keyproxy/${plan.server} ${literal.secretName}`,
  );
  lines.push(
    `    ${plan.kind} server "${plan.server}" → ${configPath}; the entry now runs: ${String(plan.clientEntry.command)} ${(plan.clientEntry.args as string[]).join(' ')}`,
  );
  return lines;
}

function adviseArgs(left: { name: string; args: Array<{ index: number; looksLike: string }> }): string[] {
  return left.args.map(
    (arg) =>
      `    args[${arg.index}] looks like ${arg.looksLike}: not moved (the server reads it there, and every local user can read a command line). ` +
      'If the server can take it from an environment variable, put it in "env" and run migrate again; otherwise rotate it after moving the server to a config file.',
  );
}

/**
 * `mcp-keyproxy migrate`: moves the literal keys of client entries into the keychain, the servers into the proxy
 * config with `${secret:…}` references, and rewrites each entry to run the proxy. Order: keychain, read back and
 * compare, a record for `undo`, the proxy config, then each client file (each re-read first, backed up, written
 * atomically). Killed at any moment, every key is still in its file or already in the keychain.
 */
export async function migrate(options: MigrateOptions, deps: MigrateDeps): Promise<{ moved: number; files: string[] }> {
  const proxy = await readIfExists(options.configPath);
  const existing = proxyServers(proxy?.text);
  const work: FileWork[] = [];
  for (const file of options.files) {
    const read = await readIfExists(file.path);
    if (!read) continue;
    const serverName = serverNamer(existing, file.client);
    const results = readEntries(file, read.text).map((entry) =>
      planEntry(file, entry, { launcher: options.launcher, configPath: options.configPath, serverName }),
    );
    work.push({
      file,
      text: read.text,
      mode: read.mode,
      plans: results.filter(isPlan),
      left: results.filter((r): r is LeftEntry => !isPlan(r)),
    });
  }
  for (const { file, plans, left } of work) {
    deps.out(`${file.client} (${file.scope}) ${file.path}`);
    for (const plan of plans) {
      deps.out(`  ${plan.name}: move ${plan.literals.length} key(s)`);
      for (const line of [...describePlan(plan, options.configPath), ...adviseArgs(plan)]) deps.out(line);
    }
    for (const entry of left) {
      deps.out(`  ${entry.name}: left as it is${entry.reason ? ` (${entry.reason})` : ' (no key in it)'}`);
      adviseArgs(entry).forEach((line) => deps.out(line));
    }
  }
  const toChange = work.filter((item) => item.plans.length > 0);
  const moved = toChange.reduce((sum, item) => sum + item.plans.reduce((n, plan) => n + plan.literals.length, 0), 0);
  if (options.dryRun || toChange.length === 0) {
    deps.out(
      toChange.length === 0
        ? 'Nothing to move: no entry holds a literal key.'
        : `Dry run: ${moved} key(s) would move; nothing was changed.`,
    );
    return { moved: 0, files: [] };
  }
  if (!(await deps.confirm(`Move ${moved} key(s) into the keychain and rewrite ${toChange.length} file(s)? [y/N] `))) {
    deps.out('Nothing was changed.');
    return { moved: 0, files: [] };
  }

  // 1. Keychain, each value read back before any file changes.
  const secrets: ChangeRecord['secrets'] = [];
  for (const plan of toChange.flatMap((item) => item.plans)) {
    for (const literal of plan.literals) {
      await deps.store.set(plan.server, literal.secretName, literal.value);
      if ((await deps.store.get(plan.server, literal.secretName)) !== literal.value) {
        throw new KeyproxyError(
          'KEYCHAIN_FAILED',
          `the keychain did not give back ${literal.secretName} of ${plan.server} as stored; no file was changed.`,
        );
      }
      secrets.push({ server: plan.server, name: literal.secretName });
      await deps.step?.('keychain');
    }
  }
  // 2. Every new text, computed and checked before anything is written.
  const proxyText = withProxyServers(
    proxy?.text,
    toChange.flatMap((item) => item.plans.map((plan): [string, Record<string, unknown>] => [plan.server, plan.proxyServer])),
  );
  options.validateProxyConfig(proxyText, options.configPath);
  // Two scopes can share a file (Claude Code's user and local scopes are both ~/.claude.json): one text per file.
  const clientTexts: Array<{ item: FileWork; next: string }> = [];
  for (const item of toChange) {
    const same = clientTexts.find((slot) => slot.item.file.path === item.file.path);
    const slot = same ?? { item, next: item.text };
    slot.next = item.plans.reduce((text, plan) => setEntry(item.file, text, plan.name, plan.clientEntry), slot.next);
    if (!same) clientTexts.push(slot);
  }
  const changed: ChangedFile[] = [
    {
      path: options.configPath,
      client: 'mcp-keyproxy',
      before: digest(proxy?.text),
      after: digest(proxyText) as string,
      ...(proxy ? { backup: await backupPath(options.configPath, options.stamp) } : {}),
    },
    ...(await Promise.all(
      clientTexts.map(async ({ item, next }) => ({
        path: item.file.path,
        client: item.file.client,
        before: digest(item.text),
        after: digest(next) as string,
        backup: await backupPath(item.file.path, options.stamp),
      })),
    )),
  ];
  // 3. The record for undo, before any file is written.
  await saveRecord(options.stateDir, { stamp: options.stamp, command: 'migrate', files: changed, secrets });
  await deps.step?.('record');
  // 4. The proxy config, then 5. each client file.
  if (proxy) {
    await writeBackup(options.configPath, proxy.text, proxy.mode, options.stamp);
    await deps.step?.('proxy-config-backup');
  }
  await replaceIfUnchanged(options.configPath, proxy?.text, proxyText, 0o600);
  await deps.step?.('proxy-config');
  const written: string[] = [];
  for (const [index, { item, next }] of clientTexts.entries()) {
    const backup = changed[index + 1]?.backup as string;
    await writeBackup(item.file.path, item.text, item.mode, options.stamp);
    await deps.step?.('backup');
    await replaceIfUnchanged(item.file.path, item.text, next);
    await deps.step?.('client-file');
    deps.out(`Rewrote ${item.file.path} (backup: ${backup}).`);
    written.push(item.file.path);
  }
  deps.out(`Moved ${moved} key(s) into the keychain; servers are in ${options.configPath}. Undo with: mcp-keyproxy undo`);
  return { moved, files: written };
}
