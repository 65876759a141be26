import * as path from 'node:path';
import { Command } from 'commander';
import { applyEdits, modify } from 'jsonc-parser';
import { readIfExists, replaceIfUnchanged, writeBackup } from '../clients/files.js';
import { stampNow } from '../clients/record.js';
import { findProjectFile, findServer, loadConfig, trustStoreOf } from '../config/load.js';
import { PROJECT_FILE_NAME } from '../config/project-name.js';
import { trustContent, trustState } from '../config/trust.js';
import { KeyproxyError } from '../errors.js';
import { checkName } from './check-name.js';
import { writeLine, type CliContext } from './context.js';

/**
 * `enable <server>` / `disable <server>`: sets `"enabled"` of a server in the project file (`.mcp-keyproxy.json` in
 * the working directory or the nearest parent that has one; created in the working directory when there is none),
 * written atomically with a backup. The file stays trusted when it was (or is new): the user made this change
 * here. A file the user has not trusted is not edited: it would still not apply.
 */
async function setEnabled(ctx: CliContext, server: string, enabled: boolean, configPath: string | undefined): Promise<void> {
  checkName(server);
  const loadOptions = { configPath, env: ctx.env, cwd: ctx.cwd };
  const store = trustStoreOf(loadOptions);
  const file = (await findProjectFile(ctx.cwd)) ?? path.join(ctx.cwd, PROJECT_FILE_NAME);
  const before = await readIfExists(file);
  if (before && trustState(store, file, before.text) !== 'trusted') {
    throw new KeyproxyError(
      'CONFIG_INVALID',
      `${file} is not trusted (or changed since it was), so it was not edited: it would not apply anyway. Read it, run mcp-keyproxy trust ${file}, then run this again.`,
    );
  }
  const catalog = await loadConfig({ ...loadOptions, project: false });
  const { applyProjectFile } = await import('../config/project-apply.js');
  const current = before ? applyProjectFile(catalog, before.text, file) : catalog;
  findServer(current, server);
  const text = before?.text ?? '{\n  "servers": {}\n}\n';
  const next = applyEdits(
    text,
    modify(text, ['servers', server, 'enabled'], enabled, { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } }),
  );
  // The edited file must still apply before it replaces the old one.
  applyProjectFile(catalog, next, file);
  const stamp = stampNow();
  const backup = before ? await writeBackup(file, before.text, before.mode, stamp) : undefined;
  await replaceIfUnchanged(file, before?.text, next, 0o644);
  await trustContent(store, file, next);
  const kept = backup ? ` (backup: ${backup})` : '';
  writeLine(ctx.stdout, `${enabled ? 'Enabled' : 'Disabled'} ${server} for this project in ${file}${kept}.`);
}

/** `mcp-keyproxy enable <server>` and `mcp-keyproxy disable <server>`. */
export function enableCommands(ctx: CliContext): Command[] {
  return ([true, false] as const).map((enabled) =>
    new Command(enabled ? 'enable' : 'disable')
      .description(
        `${enabled ? 'serve' : 'leave out'} a server in this project (every-server \`run\`): writes "enabled": ${enabled} to ${PROJECT_FILE_NAME}`,
      )
      .argument('<server>', 'a server of the user config or of the project file')
      .option('-c, --config <file>', 'the user config')
      .action(async (server: string, options: { config?: string }) => setEnabled(ctx, server, enabled, options.config)),
  );
}
