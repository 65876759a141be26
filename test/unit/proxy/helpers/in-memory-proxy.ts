import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ElicitRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type ClientCapabilities,
  type ElicitRequest,
  type ElicitResult,
  type JSONRPCMessage,
  type MessageExtraInfo,
} from '@modelcontextprotocol/sdk/types.js';
import pino from 'pino';
import { AuditLog, MemoryAuditSink } from '../../../../src/audit/audit-log.js';
import { localServerSchema, type SecretDeclaration } from '../../../../src/config/schema.js';
import { memoryConsentStore, type ConsentStore } from '../../../../src/consent/store.js';
import type { CredentialDialog } from '../../../../src/dialog/credential-dialog.js';
import type { ConsentDecision, FormValues } from '../../../../src/dialog/template.js';
import { Scrubber } from '../../../../src/log/scrubber.js';
import { systemClock } from '../../../../src/proxy/core/clock.js';
import type { ServeDeps, ServeOptions } from '../../../../src/proxy/downstream/deps.js';
import type { DownstreamLauncher, LaunchContext } from '../../../../src/proxy/downstream/downstream.js';
import { MemoryStore } from '../../../../src/secrets/memory-store.js';

/** One call of the fake dialog's credential form, as the proxy made it. */
export interface CollectCall {
  serverName: string;
  declarations: Record<string, SecretDeclaration>;
  names: readonly string[];
  code: string;
  signal: AbortSignal;
  /** The client app named in the dialog. */
  app?: string;
}

/** One call of the fake dialog's consent prompt, as the proxy made it. */
export interface ConfirmCall {
  serverName: string;
  secretNames: readonly string[];
  code: string;
  signal: AbortSignal;
  /** The client app named in the dialog. */
  app?: string;
}

/**
 * A `CredentialDialog` with no display: records every call (and the verification code shown) and answers as the
 * test scripts it through `onCollect` / `onConfirm`; an aborted signal closes it (null / 'deny'), as the real one.
 */
export class FakeDialog implements CredentialDialog {
  /** Why no dialog can show (the channel "auto" then picks the page); absent: one can. */
  unavailable?: () => Promise<string | undefined>;
  /** Every credential form shown, in order. */
  readonly collects: CollectCall[] = [];
  /** Every consent prompt shown, in order. */
  readonly confirms: ConfirmCall[] = [];
  /** How the user answers the credential form; by default they cancel it. */
  onCollect: (call: CollectCall) => FormValues | null | Promise<FormValues | null> = () => null;
  /** How the user answers the consent prompt; by default they deny. */
  onConfirm: (call: ConfirmCall) => ConsentDecision | Promise<ConsentDecision> = () => 'deny';

  /** Records the form and answers with `onCollect` (null when aborted first). */
  collect(
    serverName: string,
    declarations: Record<string, SecretDeclaration>,
    names: readonly string[],
    code: string,
    signal: AbortSignal,
    app?: string,
  ): Promise<FormValues | null> {
    const call = { serverName, declarations, names: [...names], code, signal, app };
    this.collects.push(call);
    return untilAborted(signal, null, async () => this.onCollect(call));
  }

  /** Records the prompt and answers with `onConfirm` ('deny' when aborted first). */
  confirm(serverName: string, secretNames: readonly string[], code: string, signal: AbortSignal, app?: string): Promise<ConsentDecision> {
    const call = { serverName, secretNames: [...secretNames], code, signal, app };
    this.confirms.push(call);
    return untilAborted<ConsentDecision>(signal, 'deny', async () => this.onConfirm(call));
  }
}

function untilAborted<T>(signal: AbortSignal, onAbort: T, answer: () => Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.resolve(onAbort);
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => resolve(onAbort);
    signal.addEventListener('abort', abort, { once: true });
    answer().then(
      (value) => (signal.removeEventListener('abort', abort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', abort), reject(error)),
    );
  });
}

/** A tool the fake downstream serves; `call` gets the arguments and the launch it runs in. */
export interface FakeTool {
  name: string;
  description?: string;
  call?: (args: Record<string, unknown>, launch: FakeLaunch) => CallToolResult | Promise<CallToolResult>;
}

/** One start of a fake downstream: what it was given, what it was asked, and a way to end it. */
export interface FakeLaunch {
  serverName: string;
  /** A copy of `plan.values`: the secret values the proxy injected, by name. */
  values: Map<string, string>;
  /** Tool calls that reached this server, in order. */
  toolCalls: Array<{ name: string; arguments: Record<string, unknown> }>;
  /** True when this launch's server closed during the handshake (a rejected key). */
  rejected: boolean;
  /** Set once the server side ended (what `endReason()` reports). */
  ended: string | undefined;
  /** Ends the server on its own, as a crashing child would (closes its side of the pair). */
  end(reason?: string): Promise<void>;
}

/** Options of {@link fakeLauncher}. */
export interface FakeLauncherOptions {
  /** The tools each launched server lists (default: `echo` and `leak_token`, see {@link defaultFakeTools}). */
  tools?: (context: LaunchContext) => FakeTool[];
  /** True for a launch whose server closes as soon as the proxy speaks to it (a rejected key). */
  reject?: (context: LaunchContext, index: number) => boolean;
}

/** A `DownstreamLauncher` that starts in-process SDK servers instead of processes, and records every launch. */
export type FakeLauncher = DownstreamLauncher & { readonly launches: FakeLaunch[] };

/** `echo` (returns `echo:<text>`) and `leak_token` (returns the first injected value, to exercise the scrubber). */
export function defaultFakeTools(): FakeTool[] {
  return [
    { name: 'echo', description: 'Echoes text', call: (args) => text(`echo:${String(args['text'] ?? '')}`) },
    {
      name: 'leak_token',
      description: 'Returns its credential',
      call: (_args, launch) => text(`token=${[...launch.values.values()][0] ?? ''}`),
    },
  ];
}

/** A fake launcher: each launch is an SDK `Server` with the configured tools, linked by an `InMemoryTransport` pair. */
export function fakeLauncher(options: FakeLauncherOptions = {}): FakeLauncher {
  const launches: FakeLaunch[] = [];
  const launcher = async (context: LaunchContext) => {
    const [proxySide, serverSide] = InMemoryTransport.createLinkedPair();
    const rejected = options.reject?.(context, launches.length) ?? false;
    const launch: FakeLaunch = {
      serverName: context.serverName,
      values: new Map(context.plan.values),
      toolCalls: [],
      rejected,
      ended: undefined,
      end: async (reason = 'exit code 1') => {
        launch.ended ??= reason;
        await serverSide.close();
      },
    };
    launches.push(launch);
    // The SDK server chains an onclose set before it connects: the end is recorded either way.
    serverSide.onclose = () => void (launch.ended ??= 'exit code 1');
    if (rejected) {
      // Like a server that exits when its key is refused: it reads the first message, then goes away.
      serverSide.onmessage = () => void launch.end('exit code 1');
      await serverSide.start();
    } else {
      await serveFakeTools(serverSide, (options.tools ?? defaultFakeTools)(context), launch);
    }
    return { transport: proxySide, endReason: () => launch.ended };
  };
  return Object.assign(launcher, { launches });
}

async function serveFakeTools(transport: InMemoryTransport, tools: FakeTool[], launch: FakeLaunch): Promise<void> {
  const server = new Server({ name: `fake-${launch.serverName}`, version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: tools.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: { type: 'object' as const } })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const args = request.params.arguments ?? {};
    launch.toolCalls.push({ name: request.params.name, arguments: args });
    const tool = tools.find((candidate) => candidate.name === request.params.name);
    if (!tool) return { isError: true, content: [{ type: 'text', text: `unknown tool ${request.params.name}` }] };
    return tool.call ? tool.call(args, launch) : text(`${tool.name} called`);
  });
  await server.connect(transport);
}

/** A text tool result. */
export function text(message: string, isError = false): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError };
}

/** The text of a tool result's text parts, joined by newlines (any `callTool` result; '' when it has no content). */
export function resultText(result: object): string {
  const content = 'content' in result ? result.content : undefined;
  const parts = Array.isArray(content) ? (content as Array<{ type?: string; text?: string }>) : [];
  return parts
    .filter((part) => part.type === 'text')
    .map((part) => part.text ?? '')
    .join('\n');
}

/** The in-memory collaborators of one proxy, with handles on each fake for assertions. */
export interface InMemoryProxy {
  deps: ServeDeps;
  store: MemoryStore;
  dialog: FakeDialog;
  launcher: FakeLauncher;
  /** Every audit event written, parsed. */
  auditSink: MemoryAuditSink;
  /** The client's side of the front pair (connect a client with {@link connectClient} once the proxy runs). */
  clientTransport: InMemoryTransport;
}

/** Builds `ServeDeps` from in-memory fakes: store, silent logger, scrubber, front pair, dialog, audit, launcher. */
export function inMemoryDeps(
  options: {
    store?: MemoryStore;
    initial?: Record<string, Record<string, string>>;
    dialog?: FakeDialog;
    launcher?: FakeLauncher;
    consent?: ConsentStore;
  } = {},
): InMemoryProxy {
  const store = options.store ?? new MemoryStore({ initial: options.initial });
  const dialog = options.dialog ?? new FakeDialog();
  const launcher = options.launcher ?? fakeLauncher();
  const auditSink = new MemoryAuditSink();
  const [clientTransport, frontTransport] = InMemoryTransport.createLinkedPair();
  let opened = false;
  const deps: ServeDeps = {
    store,
    logger: pino({ level: 'silent' }),
    scrubber: new Scrubber(),
    openFront: async () => {
      if (opened) throw new Error('openFront was called twice');
      opened = true;
      return frontTransport;
    },
    dialog,
    audit: new AuditLog(auditSink),
    consent: options.consent ?? memoryConsentStore(),
    launcher,
    clock: systemClock,
  };
  return { deps, store, dialog, launcher, auditSink, clientTransport };
}

/** `ServeOptions` for one local server (parsed with `localServerSchema`, so defaults such as `confirm: true` apply). */
export function serveOptions(serverName: string, server: Record<string, unknown>, overrides: Partial<ServeOptions> = {}): ServeOptions {
  return { serverName, server: localServerSchema.parse(server), headless: false, parentEnv: {}, version: '0.0.0-test', ...overrides };
}

/** Wraps a transport and keeps every message that arrives through it, in order. */
export class RecordingTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  /** Every message received from the other side. */
  readonly received: JSONRPCMessage[] = [];

  constructor(private readonly inner: Transport) {
    inner.onmessage = (message, extra) => {
      this.received.push(message);
      this.onmessage?.(message, extra);
    };
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
  }

  /** Starts the wrapped transport. */
  start(): Promise<void> {
    return this.inner.start();
  }

  /** Sends through the wrapped transport. */
  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message, options);
  }

  /** Closes the wrapped transport. */
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** An SDK client on the proxy's front, with every message it received and every elicitation it was sent. */
export interface TestClient {
  client: Client;
  /** Every JSON-RPC message the client received, in order. */
  received: JSONRPCMessage[];
  /** The params of every elicitation request the client answered. */
  elicitations: Array<ElicitRequest['params']>;
  /** The notifications with this method received so far. */
  notifications(method: string): JSONRPCMessage[];
  /** Closes the client. */
  close(): Promise<void>;
}

/**
 * Connects an SDK `Client` (which sends `initialize`) to `transport`. With `elicitation` it declares form-mode
 * elicitation and answers each request with it; without, it declares none.
 */
export async function connectClient(
  transport: Transport,
  options: {
    elicitation?: (params: ElicitRequest['params']) => ElicitResult | Promise<ElicitResult>;
    /** The client's capabilities, instead of form-mode elicitation (or none). */
    capabilities?: ClientCapabilities;
  } = {},
): Promise<TestClient> {
  const recording = new RecordingTransport(transport);
  const client = new Client(
    { name: 'test-client', version: '1.0.0' },
    { capabilities: options.capabilities ?? (options.elicitation ? { elicitation: { form: {} } } : {}) },
  );
  const elicitations: Array<ElicitRequest['params']> = [];
  const answer = options.elicitation;
  if (answer) {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      elicitations.push(request.params);
      return answer(request.params);
    });
  }
  await client.connect(recording);
  return {
    client,
    received: recording.received,
    elicitations,
    notifications: (method) =>
      recording.received.filter((message) => 'method' in message && !('id' in message) && message.method === method),
    close: () => client.close(),
  };
}

/**
 * Points the dialog lock (`src/dialog/lock.ts`, which reads `MCP_KEYPROXY_RUNTIME_DIR`) at a fresh temp dir, so
 * tests never touch the user's state; resolves with a function that restores the variable and removes the dir.
 */
export async function useTempRuntimeDir(): Promise<() => Promise<void>> {
  const previous = process.env['MCP_KEYPROXY_RUNTIME_DIR'];
  const dir = await mkdtemp(join(tmpdir(), 'keyproxy-test-run-'));
  process.env['MCP_KEYPROXY_RUNTIME_DIR'] = dir;
  return async () => {
    if (previous === undefined) delete process.env['MCP_KEYPROXY_RUNTIME_DIR'];
    else process.env['MCP_KEYPROXY_RUNTIME_DIR'] = previous;
    await rm(dir, { recursive: true, force: true });
  };
}
