import pino, { type Logger } from 'pino';
import type { Scrubber } from './scrubber.js';

/** Log levels accepted by `--log-level` and `MCP_KEYPROXY_LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where log lines go; defaults to stderr. Tests pass their own. */
export interface LogSink {
  write(line: string): void;
}

/**
 * A pino logger writing to stderr (stdout belongs to JSON-RPC). Every line passes through the scrubber, so a
 * secret value that reaches a log call by any path is replaced before it is written.
 */
export function createLogger(options: { level: LogLevel; scrubber: Scrubber; sink?: LogSink }): Logger {
  // A destination, never a pino transport: the CLI runs from an esbuild bundle (scripts/bundle.mjs), which lacks the
  // worker files transports start.
  const sink = options.sink ?? pino.destination({ fd: 2, sync: true });
  const scrubbingSink = { write: (line: string) => sink.write(options.scrubber.scrub(line, 'log')) };
  return pino({ level: options.level, base: { name: 'mcp-keyproxy' } }, scrubbingSink);
}
