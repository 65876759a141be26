import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { parseTemplate } from '../config/references.js';
import type { LoadedConfig } from '../config/types.js';
import { KeyproxyError } from '../errors.js';
import type { CliContext } from './context.js';

/** The options of `run` that describe a server on the command line instead of in a config file. */
export interface InlineOptions {
  config?: string;
  secret?: string[];
  url?: string;
  header?: string[];
}

const envVarName = /^[A-Za-z_][A-Za-z0-9_]*$/;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Adds the inline options to `run`: `--secret VAR… -- <command> [args…]`, or `--url U --header "K: V"…`. */
export function withInlineOptions(command: Command): Command {
  return command
    .argument('[command...]', 'inline, after "--": the server command and its arguments (no config file)')
    .option('--secret <VAR>', 'inline: an environment variable of the server, filled from the keychain (repeatable)', collect, [])
    .option('--url <url>', 'inline: a remote server (Streamable HTTP, SSE fallback) instead of a command')
    .option('--header <header>', 'inline, with --url: "Name: value", where the value may hold ${secret:NAME} (repeatable)', collect, []);
}

/** Keeps a command-line word literal: the shell has already expanded what the user meant to expand. */
const literal = (word: string): string => word.replaceAll('${', '$${');

function usage(message: string): KeyproxyError {
  return new KeyproxyError('USAGE', message);
}

/** The server `run` describes on its command line, or undefined when it names one of a config file. */
function inlineEntry(options: InlineOptions, command: readonly string[]): Record<string, unknown> | undefined {
  const secrets = options.secret ?? [];
  const headers = options.header ?? [];
  if (command.length === 0 && options.url === undefined) {
    if (secrets.length > 0 || headers.length > 0) {
      throw usage('--secret and --header describe a server on the command line: add "-- <command> [args…]" or --url <url>.');
    }
    return undefined;
  }
  if (command.length > 0 && options.url !== undefined) throw usage('give either "-- <command> [args…]" or --url, not both.');
  if (options.config !== undefined) throw usage('--config names a config file; an inline server (--secret / --url / "--") needs none.');
  for (const name of secrets) {
    if (!envVarName.test(name)) throw usage(`--secret ${name}: use an environment variable name (letters, digits and "_").`);
  }
  const declared = Object.fromEntries(secrets.map((name) => [name, {}]));
  if (options.url === undefined) {
    if (headers.length > 0) throw usage('--header is for a remote server (--url); a local server gets its secrets with --secret.');
    const [executable = '', ...args] = command;
    return {
      command: literal(executable),
      args: args.map(literal),
      env: Object.fromEntries(secrets.map((name) => [name, `\${secret:${name}}`])),
      secrets: declared,
    };
  }
  const headerEntries = headers.map((header) => {
    const colon = header.indexOf(':');
    if (colon <= 0) throw usage('--header: use "Name: value", e.g. --header "Authorization: Bearer ${secret:api_key}".');
    return [header.slice(0, colon).trim(), header.slice(colon + 1).trim()] as const;
  });
  // Every ${secret:NAME} the headers and the URL use is a secret of this server.
  for (const text of [options.url, ...headerEntries.map(([, value]) => value)]) {
    for (const part of parseTemplate(text)) if (part.kind === 'secret') declared[part.name] = {};
  }
  return { url: options.url, headers: Object.fromEntries(headerEntries), secrets: declared };
}

/**
 * The config `run` serves: a server described on the command line (inline mode: no config file is read), or the
 * config file found as usual.
 */
export async function configForRun(
  ctx: CliContext,
  serverName: string | undefined,
  options: InlineOptions,
  command: readonly string[],
): Promise<LoadedConfig> {
  const entry = inlineEntry(options, command);
  if (!entry) return loadConfig({ configPath: options.config, env: ctx.env, cwd: ctx.cwd });
  if (serverName === undefined) throw usage('an inline server needs a name: mcp-keyproxy run <name> --secret VAR -- <command>.');
  const { validateConfig } = await import('../config/parse.js');
  // "inline" stands where a config file's path would: messages read "inline: servers.<name>.env…".
  return validateConfig({ servers: { [serverName]: entry } }, 'inline');
}
