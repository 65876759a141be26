import type { CallToolResult, InitializeRequest, ServerCapabilities, Tool } from '@modelcontextprotocol/sdk/types.js';
import { referencedSecretNames } from '../../config/references.js';
import { isLocalServer } from '../../config/types.js';
import { KeyproxyError } from '../../errors.js';
import { collectCredentials, type CollectOptions } from './collect.js';
import { collectThroughPage } from './collect-page.js';
import { loginAndStart } from './login.js';
import { askConsent } from './consent.js';
import { answerWithNotice, PromptNotice } from './notice.js';
import type { Downstream } from '../downstream/downstream.js';
import { handshake } from '../downstream/handshake.js';
import type { Router } from '../core/router.js';
import { grantFor, needsConsent, readPlan, storedSecretNames } from '../downstream/read-plan.js';
import type { ServeDeps, ServeOptions } from '../downstream/deps.js';
import { startDownstream } from '../downstream/start.js';
import { connectedText, SetupServer, toolText, type SetupCallExtra } from './setup-server.js';

/** The lists a change may concern. */
export type ListKind = 'tools' | 'prompts' | 'resources';

/** Where a server that could not start transparently stands. */
export type GatedState = 'needs-credentials' | 'needs-login' | 'needs-consent' | 'denied' | 'starting' | 'ready' | 'stopped';

/**
 * A server that cannot start as soon as the client connects: its credentials are missing, or the user must
 * first allow their use. Its setup server lists a `connect_<server>` tool; once the server is up the client's
 * `initialize` is replayed to it, it is attached to the router under its own name, and the change is announced.
 * Used alone (`serveGated`) or as one member of the aggregate.
 */
export class GatedServer {
  private current: GatedState = 'needs-credentials';
  /** Why the server is back in setup (e.g. it rejected its key), shown in the setup tool. */
  private note: string | undefined;
  private running: Downstream | undefined;
  private caps: ServerCapabilities | undefined;
  private starting: Promise<string[]> | undefined;
  /** The login flow's tool call in progress, joined by any further call. */
  private loggingIn: Promise<CallToolResult> | undefined;
  /** The consent prompt (and the start after it) in progress, joined by any further ask. */
  private allowing: Promise<CallToolResult> | undefined;
  /** The code of the consent dialog in progress, for every call that joins it. */
  private readonly consentNotice = new PromptNotice();
  /** The tools of the running server, as listed when it connected. */
  private toolNames: string[] = [];
  /** "Allow for this session" (the consent choice): later starts until the proxy exits do not ask again. */
  private allowedUntilExit = false;
  private readonly stopped = new AbortController();
  private readonly setup: SetupServer;
  private router!: Router;
  private setupLink = '';

  constructor(
    private readonly options: ServeOptions,
    private readonly deps: ServeDeps,
    /** Tells the client which lists changed (the aggregate decides itself what to announce). */
    private readonly announce: (lists: readonly ListKind[]) => void,
  ) {
    const { serverName } = options;
    this.setup = new SetupServer({
      name: `mcp-keyproxy/${serverName}`,
      version: options.version,
      instructions: `The MCP server "${serverName}" runs behind mcp-keyproxy, which keeps its credentials in the OS keychain. Until it is connected, call the tool connect_${serverName}.`,
      unavailableMessage: (tool) =>
        `The tool "${tool}" is not available: the server "${serverName}" is not connected yet (${this.describeState()}). Call connect_${serverName} first.`,
    });
  }

  /**
   * Attaches the setup server to `router` as `setupLink`. With `replay` the client has initialized already (the
   * aggregate answered it): the client's `initialize` is replayed to the setup server, and consent is asked at once.
   */
  async join(router: Router, setupLink: string, initial: GatedState, replay?: InitializeRequest): Promise<void> {
    this.router = router;
    this.setupLink = setupLink;
    this.current = initial;
    await this.setup.transport.start();
    if (replay) await handshake(this.setup.transport, replay, () => undefined);
    router.attach(setupLink, this.setup.transport);
    // Asked at once only where the prompt shows in the client itself (elicitation). Without it, or when the server
    // wants the native dialog ("consent": "dialog"), the dialog's code would have nowhere to appear: the dialog opens
    // when the model calls connect_<server>, whose result carries the code.
    const askConsentNow = (): void => {
      if (this.current === 'needs-consent' && this.setup.clientHasFormElicitation() && !this.dialogOnly) void this.allowAndStart();
    };
    if (replay) askConsentNow();
    else this.setup.server.oninitialized = askConsentNow;
    this.refreshTools(false);
    this.deps.logger.info({ server: this.options.serverName, state: initial }, 'answering for the server until it can start');
  }

  /** Where it stands now. */
  get state(): GatedState {
    return this.current;
  }

  /** The link requests for this server go to: the server once it runs, else the setup server. */
  currentLink(): string {
    return this.current === 'ready' ? this.options.serverName : this.setupLink;
  }

  /** The running downstream, if any. */
  get downstream(): Downstream | undefined {
    return this.running;
  }

  /** What the running downstream declared in its `initialize` result. */
  get capabilities(): ServerCapabilities | undefined {
    return this.current === 'ready' ? this.caps : undefined;
  }

  /** Closes any open dialog or prompt: the proxy is stopping. */
  abort(): void {
    this.stopped.abort();
  }

  /**
   * The server ended on its own: back to setup; the next connect_<server> call starts it again (asking for
   * consent unless allowed until the proxy exits).
   */
  downstreamEnded(reason: string): void {
    this.running = undefined;
    this.current = 'stopped';
    this.note = `${this.options.serverName} stopped (${reason}). Call connect_${this.options.serverName} to start it again.`;
    this.refreshTools(true);
  }

  /** Why it is not connected, in words. */
  describeState(): string {
    const states: Record<GatedState, string> = {
      'needs-credentials': 'its credentials are missing',
      'needs-login': 'it needs you to log in (OAuth) in your browser',
      'needs-consent': 'waiting for your permission to use its stored credentials',
      denied: 'you denied it the use of its stored credentials',
      starting: 'it is starting',
      ready: 'it is connected',
      stopped: 'it stopped',
    };
    return this.note ?? states[this.current];
  }

  private refreshTools(announce: boolean): void {
    this.setup.setTools(this.current === 'ready' ? [] : [{ tool: this.setupTool(), call: (extra) => this.onSetupCall(extra) }]);
    if (announce) this.announce(['tools']);
  }

  private setupTool(): Tool {
    const { serverName } = this.options;
    const names = referencedSecretNames(this.options.server).join(', ');
    if (this.current === 'needs-login') {
      const description = `Opens your browser to log in to ${serverName} (OAuth). The tokens are kept in the OS keychain and never pass through this chat. ${this.note ?? ''}`;
      return { name: `connect_${serverName}`, description: description.trim(), inputSchema: { type: 'object', properties: {} } };
    }
    const description =
      this.current === 'needs-credentials'
        ? `Opens a secure dialog (or a one-time page in your browser) on this computer to enter the credentials for ${serverName} (${names}). They are stored in the OS keychain and never pass through this chat. ${this.note ?? ''}`
        : `Asks you (on this computer) to allow ${serverName} to start with its stored credentials (${names}). Current state: ${this.describeState()}.`;
    const notices = (this.options.notices ?? []).map((notice) => ` Note: ${notice}`).join('');
    return {
      name: `connect_${serverName}`,
      description: (description.trim() + notices).trim(),
      inputSchema: { type: 'object', properties: {} },
    };
  }

  private async onSetupCall(extra: SetupCallExtra): Promise<CallToolResult> {
    const { serverName } = this.options;
    if (this.current === 'starting' && this.starting) return toolText(connectedText(serverName, await this.starting));
    if (this.current === 'needs-login') return this.login(extra);
    if (this.current !== 'needs-credentials') {
      const whenDone = `The tools of ${serverName} will appear when you have answered there.`;
      return answerWithNotice(extra, this.consentNotice, this.allowAndStart(), whenDone);
    }
    const { plan, fromKeychain } = await readPlan(this.deps, serverName, this.options.server);
    // A secret with a "from" source is never asked for: its value comes from there (or the start fails naming it).
    const referenced = referencedSecretNames(this.options.server).filter((name) => this.options.server.secrets[name]?.from === undefined);
    // The missing ones, and the optional ones not stored yet (the dialog marks them optional); after a rejected key,
    // every secret again.
    const optional = (name: string): boolean => this.options.server.secrets[name]?.required === false;
    const names =
      plan.missing.length > 0
        ? referenced.filter((name) => plan.missing.includes(name) || (optional(name) && !fromKeychain.has(name)))
        : referenced;
    const collect: CollectOptions = {
      ...this.options,
      names,
      setup: this.setup,
      dialog: this.deps.dialog,
      store: this.deps.store,
      logger: this.deps.logger,
      audit: this.deps.audit,
      stopSignal: this.stopped.signal,
      // Typing the values in is the user's consent to use them.
      start: () => this.startDownstream(),
      clientName: this.clientName(),
    };
    if ((await this.collectChannel()) === 'dialog') return collectCredentials(collect, extra);
    return collectThroughPage({ ...collect, openBrowser: this.deps.openBrowser, ttlMs: this.deps.pageTtlMs }, extra);
  }

  /**
   * Where the keys are typed: `run --collect`, else the server's "collect"; "auto" is the native dialog when one can
   * show here (a display and a dialog program), else the page in the browser.
   */
  private async collectChannel(): Promise<'dialog' | 'browser'> {
    const chosen = this.options.collect ?? this.options.server.collect ?? 'auto';
    if (chosen !== 'auto') return chosen;
    const unavailable = await this.deps.dialog.unavailable?.();
    if (unavailable !== undefined) {
      this.deps.logger.info(
        { server: this.options.serverName, reason: unavailable },
        'no native dialog here: the keys are typed in a browser page',
      );
    }
    return unavailable === undefined ? 'dialog' : 'browser';
  }

  /** The OAuth login (the browser), then the start; a second call while one runs joins it. */
  private async login(extra: SetupCallExtra): Promise<CallToolResult> {
    const { serverName, server } = this.options;
    const session = isLocalServer(server) ? undefined : await this.deps.oauth?.get(serverName, server);
    if (!session) return toolText(`${serverName} has no OAuth settings.`, true);
    this.loggingIn ??= loginAndStart(
      {
        serverName,
        session,
        setup: this.setup,
        logger: this.deps.logger,
        stopSignal: this.stopped.signal,
        start: () => this.startDownstream(),
        failedLater: (reason) => {
          this.note = `The last login failed: ${reason}`;
          this.refreshTools(true);
        },
      },
      extra,
    ).finally(() => (this.loggingIn = undefined));
    return this.loggingIn;
  }

  /**
   * Asks for consent (unless allowed until the proxy exits), then starts the server. While a prompt is open, a
   * second ask (the model calling connect_<server> while the user looks at the prompt shown after `initialized`)
   * joins it: one prompt, one code, one start.
   */
  private allowAndStart(): Promise<CallToolResult> {
    this.allowing ??= this.askThenStart().finally(() => {
      this.allowing = undefined;
      this.consentNotice.clear();
    });
    return this.allowing;
  }

  private async askThenStart(): Promise<CallToolResult> {
    const { serverName } = this.options;
    const { plan, guarded } = await readPlan(this.deps, serverName, this.options.server);
    if (!this.allowedUntilExit && needsConsent(this.options, plan, guarded)) {
      const outcome = await askConsent({
        serverName,
        secretNames: storedSecretNames(plan, guarded),
        grant: grantFor(this.options, plan, guarded),
        store: this.deps.consent,
        dialogOnly: this.dialogOnly,
        setup: this.setup,
        dialog: this.deps.dialog,
        signal: this.stopped.signal,
        logger: this.deps.logger,
        audit: this.deps.audit,
        tell: (notice) => this.consentNotice.set(notice),
        clientName: this.clientName(),
      });
      if ('unanswered' in outcome) {
        // Not a denial: nobody answered. The state stays, and the reason says what to do instead.
        this.note = `The consent prompt for ${serverName} got no answer: ${outcome.unanswered}`;
        this.refreshTools(true);
        return toolText(`${this.note} Call connect_${serverName} to be asked again.`, true);
      }
      this.note = undefined;
      const decision = 'decision' in outcome ? outcome.decision : 'always';
      if (decision === 'deny') {
        this.current = 'denied';
        this.refreshTools(true);
        return toolText(`You denied ${serverName} the use of its stored credentials. Call connect_${serverName} to be asked again.`, true);
      }
      this.allowedUntilExit = decision === 'session';
    }
    try {
      return toolText(connectedText(serverName, await this.startDownstream()));
    } catch (error) {
      return toolText((error as Error).message, true);
    }
  }

  /** `"consent": "dialog"`: consent only in the native dialog, so an agent cannot answer its own elicitation. */
  private get dialogOnly(): boolean {
    return this.options.server.consent === 'dialog';
  }

  /** The name the client gave in its `initialize` (`clientInfo.name`), to show in the dialog. */
  private clientName(): string | undefined {
    return this.setup.server.getClientVersion()?.name ?? this.router.clientInitialize?.params.clientInfo.name;
  }

  /** Starts the server with what the keychain holds now, replays `initialize` and switches routing to it. */
  private startDownstream(): Promise<string[]> {
    // Never a second downstream beside a running one: it would be orphaned by the router's link.
    if (this.current === 'ready') return Promise.resolve(this.toolNames);
    this.starting ??= (async () => {
      const { serverName } = this.options;
      const { plan } = await readPlan(this.deps, serverName, this.options.server);
      const initialize = this.router.clientInitialize;
      if (plan.missing.length > 0 || !initialize) throw new Error(`The credentials of ${serverName} are incomplete.`);
      this.current = 'starting';
      const downstream = await startDownstream(this.options, this.deps, plan);
      try {
        await downstream.transport.start();
        const { toolNames, capabilities } = await handshake(downstream.transport, initialize, () => downstream.endReason());
        this.running = downstream;
        this.caps = capabilities;
        this.toolNames = toolNames;
        this.router.attach(serverName, downstream.transport, () => downstream.endReason());
        this.current = 'ready';
        this.note = undefined;
        this.refreshTools(false);
        this.announce(['tools', 'prompts', 'resources']);
        this.deps.logger.info({ server: serverName, tools: toolNames.length }, 'server connected');
        return toolNames;
      } catch (error) {
        await downstream.transport.close();
        if (error instanceof KeyproxyError && error.code === 'LOGIN_REQUIRED') {
          this.current = 'needs-login';
          this.note = `${serverName} refused its tokens. Call connect_${serverName} to log in again.`;
          this.refreshTools(true);
          throw error;
        }
        this.current = 'needs-credentials';
        this.note = `${serverName} stopped during start-up (${downstream.endReason() ?? 'no answer'}); it may have rejected its credentials. Call connect_${serverName} to enter them again.`;
        this.refreshTools(true);
        this.deps.logger.warn({ server: serverName, reason: downstream.endReason() }, 'server failed to start; offering the dialog again');
        throw error;
      }
    })().finally(() => (this.starting = undefined));
    return this.starting;
  }
}
