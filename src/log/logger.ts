import type { LogFn, Logger as PinoLogger } from 'pino';
import type { Scrubber } from './scrubber.js';
import type { LogLevel } from './levels.js';
import { afterStartup } from '../timing/startup-trace.js';
import { showsStacks } from './stacks.js';

/** What the code logs with: pino's methods at the levels it uses (a pino logger is one). */
export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
}

/** Where log lines go; defaults to stderr. Tests pass their own. */
export interface LogSink {
  write(line: string): void;
}

type Method = keyof Logger;
const LEVEL_VALUES: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** How each logger with lines waiting writes them (loading pino now): what an exit must wait for (`logsWritten`). */
const writers = new Set<() => Promise<void>>();

/** Resolves once every line logged so far has been written (call before exiting, or before writing past the logger). */
export async function logsWritten(): Promise<void> {
  await Promise.all([...writers].map((write) => write()));
}

/** Lines below this level wait for the end of start-up (or this long at most) before pino is loaded for them. */
const INFO_WAIT_MS = 1000;

/**
 * A pino logger writing to stderr (stdout belongs to JSON-RPC). Every line passes through the scrubber, so a
 * secret value that reaches a log call by any path is replaced before it is written. Errors carry their stack
 * traces only at debug and trace.
 *
 * pino (a third of the code a client's start evaluates) is not loaded before a line is logged at or above the
 * level: at once for a warning or an error, and for an info or debug line (on a plain start, "server started", right
 * after the spawn) only once start-up has ended (the proxy's first answer; at most INFO_WAIT_MS), so that loading it
 * does not hold up the client's first messages. Lines logged before it is loaded wait, in order and with the time
 * they were logged; `logsWritten` writes them at once. (Their objects are serialized when written.)
 */
export function createLogger(options: { level: LogLevel; scrubber: Scrubber; sink?: LogSink }): Logger {
  const threshold = LEVEL_VALUES[options.level];
  let real: PinoLogger | undefined;
  let waiting: Array<{ method: Method; args: unknown[]; time: number }> = [];
  let load: Promise<void> | undefined;
  // The time of the line being written: a waiting line keeps the moment it was logged.
  let replayedTime: number | undefined;
  // pino could not be loaded (a broken install): lines are dropped rather than kept for ever.
  let lost = false;
  const write = (): Promise<void> => (load ??= startLoading());
  const startLoading = (): Promise<void> =>
    import('pino').then(
      ({ default: pino }) => {
        real = createPino(pino, options, () => replayedTime ?? Date.now());
        for (const { method, args, time } of waiting) {
          replayedTime = time;
          call(real, method, args);
        }
        replayedTime = undefined;
        waiting = [];
        writers.delete(write);
      },
      (error: unknown) => {
        process.stderr.write(`mcp-keyproxy: the logger could not be loaded (${String(error)}); no log lines are written\n`);
        waiting = [];
        lost = true;
        writers.delete(write);
      },
    );
  let scheduled = false;
  const method =
    (name: Method): LogFn =>
    (...args: unknown[]) => {
      if (real) return call(real, name, args);
      if (lost || LEVEL_VALUES[name] < threshold) return;
      waiting.push({ method: name, args, time: Date.now() });
      writers.add(write);
      if (LEVEL_VALUES[name] >= LEVEL_VALUES.warn) void write();
      else if (!scheduled) {
        scheduled = true;
        afterStartup(() => void write());
        setTimeout(() => void write(), INFO_WAIT_MS).unref();
      }
    };
  return { error: method('error'), warn: method('warn'), info: method('info'), debug: method('debug') };
}

function call(logger: PinoLogger, method: Method, args: unknown[]): void {
  (logger[method] as (...args: unknown[]) => void)(...args);
}

function createPino(
  pino: typeof import('pino').default,
  options: { level: LogLevel; scrubber: Scrubber; sink?: LogSink },
  now: () => number,
): PinoLogger {
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
  return pino(
    { level: options.level, base: { name: 'mcp-keyproxy' }, serializers: { err }, timestamp: () => `,"time":${now()}` },
    scrubbingSink,
  );
}

/**
 * A sink for a terminal: each (already scrubbed) JSON line printed by pino-pretty in a human-readable form, and
 * scrubbed again as printed. pino-pretty is loaded here, only when stderr is a terminal, so the proxy started by a
 * client (stderr is a pipe, JSON lines) never pays for it.
 */
export async function prettySink(scrubber: Scrubber, options: { colorize: boolean }): Promise<LogSink> {
  // A CommonJS package: its module.exports is `default`, in the bundle as in plain Node (its types say otherwise).
  const [{ default: pinoPretty }, { default: pino }] = await Promise.all([
    import('pino-pretty') as unknown as Promise<{ default: typeof import('pino-pretty') }>,
    import('pino'),
  ]);
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
