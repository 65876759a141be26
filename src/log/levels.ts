/**
 * Log levels accepted by `--log-level` and `MCP_KEYPROXY_LOG_LEVEL`. Apart from the logger, so that what reads the
 * command line before the CLI loads (src/prefetch.ts) does not load pino.
 */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];
