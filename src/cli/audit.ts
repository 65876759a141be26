import { Command } from 'commander';
import type { AuditLog } from '../audit/audit-log.js';
import { openAuditLog } from '../audit/open.js';
import { defaultAuditPath } from '../audit/paths.js';
import { filterAuditEvents, formatAuditEvent, parseSince, readAuditLog } from '../audit/reader.js';
import { writeLine, type CliContext } from './context.js';
import { checkName } from './check-name.js';

/** `mcp-keyproxy audit [--server S] [--since 1h] [--json]`: shows the audit log (names and events, never values). */
export function auditCommand(ctx: CliContext): Command {
  return new Command('audit')
    .description('show the audit log: secret reads, injections, consent, dialogs, stores/deletes, scrub hits (never values)')
    .option('-s, --server <server>', 'only this server')
    .option('--since <when>', 'only events since a duration ago (30s, 15m, 1h, 2d) or an ISO date')
    .option('--json', 'machine-readable output (a JSON array)')
    .action(async (options: { server?: string; since?: string; json?: boolean }) => {
      if (options.server !== undefined) checkName(options.server);
      const since = options.since === undefined ? undefined : parseSince(options.since, new Date());
      const file = defaultAuditPath(ctx.env);
      const { events, malformed } = await readAuditLog(file);
      for (const [path, lines] of groupByFile(malformed)) {
        writeLine(ctx.stderr, `note: skipped ${lines.length} malformed line(s) in ${path} (line ${lines.join(', ')}).`);
      }
      const shown = filterAuditEvents(events, { server: options.server, since });
      if (options.json) {
        writeLine(ctx.stdout, JSON.stringify(shown, null, 2));
        return;
      }
      if (shown.length === 0) writeLine(ctx.stdout, events.length === 0 ? `No audit events in ${file}.` : 'No audit events match.');
      for (const event of shown) writeLine(ctx.stdout, formatAuditEvent(event));
    });
}

/** The audit log of a management command; a write failure is a warning, never a failed command. */
export function openCliAuditLog(ctx: CliContext, profile?: string): AuditLog {
  const file = defaultAuditPath(ctx.env);
  return openAuditLog({
    file,
    profile,
    onError: (error) =>
      writeLine(ctx.stderr, `warning: could not write the audit log ${file}: ${error instanceof Error ? error.message : String(error)}`),
  });
}

function groupByFile(malformed: readonly { file: string; line: number }[]): Map<string, number[]> {
  const byFile = new Map<string, number[]>();
  for (const { file, line } of malformed) byFile.set(file, [...(byFile.get(file) ?? []), line]);
  return byFile;
}
