import { Command } from 'commander';
import { defaultConsentPath, fileConsentStore } from '../consent/file-store.js';
import { KeyproxyError } from '../errors.js';
import { checkName } from './check-name.js';
import { writeLine, type CliContext } from './context.js';

/** `mcp-keyproxy consent list|revoke`: the "Allow always" answers kept in the state directory. */
export function consentCommand(ctx: CliContext): Command {
  const store = () => fileConsentStore(defaultConsentPath(ctx.env));
  const list = new Command('list')
    .description('list the servers allowed always to start with their stored secrets (until they change)')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => {
      const grants = store()
        .list()
        .sort((a, b) => a.server.localeCompare(b.server));
      if (options.json) {
        writeLine(ctx.stdout, JSON.stringify(grants, null, 2));
        return;
      }
      if (grants.length === 0) writeLine(ctx.stdout, 'No server is allowed always; each start asks (unless "confirm": false).');
      for (const grant of grants) {
        writeLine(ctx.stdout, `${grant.server}  secrets: ${grant.secrets.join(', ')}  runs: ${grant.target}  allowed: ${grant.allowed_at}`);
      }
    });
  const revoke = new Command('revoke')
    .description('forget "Allow always" for a server (or --all): its next start asks again')
    .argument('[server]', 'the server to ask again')
    .option('--all', 'forget every server')
    .action(async (server: string | undefined, options: { all?: boolean }) => {
      if ((server === undefined) === !options.all) {
        throw new KeyproxyError('USAGE', 'Name one server (`mcp-keyproxy consent revoke <server>`) or pass --all.');
      }
      if (server !== undefined) checkName(server);
      const forgotten = await store().revoke(server);
      if (forgotten.length === 0) {
        writeLine(
          ctx.stdout,
          server === undefined ? 'No server was allowed always.' : `${server} was not allowed always; nothing to revoke.`,
        );
        return;
      }
      writeLine(ctx.stdout, `Revoked "Allow always" for ${forgotten.join(', ')}: the next start asks again.`);
    });
  return new Command('consent')
    .description('the servers allowed always to use their stored secrets ("Allow always" in the consent prompt)')
    .addCommand(list)
    .addCommand(revoke);
}
