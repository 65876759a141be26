import type { CodeCacheUse } from './code-cache.js';

/**
 * Where start-up time goes, recorded only when `MCP_KEYPROXY_TRACE_STARTUP=1`: each stage's first moment (ms since
 * the process began, as `performance.now()` counts), printed as one JSON line on stderr once the first byte has gone
 * to the client. Otherwise every call returns after one boolean test: nothing is timed, kept or printed.
 * bench/startup.mjs reads the line.
 */

/** The stages, in the order they happen on the `run <server>` path of a local server. */
export type StartupStage =
  | 'binStart'
  | 'keychainPrefetch'
  | 'earlyDone'
  | 'bundleEvaluated'
  | 'configStart'
  | 'configRead'
  | 'keychainStart'
  | 'keychainDone'
  | 'spawnStart'
  | 'spawned'
  | 'clientFirstByte'
  | 'childFirstByte'
  | 'firstByteOut';

/** Read once: the flag cannot change for a running process. */
const enabled = process.env.MCP_KEYPROXY_TRACE_STARTUP === '1';
const marks: Partial<Record<StartupStage, number>> = {};
let printed = false;

/** What the compiled-code cache did (compile-cache.ts), printed with the trace: its lists as of the first byte out. */
let codeCache: CodeCacheUse | undefined;

/** Has the trace say which chunks came from the compiled-code cache and which were compiled. */
export function traceCodeCache(use: CodeCacheUse): void {
  if (enabled) codeCache = use;
}

/** True when start-up is being traced (a caller may skip building what it would only trace). */
export const tracingStartup = enabled;

/** Records the first time `stage` is reached (`at`: a `performance.now()` taken earlier, e.g. by bin/). */
export function markStartup(stage: StartupStage, at?: number): void {
  if (!enabled || marks[stage] !== undefined) return;
  marks[stage] = at ?? performance.now();
}

/** What waits for the end of start-up (`afterStartup`); undefined once it has ended. */
let waiting: Array<() => void> | undefined = [];

/**
 * Runs `work` once start-up has ended (the first byte sent to the client), at once if it has: for what can wait
 * and would otherwise slow the proxy's first answer (loading pino for an info line, for instance).
 */
export function afterStartup(work: () => void): void {
  if (waiting) waiting.push(work);
  else work();
}

/** Records the first byte sent to the client and prints the trace (once): start-up ends there. */
export function startupFinished(): void {
  if (waiting) {
    const work = waiting;
    waiting = undefined;
    for (const run of work) run();
  }
  if (!enabled || printed) return;
  printed = true;
  markStartup('firstByteOut');
  // The global is perf_hooks' performance (not imported: loading perf_hooks would cost every start); its type here
  // lacks nodeTiming.
  const { bootstrapComplete, environment } = (performance as unknown as typeof import('node:perf_hooks').performance).nodeTiming;
  const line = { startupTrace: { ...marks, nodeEnvironment: environment, nodeBootstrapComplete: bootstrapComplete, codeCache } };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}
