import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { KeyproxyError } from '../errors.js';
import { SourceCache } from '../sources/source-cache.js';
import { openCliAuditLog } from './audit.js';
import { announceChange, writeLine, type CliContext } from './context.js';
import { checkName } from './check-name.js';
import { commandProfile, inProfile, withProfileOption } from './profile-option.js';

/** `mcp-keyproxy secrets clear <server>`: removes every secret of a server, after confirmation. */
export function secretsClearCommand(ctx: CliContext): Command {
  return withProfileOption(new Command('clear'))
    .description('remove every secret of a server (asks first on a terminal; --yes otherwise)')
    .argument('<server>', 'server name')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (server: string, options: { yes?: boolean; profile?: string }) => {
      checkName(server);
      const profile = commandProfile(ctx, options.profile);
      const store = ctx.openStore(profile);
      const cacheStore = ctx.openCacheStore?.(profile);
      const cache = cacheStore && new SourceCache(cacheStore);
      const names = await store.list(server);
      // The cache of op:// and command values goes too (a keychain without it is no reason to fail the clear).
      const cached = cache ? await cache.contents(server).catch(() => ({ names: [], any: false })) : { names: [], any: false };
      if (names.length === 0 && !cached.any) {
        writeLine(ctx.stdout, `No secrets are stored for ${server}${inProfile(profile)}.`);
        return;
      }
      const what = [
        ...(names.length > 0 ? [`${names.length} secret(s) of ${server}${inProfile(profile)} (${names.join(', ')})`] : []),
        ...(cached.any ? [cachedWhat(cached.names)] : []),
      ].join(' and ');
      if (!options.yes && !(await confirm(ctx, `Delete ${what}? [y/N] `))) {
        writeLine(ctx.stdout, 'Nothing was deleted.');
        return;
      }
      const audit = openCliAuditLog(ctx, profile);
      for (const name of names) {
        if (await store.delete(server, name)) audit.secretDeleted(server, name, 'cli');
      }
      const cleared = cache && cached.any ? await cache.clear(server) : { names: [], any: false };
      const parts = [
        ...(names.length > 0 ? [`${names.length} secret(s) of ${server}${inProfile(profile)}: ${names.join(', ')}`] : []),
        ...(cleared.names.length > 0
          ? [`the cached values of ${cleared.names.join(', ')}`]
          : cleared.any
            ? ['an unreadable cache of source values']
            : []),
      ];
      await announceChange(ctx, [server]);
      writeLine(ctx.stdout, `Deleted ${parts.join('; ') || 'nothing'}.`);
    });
}

/** The cached source values about to be deleted, by secret name (an unreadable cache item names none). */
function cachedWhat(names: readonly string[]): string {
  return names.length > 0 ? `${names.length} cached source value(s) (${names.join(', ')})` : 'an unreadable cache of source values';
}

async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  if (!ctx.stdin.isTTY) {
    throw new KeyproxyError('USAGE', 'Refusing to delete without confirmation: stdin is not a terminal. Add --yes.');
  }
  const readline = createInterface({ input: ctx.stdin, output: ctx.stderr });
  // Ctrl-C reaches readline as a key, not as a signal: it ends the question as an interruption.
  const interrupted = new AbortController();
  readline.once('SIGINT', () => interrupted.abort());
  try {
    return /^y(es)?$/i.test((await readline.question(question, { signal: interrupted.signal })).trim());
  } catch (error) {
    if (interrupted.signal.aborted) throw new KeyproxyError('INTERRUPTED', 'Cancelled (Ctrl-C); nothing was deleted.');
    throw error;
  } finally {
    readline.close();
  }
}
