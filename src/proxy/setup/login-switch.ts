import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { ExitCode } from '../../errors.js';
import { loginRequiredError } from '../../oauth/provider.js';
import { PROXY_LINK, type Link } from '../core/link.js';
import type { Router } from '../core/router.js';
import type { ServeDeps, ServeOptions } from '../downstream/deps.js';
import type { Downstream } from '../downstream/downstream.js';
import { isLoginRequiredAnswer } from '../downstream/login-answer.js';
import type { GatedServer } from './gated-server.js';
import { isInitializeRequest, isJSONRPCErrorResponse, JsonRpcErrorCode } from '../wire/json-rpc.js';

/**
 * Passes a downstream's messages through, except the answer to the client's `initialize` when it says "log in" (a
 * 401 with a Bearer challenge: `isLoginRequiredAnswer`): that one goes to `onLogin` with the id the `initialize`
 * went down with, and not to the client, when `onLogin` takes it.
 */
export class LoginWatch implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  private initializeId: RequestId | undefined;

  constructor(
    private readonly inner: Transport,
    private readonly onLogin: (downstreamId: RequestId) => boolean,
  ) {
    inner.onmessage = (message) => {
      const id = this.initializeId;
      const login = id !== undefined && isJSONRPCErrorResponse(message) && message.id === id && isLoginRequiredAnswer(message.error);
      if (login) this.initializeId = undefined;
      if (login && this.onLogin(id)) return;
      this.onmessage?.(message);
    };
    inner.onerror = (error) => this.onerror?.(error);
    inner.onclose = () => this.onclose?.();
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (isInitializeRequest(message)) this.initializeId = (message as JSONRPCRequest).id;
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** What the switch needs from `serveServer`. */
export interface LoginSwitchHost {
  router: Router;
  /** The transparent server is handed over: no more restarts, no secret watch. */
  handOver: () => void;
}

/**
 * `run <server>` for a remote server that may turn out to use OAuth (no `auth`, no credential of its own). It starts
 * transparent like any other, the client's own `initialize` going to it. When the server answers that `initialize`
 * with a Bearer challenge, the server is gated from then on exactly as one configured with `"auth": "oauth"` and no
 * login: the proxy's setup server answers the client's `initialize` (the remote answer never reaches the client) and
 * lists `connect_<server>`, whose login (`GatedServer`) starts the server and announces its tools with
 * `list_changed`. Headless, the answer naming `mcp-keyproxy auth login <server>` goes to the client and the proxy
 * ends with exit code 78: nothing can run.
 */
export class LoginSwitch {
  private gate: GatedServer | undefined;
  private switching = false;
  private headlessRefusal = false;

  constructor(
    private readonly options: ServeOptions,
    private readonly deps: ServeDeps,
    private readonly host: LoginSwitchHost,
  ) {}

  /** The downstream with its transport watched. */
  watch(downstream: Downstream): Downstream {
    const transport = new LoginWatch(downstream.transport, (id) => this.loginNeeded(downstream, id));
    return { ...downstream, transport };
  }

  /** The gated server once switched; requests then go where it says. */
  get gated(): GatedServer | undefined {
    return this.gate;
  }

  /** True while switching or switched: the transparent server's link closing is no crash. */
  get handedOver(): boolean {
    return this.switching || this.headlessRefusal;
  }

  /** Handles a downstream link closing once handed over; false when it is not the switch's to handle. */
  onLinkClose(link: Link, stop: (exitCode: number) => void): boolean {
    if (this.headlessRefusal) {
      stop(ExitCode.config);
      return true;
    }
    if (!this.switching) return false;
    const running = this.gate?.downstream;
    if (link.name === this.options.serverName && running && link.transport === running.transport) {
      const reason = running.endReason() ?? 'connection closed';
      this.deps.logger.error({ server: link.name, reason }, `server "${link.name}" ended unexpectedly (${reason})`);
      this.gate?.downstreamEnded(reason);
    }
    return true;
  }

  private loginNeeded(downstream: Downstream, downstreamId: RequestId): boolean {
    const { serverName } = this.options;
    if (this.options.headless) {
      // The answer (naming `mcp-keyproxy auth login`) goes to the client; closing the server then ends the proxy.
      this.headlessRefusal = true;
      this.host.handOver();
      const why = 'it answered HTTP 401 with an OAuth challenge, and --headless opens no browser';
      this.deps.logger.error({ server: serverName }, loginRequiredError(serverName, why).message);
      setImmediate(() => void downstream.transport.close().catch(() => undefined));
      return false;
    }
    const { router } = this.host;
    // The client's initialize is taken back from the server's link, unanswered, to be answered by the setup server.
    const clientId = router.link(serverName)?.requests.take(downstreamId);
    const initialize = router.clientInitialize as JSONRPCRequest | undefined;
    if (clientId === undefined || typeof clientId === 'symbol' || !initialize) return false;
    this.switching = true;
    this.host.handOver();
    this.deps.logger.info({ server: serverName }, `server "${serverName}" asks for an OAuth login: offering connect_${serverName}`);
    void this.switchToGate(downstream, { ...initialize, id: clientId }).catch((error: unknown) => {
      this.deps.logger.error({ server: serverName, err: error }, 'could not offer the login');
      router.answerError(
        clientId,
        JsonRpcErrorCode.InternalError,
        `Server "${serverName}" needs an OAuth login, which could not be offered: ${(error as Error).message}`,
      );
    });
    return true;
  }

  private async switchToGate(downstream: Downstream, initialize: JSONRPCRequest): Promise<void> {
    await downstream.transport.close().catch(() => undefined);
    const { GatedServer } = await import('./gated-server.js');
    const { router } = this.host;
    const gate = new GatedServer(this.options, this.deps, (lists) => {
      for (const list of lists) router.notifyClient(`notifications/${list}/list_changed`);
    });
    await gate.join(router, PROXY_LINK, 'needs-login');
    this.gate = gate;
    router.forward(initialize);
  }
}
