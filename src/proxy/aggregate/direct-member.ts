import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream } from '../downstream/downstream.js';
import { handshake } from '../downstream/handshake.js';
import type { Link } from '../core/link.js';
import { guardResult } from '../core/pattern-guard.js';
import { missingSecretsError } from '../downstream/credential-plan.js';
import { mustAskConsent, readPlan } from '../downstream/read-plan.js';
import type { ServeDeps, ServeOptions } from '../downstream/deps.js';
import { startDownstream } from '../downstream/start.js';
import type { Member, MemberHost, MemberState, MemberTarget } from './member.js';
import { RestartBackoff } from './restart.js';
import { fingerprint, type SecretFingerprint } from '../downstream/fingerprint.js';
import { announceRotation, drainLink, rereadSecrets, rotateInPlace, stopForRotation, endReasonOf } from '../downstream/rotation.js';
import { isLocalServer } from '../../config/types.js';
import { loginRequiredError } from '../../oauth/provider.js';
import { isLoginRequiredAnswer } from '../downstream/login-answer.js';

/**
 * The aggregate is the one client of its members: it speaks the stateless era to each that does (probed with
 * `server/discover` before `initialize`), since a dual-era HTTP server serves the 2025 era without server→client
 * requests; every other member gets the client's `initialize`.
 */
export const MEMBER_ERA = { preferModern: true } as const;

/**
 * A server whose secrets are present and need no consent: started at once (in parallel with the others), handed
 * the client's `initialize` by the handshake, and restarted with exponential backoff when it crashes, until it has
 * failed at start-up too often in a row (then `failed`, with the last reason).
 */
export class DirectMember implements Member {
  readonly settled: Promise<void>;
  private current: MemberState = 'starting';
  private reason: string | undefined;
  private caps: ServerCapabilities | undefined;
  private running: Downstream | undefined;
  private cancelRestart: (() => void) | undefined;
  private stopped = false;
  /** Hashes of the values the running server was given, to tell whether a secret changed since. */
  private injected: SecretFingerprint | undefined;
  private rotating = false;
  private readonly backoff: RestartBackoff;
  private settle!: () => void;
  /** The handshake's first page of tools, until the event loop turns (see `takeStartTools`). */
  private startTools: Record<string, unknown> | undefined;

  constructor(
    readonly options: ServeOptions,
    private readonly deps: ServeDeps,
    private readonly host: MemberHost,
  ) {
    this.settled = new Promise((resolve) => (this.settle = resolve));
    this.backoff = new RestartBackoff(() => deps.clock.now());
  }

  /** The server's name. */
  get name(): string {
    return this.options.serverName;
  }

  state(): MemberState {
    return this.current;
  }

  detail(): string | undefined {
    return this.reason;
  }

  target(): MemberTarget | undefined {
    return this.current === 'ready' ? { link: this.name, setup: false } : undefined;
  }

  capabilities(): ServerCapabilities | undefined {
    return this.current === 'ready' ? this.caps : undefined;
  }

  /**
   * The tools its handshake listed, for a list request that was already waiting when it came up (it takes them in the
   * same turn of the event loop): asking again would only cost a server that is still starting, beside the others on
   * the same CPUs, a second answer of the same list. A change it announced during the handshake leaves no page here;
   * one it announces afterwards reaches the client as `list_changed`, as after any list. The page did not pass the
   * router, so the pattern guard is applied here; the scrubber sees the merged list as it sees any.
   */
  takeStartTools(): Record<string, unknown> | undefined {
    const page = this.startTools;
    this.startTools = undefined;
    return page && guardResult(this.deps.guard, this.name, page);
  }

  /**
   * Starts the server — `launching` when it was spawned already, else with what the keychain holds now (a
   * restart); failures are recorded and retried with backoff, never thrown.
   */
  async start(launching?: Promise<Downstream>, injected?: SecretFingerprint, restarted = false): Promise<void> {
    if (injected) this.injected = injected;
    try {
      const downstream = await (launching ?? this.relaunch());
      if (!downstream) return;
      this.running = downstream;
      if (this.stopped) throw new Error('the proxy is stopping');
      await downstream.transport.start();
      const initialize = await this.host.clientInitialize;
      const endReason = endReasonOf(downstream);
      const { capabilities, toolNames, toolsPage } = await handshake(downstream.transport, initialize, endReason);
      if (this.stopped) throw new Error('the proxy is stopping');
      this.caps = capabilities;
      this.startTools = toolsPage;
      setImmediate(() => (this.startTools = undefined));
      this.host.router.attach(this.name, downstream.transport, endReason);
      this.current = 'ready';
      this.reason = undefined;
      this.backoff.up();
      this.deps.logger.info({ server: this.name, tools: toolNames.length }, 'server ready');
      this.host.changed(this, restarted);
    } catch (error) {
      const failed = this.running;
      this.running = undefined;
      await failed?.transport.close().catch(() => undefined);
      if (isLoginRequiredAnswer((error as { cause?: unknown }).cause) && !this.stopped) {
        // Starting it again would only be refused again: it wants a login.
        if (this.options.headless) {
          await this.fail(
            loginRequiredError(this.name, 'it answered HTTP 401 with an OAuth challenge, and --headless opens no browser').message,
          );
          this.host.changed(this);
        } else {
          await this.host.loginNeeded(this);
        }
        return;
      }
      const supported = unsupportedVersion(error);
      if (supported !== undefined && !this.stopped) {
        // Starting it again would only be refused again.
        await this.fail(
          `it speaks none of the protocol versions mcp-keyproxy speaks (it supports ${supported}); use a version of ` +
            'the server that speaks 2025-11-25 or 2026-07-28, or a newer mcp-keyproxy',
        );
        this.host.changed(this);
        return;
      }
      if (!this.stopped) this.scheduleRestart((error as Error).message);
    } finally {
      this.settle();
    }
  }

  private async relaunch(): Promise<Downstream | undefined> {
    const { plan, guarded } = await readPlan(this.deps, this.name, this.options.server);
    if (plan.missing.length > 0) {
      await this.fail(missingSecretsError(this.name, plan.missing, this.options.profile).message);
      return undefined;
    }
    // Started on a remembered "Allow always" that has been revoked (or no longer covers the secrets) since.
    if (mustAskConsent(this.options, this.deps, plan, guarded)) {
      await this.fail('its "Allow always" was revoked or no longer covers its secrets; restart the MCP client to be asked again');
      return undefined;
    }
    this.injected = fingerprint(plan);
    return startDownstream(this.options, this.deps, plan, MEMBER_ERA);
  }

  /**
   * Reads the server's secrets again (the keychain, and sources through their cache) and, when a value differs
   * from what the running server was given, gives it the new ones: a remote server in its session when only headers
   * change, else restarted: the calls in flight finish (or, after ROTATION_DRAIN_MS, fail with an error that says
   * so), the client is told its tools changed, and it is audited. A read that fails keeps the running server as it is.
   */
  async recheck(): Promise<void> {
    if (this.current !== 'ready' || this.rotating || this.stopped || !this.injected) return;
    const reread = await rereadSecrets(this.deps, this.options, this.injected);
    if (!reread || reread.changed.length === 0 || this.current !== 'ready' || this.rotating || this.stopped) return;
    if (this.running && rotateInPlace(this.deps, this.options, this.running, reread)) {
      this.injected = fingerprint(reread.plan);
      return;
    }
    await this.rotate(reread.changed);
  }

  private async rotate(changed: string[]): Promise<void> {
    this.rotating = true;
    try {
      announceRotation(this.deps, this.options, changed);
      const old = this.running;
      this.current = 'restarting';
      this.reason = `its secrets changed (${changed.join(', ')}); ${isLocalServer(this.options.server) ? 'restart' : 'reconnect'}ing with the new values`;
      this.host.changed(this);
      const link = this.host.router.link(this.name);
      await drainLink(link?.transport === old?.transport ? link : undefined, this.deps.clock, () => this.stopped);
      // No longer its own link: its closing is not a crash to restart from.
      this.running = undefined;
      await stopForRotation(old, changed);
      if (this.stopped) return;
      await this.start(undefined, undefined, true);
    } finally {
      this.rotating = false;
    }
  }

  onLinkClose(link: Link): boolean {
    if (link.name !== this.name || link.transport !== this.running?.transport) return false;
    const reason = this.running.endReason() ?? 'connection closed';
    this.running = undefined;
    if (this.stopped) return true;
    this.deps.logger.error({ server: this.name, reason }, `server "${this.name}" ended unexpectedly (${reason})`);
    this.scheduleRestart(`it ended unexpectedly (${reason})`);
    this.host.changed(this);
    return true;
  }

  halt(): void {
    this.stopped = true;
    this.cancelRestart?.();
    this.current = 'stopped';
  }

  downstream(): Downstream | undefined {
    return this.running;
  }

  /** Marks it as unable to start (e.g. headless without its secrets): it stays out of the lists. */
  fail(reason: string): Promise<void> {
    this.current = 'failed';
    this.reason = reason;
    this.deps.logger.error({ server: this.name }, `server "${this.name}" cannot start: ${reason}`);
    this.settle();
    return Promise.resolve();
  }

  private scheduleRestart(why: string): void {
    const delay = this.backoff.nextDelay();
    if (delay === undefined) {
      // Its reason (exit code and the scrubbed tail of its stderr) goes to keyproxy__status and to stderr.
      void this.fail(
        `it failed at start-up ${this.backoff.failuresInARow} times in a row and is no longer restarted. Last failure: ` +
          `${why.replace(/\.+$/, '')}. Fix its entry in the config (or what it needs), then restart the MCP client.`,
      );
      this.host.changed(this);
      return;
    }
    this.current = 'restarting';
    this.reason = `${why}; next start in ${Math.round(delay / 1000)} s`;
    this.deps.logger.warn({ server: this.name, delayMs: delay }, `restarting server "${this.name}" after ${why}`);
    this.cancelRestart = this.deps.clock.after(delay, () => void this.start());
  }
}

/** The versions a server refusing the protocol version (-32022) says it supports; undefined for any other failure. */
function unsupportedVersion(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; data?: { supported?: unknown } } }).cause;
  if (cause?.code !== -32022) return undefined;
  const supported = cause.data?.supported;
  return Array.isArray(supported) && supported.length > 0 ? supported.map(String).join(', ') : 'no version it names';
}
