import { Command } from 'commander';
import { KeyproxyError } from '../errors.js';
import { readWithCache, type SecretOutcome } from '../sources/cached-read.js';
import { cachePolicy } from '../sources/cache-policy.js';
import { opTokenFrom } from '../sources/op-token.js';
import { namesByKind } from '../sources/server-sources.js';
import { describeSource, OP_TOKEN_ENTRY } from '../sources/source.js';
import { openCliAuditLog } from './audit.js';
import { checkName } from './check-name.js';
import { commandProfile, withProfileOption } from './profile-option.js';
import { cliSourceCache, serversOf, sourcedSecrets } from './cached-sources.js';
import { loadConfigIfPresent } from './config-for-secrets.js';
import { announceChange, writeLine, type CliContext } from './context.js';

/**
 * `mcp-keyproxy secrets refresh [server]`: reads every op:// and command source again now and caches the values
 * (for cron, a systemd timer, launchd). Exits non-zero naming each secret whose source failed; never prints a value.
 */
export function secretsRefreshCommand(ctx: CliContext): Command {
  return withProfileOption(new Command('refresh'))
    .description('read op:// and command sources again now and cache their values (exits non-zero naming any that failed)')
    .argument('[server]', 'only this server (default: every server of the config)')
    .option('-c, --config <file>', 'config file')
    .action(async (server: string | undefined, options: { config?: string; profile?: string }) => {
      if (server !== undefined) checkName(server);
      const profile = commandProfile(ctx, options.profile);
      const servers = serversOf(await loadConfigIfPresent(ctx, options.config), server, 'refresh');
      const cache = cliSourceCache(ctx, profile);
      const audit = openCliAuditLog(ctx, profile);
      const store = ctx.openStore(profile);
      const token = opTokenFrom(store, () => audit.secretRead(OP_TOKEN_ENTRY.server, [OP_TOKEN_ENTRY.name], 'keychain'));
      const failures: string[] = [];
      const changed: string[] = [];
      let refreshed = 0;
      const results = await Promise.all(
        servers.map(async ([name, config]) => {
          const requests = sourcedSecrets(config, true);
          if (requests.length === 0) return { name, outcomes: [] as SecretOutcome[], cached: true };
          const policy = cachePolicy(config.cache);
          const read = await readWithCache(name, requests, policy, { env: ctx.env, opToken: token, cache, now: Date.now }, { force: true });
          await read.written;
          return { name, outcomes: read.outcomes, cached: policy.ttlMs > 0 };
        }),
      );
      for (const { name, outcomes, cached } of results) {
        const read = outcomes.filter((outcome) => outcome.how === 'read');
        for (const [kind, names] of namesByKind(read)) audit.secretRead(name, names, kind);
        if (read.some((outcome) => outcome.changed)) changed.push(name);
        for (const outcome of outcomes) {
          const what = `${name}  ${outcome.secret}  ${describeSource(outcome.source)}`;
          if (outcome.how === 'read') {
            refreshed += 1;
            writeLine(ctx.stdout, `${what}  refreshed${outcome.changed ? ' (changed)' : ''}${cached ? '' : ' (not cached: "ttl": "0")'}`);
          } else {
            failures.push(outcome.error?.message ?? `Secret ${outcome.secret} of server "${name}" could not be read.`);
            writeLine(ctx.stdout, `${what}  FAILED`);
          }
        }
      }
      audit.close();
      if (changed.length > 0) await announceChange(ctx, changed);
      if (failures.length > 0) {
        throw new KeyproxyError(
          'SOURCE_FAILED',
          `${failures.length} secret(s) could not be refreshed (any value cached before is kept):\n${failures.join('\n')}`,
        );
      }
      if (refreshed === 0) writeLine(ctx.stdout, 'No op:// or command sources to refresh.');
    });
}
