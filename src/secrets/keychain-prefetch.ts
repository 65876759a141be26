import { lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { platformStateDir } from '../config/paths.js';
import { markStartup } from '../timing/startup-trace.js';
import { trackKeychainCall } from './calls-in-flight.js';
import { napiKeyringBackend, type KeyringBackend } from './keyring-backend.js';
import { keychainService } from './store.js';

/**
 * The keychain read of a client's start, begun before the CLI has loaded.
 *
 * `run <server>` must read the server's keychain secrets before it can spawn anything, and that read answers from
 * another thread and another process (the Secret Service). bin/ begins it at its first line (src/early.ts), so
 * it runs while the bundle is evaluated and the config read (together about as long as the read itself); the
 * store's first read of that service then takes its answer (`claimPrefetchedRead`) instead of asking again.
 *
 * Only for a server whose last start in the same profile read the keychain: a hint file in the state directory
 * (`keychain-prefetch/<profile>/<server>`, this user's, written and removed by `noteKeychainUse`). So a start never
 * touches a keychain it would not have read (a server whose secrets all come from env: or file: sources must not
 * wake or start a Secret Service). What the early read finds is only used by the read the start makes anyway,
 * after the config has been checked; unused, it stays in this process until it ends, handed to nothing.
 */

type Credentials = Array<{ account: string; password: string }>;

/** Early reads not yet claimed, by keychain service. */
const early = new Map<string, Promise<Credentials>>();
/** Services whose hint was found at start (so `noteKeychainUse` knows whether to write or remove one). */
const hinted = new Set<string>();

function hintFile(env: NodeJS.ProcessEnv, profile: string, server: string): string {
  return path.join(platformStateDir(process.platform, env, homedir()), 'keychain-prefetch', profile, server);
}

/** True for a regular file of this user's that nobody else can write (always true on Windows for a file). */
function ownHint(file: string): boolean {
  try {
    const info = lstatSync(file);
    return info.isFile() && (process.platform === 'win32' || (info.uid === process.getuid?.() && (info.mode & 0o022) === 0));
  } catch {
    return false;
  }
}

/**
 * Begins the read of `server`'s keychain secrets in `profile` when its last start read them (see above); never
 * throws and never waits. `profile` is already resolved (`resolveProfile`).
 */
export function beginKeychainPrefetch(
  server: string,
  profile: string,
  env: NodeJS.ProcessEnv,
  backend: Pick<KeyringBackend, 'findCredentials'> = napiKeyringBackend(),
): void {
  const service = keychainService(server, profile);
  if (early.has(service) || !ownHint(hintFile(env, profile, server))) return;
  hinted.add(service);
  markStartup('keychainPrefetch');
  let read: Promise<Credentials>;
  try {
    // Tracked like every keychain call: one still blocked at exit (an unlock prompt) is ended, not waited for.
    read = trackKeychainCall(backend.findCredentials(service));
  } catch {
    return; // no keychain library or no D-Bus session: the start's own read says so, with the fix
  }
  // An unclaimed failure is nobody's error: the start's own read (which makes the call again) reports it.
  read.catch(() => undefined);
  early.set(service, read);
}

/** The early read of `service`, once (the caller makes any further call itself); undefined when none was begun. */
export function claimPrefetchedRead(service: string): Promise<Credentials> | undefined {
  const read = early.get(service);
  early.delete(service);
  return read;
}

/**
 * Records whether this start of `server` read the keychain, so that the next start begins that read early (or no
 * longer does); writes or removes the hint only when that changed. Best effort: a state directory that cannot be
 * written only costs the next start its head start.
 */
export function noteKeychainUse(server: string, profile: string, env: NodeJS.ProcessEnv, readKeychain: boolean): void {
  const service = keychainService(server, profile);
  if (!readKeychain) early.delete(service);
  if (readKeychain === hinted.has(service)) return;
  const file = hintFile(env, profile, server);
  try {
    if (readKeychain) {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, '', { mode: 0o600 });
    } else {
      rmSync(file, { force: true });
    }
  } catch {
    // see above
  }
}
