import type { RotationAction } from '../../audit/events.js';
import { isLocalServer } from '../../config/types.js';
import type { Clock } from '../core/clock.js';
import type { Link } from '../core/link.js';
import type { CredentialPlan } from './credential-plan.js';
import type { ServeDeps, ServeOptions } from './deps.js';
import type { Downstream } from './downstream.js';
import { changedSecrets, fingerprint, type SecretFingerprint } from './fingerprint.js';
import { readPlan } from './read-plan.js';

/** How long a restart for new secrets lets the calls in flight at the old server finish before it is stopped. */
export const ROTATION_DRAIN_MS = 10_000;
const DRAIN_POLL_MS = 50;

/** What a fresh read of a server's secrets found against what its running downstream was given. */
export interface Reread {
  plan: CredentialPlan;
  guarded: Set<string>;
  /** Secrets added, removed or changed since, sorted; empty when every value is the same. */
  changed: string[];
}

/**
 * Reads a server's secrets again (the keychain, and sources through their cache) and compares each value's hash with
 * what the running server was given. A read that fails is logged and returns undefined: the server keeps running
 * with the values it has.
 */
export async function rereadSecrets(deps: ServeDeps, options: ServeOptions, injected: SecretFingerprint): Promise<Reread | undefined> {
  const { serverName, server } = options;
  try {
    const { plan, guarded } = await readPlan(deps, serverName, server);
    const changed = changedSecrets(injected, fingerprint(plan));
    if (changed.length === 0) deps.logger.debug({ server: serverName }, `secrets of server "${serverName}" read again: unchanged`);
    return { plan, guarded, changed };
  } catch (error) {
    deps.logger.warn(
      { server: serverName, reason: (error as Error).message },
      `could not read the secrets of server "${serverName}" again; it keeps running with those it has`,
    );
    return undefined;
  }
}

/**
 * Gives a running downstream changed secrets where it stands, when its transport allows (a remote server whose
 * secrets are in headers: the next request carries the new ones, same session). The new values are registered with
 * the scrubber first. Audited as `header`; false when the server must be restarted (or reconnected) instead.
 */
export function rotateInPlace(deps: ServeDeps, options: ServeOptions, downstream: Downstream, reread: Reread): boolean {
  if (!downstream.swapCredentials) return false;
  for (const [name, value] of reread.plan.values) deps.scrubber.add(`${options.serverName}/${name}`, value);
  let swapped: boolean;
  try {
    swapped = downstream.swapCredentials(reread.plan);
  } catch {
    // A header that can no longer be resolved (a required secret deleted): the restart says what is missing.
    swapped = false;
  }
  if (!swapped) return false;
  announceRotation(deps, options, reread.changed, 'header');
  return true;
}

/** Audits and logs a rotation about to happen (names only, never values). */
export function announceRotation(deps: ServeDeps, options: ServeOptions, changed: readonly string[], action?: RotationAction): void {
  const how = action ?? (isLocalServer(options.server) ? 'restart' : 'reconnect');
  deps.audit.secretRotated(options.serverName, changed, how);
  const doing = how === 'header' ? 'sending the new headers from the next request on' : `${how}ing it`;
  deps.logger.info(
    { server: options.serverName, secrets: changed, action: how },
    `secrets of server "${options.serverName}" changed; ${doing}`,
  );
}

/** The downstreams stopped for new secrets, and the reason the calls still in flight there fail with. */
const rotatedAway = new WeakMap<Downstream, string>();

/** Why a downstream ended, for the errors of its calls cut short: its own reason, or that it was rotated away. */
export function endReasonOf(downstream: Downstream): () => string | undefined {
  return () => rotatedAway.get(downstream) ?? downstream.endReason();
}

/** Stops a downstream for new secrets: the calls still in flight fail with an error that says so (see `endReasonOf`). */
export async function stopForRotation(downstream: Downstream | undefined, changed: readonly string[]): Promise<void> {
  if (!downstream) return;
  rotatedAway.set(
    downstream,
    `restarted because its secrets changed (${changed.join(', ')}); the call did not finish within ${ROTATION_DRAIN_MS / 1000} s, retry it`,
  );
  await downstream.transport.close().catch(() => undefined);
}

/**
 * Lets the calls in flight at `link` finish before its server is stopped for new secrets: resolves once none is
 * left, `ROTATION_DRAIN_MS` has passed, or `stopped()` says the proxy is stopping.
 */
export async function drainLink(link: Link | undefined, clock: Clock, stopped: () => boolean): Promise<void> {
  const until = clock.now() + ROTATION_DRAIN_MS;
  while (link && link.requests.size > 0 && clock.now() < until && !stopped()) {
    await new Promise<void>((resolve) => clock.after(DRAIN_POLL_MS, resolve));
  }
}
