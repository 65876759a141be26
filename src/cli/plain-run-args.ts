import { parseArgs } from 'node:util';
import type { CollectChannel } from '../config/schema.js';
import { LOG_LEVELS, type LogLevel } from '../log/levels.js';

/** The values of `--collect` (kept here, not read from the zod schema, which the fast path never loads). */
const COLLECT_CHANNELS = ['auto', 'dialog', 'browser'] as const;

/** `run [server]` with the options an MCP client entry gives it, parsed; no server name: the aggregate. */
export interface PlainRun {
  serverName: string | undefined;
  options: { config?: string; headless?: boolean; logLevel?: LogLevel; collect?: CollectChannel; profile?: string };
}

/**
 * `argv` (as `process.argv`) when it is `run [server]` with at most `--config`/`-c`, `--headless`, `--collect`, `--profile` and a valid
 * `--log-level`, the shape every client entry has (with no server name: the aggregate); undefined for anything else
 * (help, `--only`, inline servers, a mistake), which commander parses and explains.
 */
export function plainRunArgs(argv: readonly string[]): PlainRun | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(2),
      options: {
        config: { type: 'string', short: 'c' },
        headless: { type: 'boolean' },
        'log-level': { type: 'string' },
        collect: { type: 'string' },
        profile: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch {
    return undefined;
  }
  const { positionals, values } = parsed;
  const [command, serverName] = positionals;
  if (positionals.length > 2 || command !== 'run' || serverName?.startsWith('-')) return undefined;
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) return undefined;
  const collect = values.collect;
  if (collect !== undefined && !(COLLECT_CHANNELS as readonly string[]).includes(collect)) return undefined;
  return {
    serverName,
    options: {
      ...(values.config === undefined ? {} : { config: values.config }),
      ...(values.headless === undefined ? {} : { headless: values.headless }),
      ...(logLevel === undefined ? {} : { logLevel: logLevel as LogLevel }),
      ...(collect === undefined ? {} : { collect: collect as CollectChannel }),
      ...(values.profile === undefined ? {} : { profile: values.profile }),
    },
  };
}
