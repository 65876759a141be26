import { readdirSync, readFileSync } from 'node:fs';
import { releaseGroup, watchGroup } from './reaper.js';
import { withDeadline } from '../../timing/deadline.js';

/** Grace period of each step of a stop: stdin closed, then SIGTERM, then SIGKILL. */
export const STOP_STEP_MS = 2000;

/** How often a group whose leader has exited is checked for members left; and later, once a stop is long over. */
const POLL_MS = 50;
const SLOW_POLL_MS = 1000;

const posix = process.platform !== 'win32';

/**
 * Process groups with a member still running, killed on the way out even if the proxy ends abruptly; the reaper
 * covers the end no code of the proxy sees (SIGKILL).
 */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
});

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    // The child leads its own process group, so wrappers such as `npx` or `sh -c` take their children along.
    process.kill(posix ? -pgid : pgid, signal);
  } catch {
    // Already gone.
  }
}

/** False once no process of the group exists (ESRCH); a zombie still counts, and keeps the number taken. */
function groupExists(pgid: number): boolean {
  try {
    process.kill(posix ? -pgid : pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** State and process group of `pid`, from /proc (Linux); undefined once it is gone. */
function procStat(pid: number): { running: boolean; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // After the command name in parentheses: state, ppid, pgrp.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { running: state !== 'Z' && state !== 'X', pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/** Pids of the members of the group that are not zombies, from /proc (Linux). */
function runningMembers(pgid: number): number[] {
  try {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number)
      .filter((pid) => {
        const stat = procStat(pid);
        return stat?.running === true && stat.pgrp === pgid;
      });
  } catch {
    return [pgid];
  }
}

/**
 * Resolves once no process of the group runs. An init that never reaps orphans (some containers) keeps dead members
 * as zombies, so that `kill(-pgid, 0)` keeps succeeding: on Linux, /proc tells whether a member that is not a zombie
 * remains (the members seen are watched; the whole of /proc is read again only once they are gone). Reads are
 * synchronous, so a thread pool held by a stuck keychain call cannot delay them. Checks run every 50 ms while a stop
 * may be waiting (its steps), then every second on unref'd timers, which never keep the proxy alive.
 */
function whenEmpty(pgid: number): Promise<void> {
  const since = Date.now();
  let members: number[] = [];
  const runs = (): boolean => {
    if (!groupExists(pgid)) return false;
    if (process.platform !== 'linux') return true;
    members = members.filter((pid) => {
      const stat = procStat(pid);
      return stat?.running === true && stat.pgrp === pgid;
    });
    if (members.length === 0) members = runningMembers(pgid);
    return members.length > 0;
  };
  return new Promise((resolve) => {
    const check = (): void => {
      if (!runs()) return resolve();
      const stepsOver = Date.now() - since >= 3 * STOP_STEP_MS;
      const timer = setTimeout(check, stepsOver ? SLOW_POLL_MS : POLL_MS);
      // While a stop may wait for the group (bounded by its steps) the timer keeps the process running; later never.
      if (stepsOver) timer.unref();
    };
    check();
  });
}

/**
 * The process group of a server the proxy started (the server leads it), tracked — here and by the reaper — from
 * its start until no process of it runs, not merely until its leader exits: helpers the server started (an `npx`
 * chain, a worker) hold the same secrets in their environment.
 */
export class ProcessGroup {
  /** Resolves once the leader has exited and no process of the group runs. */
  readonly emptied: Promise<void>;
  private ending: Promise<void> | undefined;
  private empty = false;

  constructor(
    readonly pgid: number,
    leaderExited: Promise<void>,
  ) {
    liveGroups.add(pgid);
    watchGroup(pgid);
    this.emptied = leaderExited.then(async () => {
      if (posix) {
        // Once the leader is gone (stopped, or crashed), nothing is left to stop the rest in order: it is ended at once.
        void this.end();
        await whenEmpty(pgid);
      }
      // From here on the number may be reused by another group: it is never signalled again.
      this.empty = true;
      liveGroups.delete(pgid);
      releaseGroup(pgid);
    });
  }

  /** Resolves true once the group is empty, or false after `ms`. */
  emptyWithin(ms: number): Promise<boolean> {
    return withDeadline(
      this.emptied.then(() => true),
      ms,
      () => false,
    );
  }

  /**
   * Ends every process of the group: SIGTERM, then SIGKILL after the grace period. Resolves once the group is empty,
   * or once SIGKILL has had its grace period too (the group stays tracked until it is empty).
   */
  end(): Promise<void> {
    this.ending ??= (async () => {
      if (!this.empty && groupExists(this.pgid)) {
        this.signal('SIGTERM');
        if (await this.emptyWithin(STOP_STEP_MS)) return;
        this.signal('SIGKILL');
      }
      await this.emptyWithin(STOP_STEP_MS);
    })();
    return this.ending;
  }

  private signal(signal: NodeJS.Signals): void {
    if (!this.empty) signalGroup(this.pgid, signal);
  }
}
