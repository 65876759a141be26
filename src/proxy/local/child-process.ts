import { spawn, type ChildProcess } from 'node:child_process';
import { KeyproxyError } from '../../errors.js';
import { releaseGroup, watchGroup } from './reaper.js';
import { withDeadline } from '../../timing/deadline.js';

/** How a local downstream is launched. `env` is the complete environment (see `buildChildEnv`). */
export interface ChildSpec {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string;
}

/** Grace periods of the stepwise stop: stdin closed, then SIGTERM, then SIGKILL. */
const STOP_STEP_MS = 2000;

/**
 * Process groups still running, killed on the way out even if the proxy ends abruptly; the reaper covers the end
 * no code of the proxy sees (SIGKILL).
 */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // The child leads its own process group, so wrappers such as `npx` or `sh -c` take their children along.
    process.kill(process.platform === 'win32' ? pid : -pid, signal);
  } catch {
    // Already gone.
  }
}

/** A started child and a promise that settles once it has exited and its stdio has closed. */
export interface SpawnedChild {
  process: ChildProcess;
  closed: Promise<void>;
}

/**
 * Starts a downstream server in its own process group with stdio piped, and resolves once it runs. Kept free of
 * heavy imports: the proxy spawns the server first and loads the rest of itself (the router; for the aggregate
 * also the MCP SDK) while the server boots.
 */
export function spawnChild(spec: ChildSpec): Promise<SpawnedChild> {
  return new Promise((resolve, reject) => {
    const child = spawn(spec.command, [...spec.args], {
      env: spec.env,
      cwd: spec.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
      shell: false,
    });
    // Listened for from the start, so an exit before the transport starts is not missed.
    const closed = new Promise<void>((resolveClosed) => child.once('close', () => resolveClosed()));
    child.once('spawn', () => {
      const pid = child.pid;
      if (pid !== undefined) {
        liveGroups.add(pid);
        watchGroup(pid);
        child.once('exit', () => {
          liveGroups.delete(pid);
          releaseGroup(pid);
        });
      }
      resolve({ process: child, closed });
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) reject(spawnError(spec.command, error));
    });
  });
}

/** Stops a child in steps (stdin closed, SIGTERM, SIGKILL to its group) and resolves once it has exited. */
export async function stopChild({ process: child, closed: exited }: SpawnedChild): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exitsWithin = (ms: number): Promise<boolean> =>
    withDeadline(
      exited.then(() => true),
      ms,
      () => false,
    );
  child.stdin?.end();
  if (await exitsWithin(STOP_STEP_MS)) return;
  killGroup(pid, 'SIGTERM');
  if (await exitsWithin(STOP_STEP_MS)) return;
  killGroup(pid, 'SIGKILL');
  await exited;
}

function spawnError(command: string, error: NodeJS.ErrnoException): KeyproxyError {
  const what =
    error.code === 'ENOENT'
      ? `command "${command}" was not found (check "command" in the config and that it is on PATH)`
      : error.code === 'EACCES'
        ? `command "${command}" is not executable`
        : `command "${command}" could not be started (${error.code ?? error.message})`;
  return new KeyproxyError('DOWNSTREAM_FAILED', `The server could not start: ${what}.`, { cause: error });
}
