import type { KeyproxyError } from '../../errors.js';
import type { InitializeRequest, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Router } from '../core/router.js';
import type { Link } from '../core/link.js';
import type { ServeOptions } from '../downstream/deps.js';
import type { Downstream } from '../downstream/downstream.js';
import type { SecretFingerprint } from '../downstream/fingerprint.js';

/** Where one server of the aggregate stands (shown by `keyproxy__status`). */
export type MemberState =
  'starting' | 'ready' | 'needs-credentials' | 'needs-login' | 'needs-consent' | 'denied' | 'failed' | 'restarting' | 'stopped';

/** What a member needs from the aggregate it belongs to. */
export interface MemberHost {
  readonly router: Router;
  /** Resolves with the client's `initialize` (replayed to each downstream so capability-gated features work). */
  readonly clientInitialize: Promise<InitializeRequest>;
  /**
   * The member's lists changed: it joined, left, or switched between its setup tool and its real tools. `restarted`:
   * it came back after a restart with new secrets, so the client is told that its tools changed even if it never
   * listed them since.
   */
  changed(member: Member, restarted?: boolean): void;
  /**
   * The member's server answered with an OAuth challenge (no `auth` in its config, no credential of its own): it is
   * served from now on as a configured OAuth server without a login, behind `connect_<server>`. Resolves once the
   * replacement is in place.
   */
  loginNeeded(member: Member): Promise<void>;
}

/** The link that serves a member now; `setup` when it is the proxy's own setup server (names are not prefixed). */
export interface MemberTarget {
  link: string;
  setup: boolean;
}

/** One server behind the aggregate, whatever its kind. */
export interface Member {
  readonly name: string;
  readonly options: ServeOptions;
  /** Settles once the first start attempt is over (ready, waiting for the user, or failed). */
  readonly settled: Promise<void>;
  state(): MemberState;
  /** Why it is not ready, when it is not (never a secret value). */
  detail(): string | undefined;
  /** The link serving it now, if any. */
  target(): MemberTarget | undefined;
  capabilities(): ServerCapabilities | undefined;
  /**
   * The first page of its tools as its start listed them, once, to a list request that was waiting for it to come up;
   * undefined otherwise (then its server is asked).
   */
  takeStartTools?(): Record<string, unknown> | undefined;
  /** Handles its downstream link closing; false when the link is not its. */
  onLinkClose(link: Link): boolean;
  /** The proxy is stopping: no more restarts, dialogs or prompts. */
  halt(): void;
  /** Its running (or starting) downstream, stopped by the supervisor. */
  downstream(): Downstream | undefined;
}

/** How one server of the aggregate starts (decided before the MCP SDK is loaded). */
export type MemberStart =
  | { kind: 'direct'; launching: Promise<Downstream>; injected: SecretFingerprint }
  | { kind: 'gated'; missing: boolean; login?: boolean }
  | { kind: 'failed'; error: KeyproxyError };
