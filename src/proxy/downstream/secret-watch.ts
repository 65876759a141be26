import type { ServerConfig } from '../../config/schema.js';
import { touchChangeStamp, watchChangeStamp } from '../../secrets/change-stamp.js';
import { isCacheable, type CachePolicy } from '../../sources/cache-policy.js';
import type { SecretOutcome } from '../../sources/cached-read.js';
import type { ServeDeps } from './deps.js';
import { readSourceValues } from './source-values.js';

/** Part of a value's time to live after which a running proxy reads it again in the background. */
const REFRESH_AT = 0.9;
/** Wait before trying again a background refresh whose source failed (or a tenth of the ttl, if shorter, but at least MIN_GAP_MS). */
const RETRY_MS = 60_000;
/** The shortest wait between two background reads of one server's sources (a tiny ttl must not become a loop). */
const MIN_GAP_MS = 5000;

/** A served server that can be told to read its secrets again (one that runs with injected values). */
export interface Recheckable {
  recheck(): Promise<void>;
}

function canRecheck(served: unknown): served is Recheckable {
  return typeof (served as Partial<Recheckable> | undefined)?.recheck === 'function';
}

/**
 * Keeps a running proxy's secrets current (the aggregate's members, or the one server of `run <server>`): reads
 * cached op:// and command values again in the background before they expire (never in a request's way), and has a
 * server whose secrets changed given the new values, whether this proxy refreshed them or another process did
 * (`secrets set`, `delete`, `refresh`: the change stamp in the state directory, watched with a poll as well; only the
 * servers it names are read again). Notes expired values in use for `keyproxy__status`.
 */
export class SecretWatch {
  private readonly timers = new Map<string, () => void>();
  private readonly notes = new Map<string, string>();
  private members: ReadonlyMap<string, unknown> | undefined;
  private stopWatching: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly deps: ServeDeps,
    private readonly servers: ReadonlyMap<string, ServerConfig>,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** The dependencies of the servers it watches: every read of their sources is heard here. */
  get serveDeps(): ServeDeps {
    return { ...this.deps, sourceReads: (server, outcomes, policy) => this.hear(server, outcomes, policy) };
  }

  /** Why a server runs on an expired cached value, for `keyproxy__status`; undefined when it does not. */
  note(server: string): string | undefined {
    return this.notes.get(server);
  }

  /** Starts watching the change stamp once the served servers exist (by name; those that can `recheck` are asked). */
  attach(members: ReadonlyMap<string, unknown>): void {
    this.members = members;
    this.stopWatching = watchChangeStamp((servers) => void this.recheckNamed(servers), { env: this.env });
  }

  /** Stops every timer and the watch (the proxy is stopping). */
  stop(): void {
    this.stopped = true;
    this.stopWatching?.();
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  /** Hears what a read of a server's sources found (reads made before the watch existed are handed in here). */
  hear(server: string, outcomes: readonly SecretOutcome[], policy: CachePolicy): void {
    const stale = outcomes.filter((outcome) => outcome.how === 'stale');
    if (stale.length > 0 && policy.stale === 'warn') {
      this.notes.set(
        server,
        `using expired cached ${stale.map((outcome) => outcome.secret).join(', ')}: ${stale[0]?.error?.message ?? 'the source failed'}`,
      );
    } else if (!outcomes.some((outcome) => outcome.how === 'failed')) {
      this.notes.delete(server);
    }
    if (policy.ttlMs <= 0 || this.stopped) return;
    const cached = outcomes.filter((outcome) => isCacheable(outcome.source) && outcome.fetchedAt !== undefined);
    const failing = outcomes.some((outcome) => isCacheable(outcome.source) && (outcome.how === 'stale' || outcome.how === 'failed'));
    if (cached.length === 0 && !failing) return;
    const now = this.deps.clock.now();
    const due = failing
      ? now + Math.min(RETRY_MS, Math.max(MIN_GAP_MS, policy.ttlMs / 10))
      : Math.max(now + MIN_GAP_MS, Math.min(...cached.map((outcome) => outcome.fetchedAt! + policy.ttlMs * REFRESH_AT)));
    this.timers.get(server)?.();
    this.timers.set(
      server,
      this.deps.clock.after(Math.max(0, due - now), () => void this.refresh(server)),
    );
  }

  /** Reads a server's sources again (ignoring fresh entries), then restarts it if a value changed. */
  private async refresh(server: string): Promise<void> {
    this.timers.delete(server);
    const config = this.servers.get(server);
    if (!config || this.stopped) return;
    let changed = false;
    try {
      const deps = {
        ...this.serveDeps,
        sourceReads: (name: string, outcomes: readonly SecretOutcome[], policy: CachePolicy) => {
          changed = outcomes.some((outcome) => outcome.how === 'read' && outcome.changed);
          this.hear(name, outcomes, policy);
        },
      };
      await readSourceValues(deps, server, config, Object.keys(config.secrets), { force: true });
    } catch (error) {
      this.deps.logger.warn({ server, reason: (error as Error).message }, `background refresh of server "${server}" failed`);
    }
    if (this.stopped) return;
    if (changed) {
      // Other proxies serving the same server learn of it from the stamp.
      await touchChangeStamp([server], this.env).catch((error: unknown) =>
        this.deps.logger.debug({ reason: (error as Error).message }, 'could not write the change stamp'),
      );
    }
    const member = this.members?.get(server);
    if (canRecheck(member)) await member.recheck();
  }

  /** Rechecks the served servers the stamp names (all of them when it names none). */
  private async recheckNamed(servers: readonly string[]): Promise<void> {
    if (this.stopped || !this.members) return;
    const named = servers.length === 0 ? [...this.members.keys()] : servers.filter((name) => this.members!.has(name));
    await Promise.all(
      named
        .map((name) => this.members!.get(name))
        .filter(canRecheck)
        .map((member) => member.recheck()),
    );
  }
}
