import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../../log/logger.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { CollectChannel, ServerConfig } from '../../config/schema.js';
import type { ConsentStore } from '../../consent/store.js';
import type { CredentialDialog } from '../../dialog/credential-dialog.js';
import type { Scrubber } from '../../log/scrubber.js';
import type { OAuthSessions } from '../../oauth/sessions.js';
import type { SecretStore } from '../../secrets/store.js';
import type { SecretOutcome } from '../../sources/cached-read.js';
import type { CachePolicy } from '../../sources/cache-policy.js';
import type { Clock } from '../core/clock.js';
import type { MessageGuard } from '../core/pattern-guard.js';
import type { DownstreamLauncher } from './downstream.js';
import type { HeldWrites } from './held-writes.js';

/** What serving one server needs to know. */
export interface ServeOptions {
  serverName: string;
  server: ServerConfig;
  /** No UI may be shown: a missing secret is an error that names the fix, and consent is not asked. */
  headless: boolean;
  /** The proxy's own environment: source of `${env:…}` and of the allowlisted variables. */
  parentEnv: NodeJS.ProcessEnv;
  /** The package version, shown as the proxy's own serverInfo while it answers for a gated server. */
  version: string;
  /** `run --collect`: where missing keys are typed, over every server's own "collect". */
  collect?: CollectChannel;
  /** The credential profile (`run --profile`); undefined or `default`: the keychain names of before profiles. */
  profile?: string;
  /** Shown in the setup tool of a gated server: e.g. a project file left unused because it is not trusted. */
  notices?: readonly string[];
}

/**
 * The collaborators, handed in at the command boundary so tests can use an in-memory store, dialog, launcher and
 * clock, and an `InMemoryTransport` as the client.
 */
export interface ServeDeps {
  store: SecretStore;
  logger: Logger;
  scrubber: Scrubber;
  /** Opens the client side, e.g. a `StdioFrontTransport` (called once). */
  openFront: () => Promise<Transport>;
  /** The native dialog (only used in interactive mode). */
  dialog: CredentialDialog;
  /** The "Allow always" answers kept between runs (the real one: `consent.json` in the state directory). */
  consent: ConsentStore;
  /** Where every secret read, injection, consent decision and dialog outcome is recorded (names only). */
  audit: AuditLog;
  /** Starts a downstream of any kind (the real one: `launchDownstream` in `proxy/launch.ts`). */
  launcher: DownstreamLauncher;
  /** Time and timers of restarts and backoff. */
  clock: Clock;
  /** The pattern guard, when a server asks for it (`patternGuard`). */
  guard?: MessageGuard;
  /** Opens a URL in the user's browser (the real one: `openUrl` of src/browser/); without it, the link is only shown. */
  openBrowser?: (url: string) => Promise<void>;
  /** Milliseconds a key page stays valid (default and most: 10 minutes); tests shorten it. */
  pageTtlMs?: number;
  /** OAuth of remote servers whose config has `auth` (tokens in the keychain); absent: no OAuth. */
  oauth?: OAuthSessions;
  /** Environment of secret sources (`env:`, `$CREDENTIALS_DIRECTORY`, programs run for a value); default: process.env. */
  sourceEnv?: NodeJS.ProcessEnv;
  /** The keychain cache of op:// and command values (service mcp-keyproxy-cache/<server>); absent: nothing is cached. */
  cacheStore?: SecretStore;
  /** Holds the cache writes of the start's source reads until the servers have started; absent: written at once. */
  cacheWrites?: HeldWrites;
  /** Hears what each read of a server's sourced secrets found (status, background refresh); never logs a value. */
  sourceReads?: (server: string, outcomes: readonly SecretOutcome[], policy: CachePolicy) => void;
  /** Hears whether a start of `server` asked the keychain, so the next start can begin that read early (keychain-prefetch.ts). */
  noteKeychainUse?: (server: string, askedKeychain: boolean) => void;
}
