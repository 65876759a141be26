import { spawn, type ChildProcess } from 'node:child_process';
import { KeyproxyError } from '../../errors.js';
import { ProcessGroup, STOP_STEP_MS } from './process-group.js';
import { withDeadline } from '../../timing/deadline.js';
import { markStartup } from '../../timing/startup-trace.js';

/** How a local downstream is launched. `env` is the complete environment (see `buildChildEnv`). */
export interface ChildSpec {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string;
}

/** A started child, a promise that settles once it has exited and its stdio has closed, and its process group. */
export interface SpawnedChild {
  process: ChildProcess;
  closed: Promise<void>;
  group?: ProcessGroup;
}

/**
 * Starts a downstream server in its own process group with stdio piped, and resolves once it runs. Kept free of
 * heavy imports: the proxy spawns the server first and loads the rest of itself (the router; for the aggregate
 * also the MCP SDK) while the server boots.
 */
export function spawnChild(spec: ChildSpec): Promise<SpawnedChild> {
  return new Promise((resolve, reject) => {
    markStartup('spawnStart');
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
    const exited = new Promise<void>((resolveExited) => child.once('exit', () => resolveExited()));
    child.once('spawn', () => {
      markStartup('spawned');
      const pid = child.pid;
      resolve({ process: child, closed, group: pid === undefined ? undefined : new ProcessGroup(pid, exited) });
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) reject(spawnError(spec.command, error));
    });
  });
}

/**
 * Stops a child in steps — stdin closed, then SIGTERM, then SIGKILL, both to its whole process group — and resolves
 * once no process of the group is left (or SIGKILL has had its grace period) and the child's stdio has closed.
 */
export async function stopChild({ process: child, closed, group }: SpawnedChild): Promise<void> {
  if (!group) return;
  if (child.exitCode === null && child.signalCode === null) {
    child.stdin?.end();
    // The leader exiting ends the rest of its group at once (see ProcessGroup); a leader still running gets SIGTERM.
    await group.emptyWithin(STOP_STEP_MS);
  }
  await group.end();
  // A process that left the group may still hold the child's stdout: the proxy does not wait for it.
  await withDeadline(closed, STOP_STEP_MS, () => {
    for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
  });
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
