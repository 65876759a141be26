import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as NapiKeyring from '@napi-rs/keyring';
import { KeyproxyError } from '../errors.js';
import { keychainCallsInFlight } from './calls-in-flight.js';
import { breakKeyringConnections, keyringConnectionEpoch, noteSocketsBeforeKeyring } from './keyring-connections.js';
import { userBusFallback } from './user-bus.js';

/** One keychain credential, as KeyringStore uses it (the subset of @napi-rs/keyring's AsyncEntry it needs). */
export interface KeyringEntry {
  getPassword(): Promise<string | null>;
  setPassword(password: string): Promise<void>;
  deleteCredential(): Promise<boolean>;
}

/** The keychain calls KeyringStore makes; injectable so tests can fake the library. */
export interface KeyringBackend {
  /** Human-readable backend name, e.g. `secret-service`. */
  readonly name: string;
  /** Opens one credential; may throw synchronously (for example when there is no D-Bus session). */
  entry(service: string, account: string): KeyringEntry;
  /** Every account and value of one service, in one call. */
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
  /**
   * Ends the calls given up after their timeout, which would otherwise keep waiting (on an unlock prompt) and
   * hold a thread, and a value, for ever. Entries keep working: they reconnect. Optional: fakes need none.
   */
  abandon?(): void;
}

/** The keychain backend name for a platform. */
export function backendNameFor(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'macos-keychain';
  if (platform === 'win32') return 'windows-credential-manager';
  return 'secret-service';
}

// Pinned so Linux never silently falls back to the kernel keyutils store, whose values vanish on reboot.
// Ignored on other platforms.
const entryOptions: NapiKeyring.EntryOptions = { linux: { store: 'secret-service' } };

let loaded: typeof NapiKeyring | undefined;

function loadLibrary(): typeof NapiKeyring {
  // Loaded on first use, so a missing native binary is a clear keychain error instead of a crash at start-up.
  if (!loaded) {
    if (process.platform === 'linux') {
      // The native library reads the bus address from this process's environment; the children never see it.
      const bus = userBusFallback(process.env, process.getuid?.(), existsSync);
      // process.env turns undefined into the string "undefined": assign only a found address.
      if (bus !== undefined) process.env.DBUS_SESSION_BUS_ADDRESS = bus;
      noteSocketsBeforeKeyring();
      // A last resort for any way out that skips endBlockedKeychainCalls (an uncaught error): a call still
      // blocked would make exit wait for its thread for ever.
      process.once('exit', () => {
        if (keychainCallsInFlight() > 0) breakKeyringConnections();
      });
    }
    try {
      loaded = createRequire(import.meta.filename)('@napi-rs/keyring') as typeof NapiKeyring;
    } catch (error) {
      throw new KeyproxyError(
        'KEYCHAIN_UNAVAILABLE',
        'The native keychain module (@napi-rs/keyring) could not be loaded on this platform. Reinstall ' +
          'mcp-keyproxy (npm installs the binary as an optional dependency) and run `mcp-keyproxy doctor`.',
        { cause: error },
      );
    }
  }
  return loaded;
}

/** An AsyncEntry that opens its connection again when abandon() broke the one it had. */
function reconnectingEntry(service: string, account: string): KeyringEntry {
  const open = (): NapiKeyring.AsyncEntry => new (loadLibrary().AsyncEntry)(service, account, entryOptions);
  let entry = open(); // opened at once, so a missing D-Bus session throws here
  let epoch = keyringConnectionEpoch();
  const current = (): NapiKeyring.AsyncEntry => {
    if (epoch !== keyringConnectionEpoch()) {
      entry = open();
      epoch = keyringConnectionEpoch();
    }
    return entry;
  };
  return {
    getPassword: () => current().getPassword(),
    setPassword: (password) => current().setPassword(password),
    deleteCredential: () => current().deleteCredential(),
  };
}

/** The real backend: @napi-rs/keyring AsyncEntry and findCredentialsAsync, pinned to the Secret Service on Linux. */
export function napiKeyringBackend(platform: NodeJS.Platform = process.platform): KeyringBackend {
  return {
    name: backendNameFor(platform),
    entry: reconnectingEntry,
    findCredentials: (service) => loadLibrary().findCredentialsAsync(service),
    abandon: () => {
      breakKeyringConnections();
    },
  };
}
