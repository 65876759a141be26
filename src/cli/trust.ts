import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Command } from 'commander';
import { CONFIG_FILE_NAME } from '../config/paths.js';
import { PROJECT_FILE_NAME } from '../config/project-name.js';
import { findProjectFile, loadConfig, trustStoreOf, workingDirectoryConfig } from '../config/load.js';
import type { ServerConfig } from '../config/schema.js';
import { forgetTrust, trustContent, trustState } from '../config/trust.js';
import { isLocalServer, type LoadedConfig } from '../config/types.js';
import { KeyproxyError } from '../errors.js';
import { writeLine, type CliContext } from './context.js';

/** What a server entry runs, for the person deciding whether to trust a file. */
function runs(server: ServerConfig): string {
  return isLocalServer(server) ? [server.command, ...server.args].join(' ') : server.url;
}

/** The lines that say what trusting `file` (content `text`) lets it do. */
async function summary(ctx: CliContext, file: string, text: string, configPath: string | undefined): Promise<string[]> {
  if (path.basename(file) === CONFIG_FILE_NAME) {
    const { parseConfig } = await import('../config/parse.js');
    const config = parseConfig(text, file);
    return Object.entries(config.servers).map(([name, server]) => `  ${name}: runs ${runs(server)}`);
  }
  const catalog = await loadConfig({ configPath, env: ctx.env, cwd: ctx.cwd, project: false });
  const { applyProjectFile } = await import('../config/project-apply.js');
  const layered = applyProjectFile(catalog, text, file);
  return Object.entries(layered.servers).flatMap(([name, server]) => describeChange(catalog, layered, name, server, file));
}

function describeChange(catalog: LoadedConfig, layered: LoadedConfig, name: string, server: ServerConfig, file: string): string[] {
  if (layered.definedIn?.[name] === file) return [`  ${name} (this project's own server): runs ${runs(server)}`];
  const before = catalog.servers[name];
  if (!before) return [];
  const changes: string[] = [];
  if (before.enabled !== server.enabled) changes.push(server.enabled ? 'enabled' : 'disabled');
  if (isLocalServer(before) && isLocalServer(server)) {
    const changed = Object.keys(server.env).filter((key) => before.env[key] !== server.env[key]);
    if (changed.length > 0) changes.push(`env ${changed.map((key) => `${key}=${server.env[key]}`).join(' ')}`);
  }
  return changes.length > 0 ? [`  ${name}: ${changes.join('; ')}`] : [];
}

/** The files `trust` acts on: the one named, or those found from the working directory. */
async function targets(ctx: CliContext, given: string | undefined, configPath: string | undefined): Promise<string[]> {
  if (given !== undefined) {
    const file = path.resolve(ctx.cwd, given);
    const base = path.basename(file);
    if (base !== PROJECT_FILE_NAME && base !== CONFIG_FILE_NAME) {
      throw new KeyproxyError(
        'USAGE',
        `${file}: only a project file (${PROJECT_FILE_NAME}) or a ${CONFIG_FILE_NAME} found in the working directory is trusted.`,
      );
    }
    return [file];
  }
  const found = [await workingDirectoryConfig({ configPath, env: ctx.env, cwd: ctx.cwd }), await findProjectFile(ctx.cwd)];
  const files = found.filter((file): file is string => file !== undefined);
  if (files.length === 0) {
    throw new KeyproxyError(
      'NOT_FOUND',
      `nothing to trust: no ${PROJECT_FILE_NAME} in ${ctx.cwd} or a parent, and no ${CONFIG_FILE_NAME} in ${ctx.cwd} (or --config is given).`,
    );
  }
  return files;
}

/** `mcp-keyproxy trust [file] [--forget]`: let a project file (or a working-directory config) take effect. */
export function trustCommand(ctx: CliContext): Command {
  return new Command('trust')
    .description(
      `trust the ${PROJECT_FILE_NAME} (and a ./${CONFIG_FILE_NAME}) found from the working directory, as it is now: until it changes, it is applied (like direnv allow)`,
    )
    .argument('[file]', `the file to trust (default: those found from the working directory)`)
    .option('--forget', 'stop trusting it')
    .option('-c, --config <file>', 'the user config a project file is checked against')
    .action(async (given: string | undefined, options: { forget?: boolean; config?: string }) => {
      const store = trustStoreOf({ env: ctx.env, cwd: ctx.cwd });
      for (const file of await targets(ctx, given, options.config)) {
        if (options.forget) {
          const forgotten = await forgetTrust(store, file);
          writeLine(ctx.stdout, forgotten ? `No longer trusted: ${file}` : `${file} was not trusted; nothing to forget.`);
          continue;
        }
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (error) {
          throw new KeyproxyError('NOT_FOUND', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}).`, {
            cause: error,
          });
        }
        // Checked before it is trusted: a file that cannot apply is refused now, not at the next start.
        const lines = await summary(ctx, file, text, options.config);
        if (trustState(store, file, text) === 'trusted') {
          writeLine(ctx.stdout, `Already trusted as it is: ${file}`);
          continue;
        }
        await trustContent(store, file, text);
        writeLine(ctx.stdout, `Trusted ${file} as it is now (sha256 recorded; any change makes it untrusted again).`);
        if (lines.length > 0) writeLine(ctx.stdout, `It applies:\n${lines.join('\n')}`);
      }
    });
}
