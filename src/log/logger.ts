import pino, { type Logger } from 'pino';
import type { Scrubber } from './scrubber.js';
import type { LogLevel } from './levels.js';
import { showsStacks } from './stacks.js';

/** Where log lines go; defaults to stderr. Tests pass their own. */
export interface LogSink {
  write(line: string): void;
}

/**
 * A pino logger writing to stderr (stdout belongs to JSON-RPC). Every line passes through the scrubber, so a
 * secret value that reaches a log call by any path is replaced before it is written. Errors carry their stack
 * traces only at debug and trace.
 */
export function createLogger(options: { level: LogLevel; scrubber: Scrubber; sink?: LogSink }): Logger {
  // A destination, never a pino transport: the CLI runs from a bundle (scripts/bundle.mjs), which lacks the
  // worker files transports start.
  const sink = options.sink ?? pino.destination({ fd: 2, sync: true });
  const scrubbingSink = { write: (line: string) => sink.write(options.scrubber.scrub(line, 'log')) };
  const withStacks = showsStacks(options.level);
  const err = (error: unknown): unknown => {
    const serialized: unknown = pino.stdSerializers.err(error as Error);
    // Not an error (serialized as is): nothing to drop, and the object is the caller's.
    if (!withStacks && serialized !== error) dropStacks(serialized);
    return serialized;
  };
  return pino({ level: options.level, base: { name: 'mcp-keyproxy' }, serializers: { err } }, scrubbingSink);
}

/**
 * A sink for a terminal: each (already scrubbed) JSON line printed by pino-pretty in a human-readable form, and
 * scrubbed again as printed. pino-pretty is loaded here, only when stderr is a terminal, so the proxy started by a
 * client (stderr is a pipe, JSON lines) never pays for it.
 */
export async function prettySink(scrubber: Scrubber, options: { colorize: boolean }): Promise<LogSink> {
  // A CommonJS package: its module.exports is `default`, in the bundle as in plain Node (its types say otherwise).
  const { default: pinoPretty } = (await import('pino-pretty')) as unknown as { default: typeof import('pino-pretty') };
  const prettify = pinoPretty.prettyFactory({ colorize: options.colorize, ignore: 'pid,hostname,name', translateTime: 'SYS:HH:MM:ss.l' });
  const stderr = pino.destination({ fd: 2, sync: true });
  return { write: (line: string) => stderr.write(scrubber.scrub(prettify(line), 'log')) };
}

/** Removes the stack of a serialized error and of the errors serialized inside it (not other objects it holds). */
function dropStacks(serialized: unknown): void {
  if (typeof serialized !== 'object' || serialized === null) return;
  const proto: unknown = Object.getPrototypeOf(serialized);
  const visit = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== proto) return;
    const record = value as Record<string, unknown>;
    delete record.stack;
    for (const nested of Object.values(record)) {
      if (Array.isArray(nested)) nested.forEach(visit);
      else visit(nested);
    }
  };
  visit(serialized);
}
