import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { isJSONRPCRequest, type CallToolResult, type JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { localServerSchema } from '../../../../src/config/schema.js';
import type { Clock } from '../../../../src/proxy/core/clock.js';
import type { RunningProxy } from '../../../../src/proxy/core/supervise.js';
import type { LaunchContext } from '../../../../src/proxy/downstream/downstream.js';
import type { AggregateOptions } from '../../../../src/proxy/aggregate/options.js';
import { serveAggregate } from '../../../../src/proxy/aggregate/serve-aggregate.js';
import type { MemberState } from '../../../../src/proxy/aggregate/member.js';
import {
  connectClient,
  FakeDialog,
  inMemoryDeps,
  text,
  type FakeLauncher,
  type FakeLaunch,
  type InMemoryProxy,
  type TestClient,
} from '../helpers/in-memory-proxy.js';

/** A clock whose time moves only when the test says so; timers run, in order, as `advance` passes them. */
export class FakeClock implements Clock {
  private time = 0;
  private readonly timers = new Set<{ due: number; run: () => void }>();
  /** The delay of every timer ever set, in order. */
  readonly delays: number[] = [];

  now(): number {
    return this.time;
  }

  after(ms: number, run: () => void): () => void {
    const timer = { due: this.time + ms, run };
    this.timers.add(timer);
    this.delays.push(ms);
    return () => void this.timers.delete(timer);
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = [...this.timers].filter((timer) => timer.due <= end).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      this.timers.delete(next);
      this.time = next.due;
      next.run();
    }
    this.time = end;
  }

  /** How many timers are set and not yet run or cancelled. */
  get pending(): number {
    return this.timers.size;
  }
}

/** What one fake server offers (each of its launches serves the same). */
export interface FakeServerSpec {
  /** `echo` answers `<server>:<text>`, {@link HANGING_TOOL} never answers, any other answers `<server>/<tool> called`. */
  tools?: string[];
  /** Each answers one user message `<server>:<prompt>`. */
  prompts?: string[];
  /** Each reads as `<server>:<uri>`. */
  resources?: string[];
  /** The description of each of its tools (else `<tool> of <server>`). */
  description?: string;
  /** Each launch waits for this before it is spawned (a server that is slow to start). */
  startAfter?: Promise<void>;
}

/** A tool that does not answer while its server runs: for a call in flight when the server crashes. */
export const HANGING_TOOL = 'slow';

/** One start of a fake aggregate member, with every request it received (after the handshake too). */
export interface AggregateLaunch extends FakeLaunch {
  /** Every JSON-RPC request that reached this server, as it arrived. */
  requests: JSONRPCRequest[];
}

/** A launcher of in-process SDK `McpServer`s with tools, prompts and resources; launches are recorded by server. */
export type AggregateLauncher = FakeLauncher & {
  readonly launches: AggregateLaunch[];
  /** The launches of one server, in order. */
  of(server: string): AggregateLaunch[];
};

/** A fake `DownstreamLauncher` for the aggregate: each launch is a fresh `McpServer` over an in-memory pair. */
export function aggregateLauncher(specs: Record<string, FakeServerSpec>): AggregateLauncher {
  const launches: AggregateLaunch[] = [];
  const launcher = async (context: LaunchContext) => {
    const name = context.serverName;
    const spec = specs[name] ?? {};
    await spec.startAfter;
    const [proxySide, serverSide] = InMemoryTransport.createLinkedPair();
    const launch: AggregateLaunch = {
      serverName: name,
      values: new Map(context.plan.values),
      toolCalls: [],
      requests: [],
      rejected: false,
      ended: undefined,
      end: async (reason = 'exit code 1') => {
        launch.ended ??= reason;
        await serverSide.close();
      },
    };
    launches.push(launch);
    // The SDK server chains an onclose set before it connects.
    serverSide.onclose = () => void (launch.ended ??= 'exit code 1');
    const server = new McpServer({ name: `fake-${name}`, version: '1.0.0' });
    for (const tool of spec.tools ?? []) {
      server.registerTool(
        tool,
        { description: spec.description ?? `${tool} of ${name}`, inputSchema: { text: z.string().optional() } },
        (args) => {
          launch.toolCalls.push({ name: tool, arguments: args });
          if (tool === HANGING_TOOL) return new Promise<CallToolResult>(() => undefined);
          return text(tool === 'echo' ? `${name}:${args.text ?? ''}` : `${name}/${tool} called`);
        },
      );
    }
    for (const prompt of spec.prompts ?? []) {
      server.registerPrompt(prompt, { description: `${prompt} of ${name}` }, () => ({
        messages: [{ role: 'user', content: { type: 'text', text: `${name}:${prompt}` } }],
      }));
    }
    for (const uri of spec.resources ?? []) {
      server.registerResource(uri, uri, { mimeType: 'text/plain' }, (url) => ({ contents: [{ uri: url.href, text: `${name}:${uri}` }] }));
    }
    await server.connect(serverSide);
    const deliver = serverSide.onmessage;
    serverSide.onmessage = (message, extra) => {
      if (isJSONRPCRequest(message)) launch.requests.push(message);
      deliver?.(message, extra);
    };
    return { transport: proxySide, endReason: () => launch.ended };
  };
  const of = (server: string) => launches.filter((launch) => launch.serverName === server);
  return Object.assign(launcher, { launches, of });
}

/** Everything one aggregate test needs before the proxy starts. */
export interface AggregateFixture extends InMemoryProxy {
  options: AggregateOptions;
  launcher: AggregateLauncher;
  clock: FakeClock;
}

/**
 * The options and in-memory deps of an aggregate over `servers` (raw config entries, parsed with
 * `localServerSchema`), with a fake clock and a launcher serving `specs`.
 */
export function aggregateFixture(
  servers: Array<[string, Record<string, unknown>]>,
  {
    specs = {},
    headless = false,
    initial,
  }: { specs?: Record<string, FakeServerSpec>; headless?: boolean; initial?: Record<string, Record<string, string>> } = {},
): AggregateFixture {
  const launcher = aggregateLauncher(specs);
  const clock = new FakeClock();
  const proxy = inMemoryDeps({ launcher, initial, dialog: new FakeDialog() });
  proxy.deps.clock = clock;
  const options: AggregateOptions = {
    servers: servers.map(([name, raw]) => [name, localServerSchema.parse(raw)]),
    separator: '__',
    headless,
    parentEnv: {},
    version: '0.0.0-test',
  };
  return { ...proxy, options, launcher, clock };
}

/** One server's line in `keyproxy__status`. */
export interface ServerStatus {
  name: string;
  kind: string;
  state: MemberState;
  detail?: string;
}

/** A running aggregate with an SDK client on its front. */
export interface RunningAggregate {
  running: RunningProxy;
  client: TestClient;
  /** The names `tools/list` gives now (first page). */
  toolNames(): Promise<string[]>;
  /** Each server's state, from `keyproxy__status`. */
  status(): Promise<Record<string, ServerStatus>>;
  /** How many `notifications/<list>/list_changed` the client got so far. */
  changes(list: 'tools' | 'prompts' | 'resources'): number;
  /** Stops the proxy and closes the client. */
  stop(): Promise<void>;
}

/** Starts `serveAggregate` on the fixture and connects a client (which sends `initialize`). */
export async function startAggregateInMemory(fixture: AggregateFixture): Promise<RunningAggregate> {
  const running = await serveAggregate(fixture.options, fixture.deps);
  const client = await connectClient(fixture.clientTransport);
  return {
    running,
    client,
    toolNames: async () => (await client.client.listTools()).tools.map((tool) => tool.name).sort(),
    status: async () => {
      const result = await client.client.callTool({ name: 'keyproxy__status', arguments: {} });
      const { servers } = result.structuredContent as { servers: ServerStatus[] };
      return Object.fromEntries(servers.map((server) => [server.name, server]));
    },
    changes: (list) => client.notifications(`notifications/${list}/list_changed`).length,
    stop: async () => {
      await running.stop();
      await client.close();
    },
  };
}

/** Lets every pending callback and microtask run (not a sleep: no time passes on the fake clock). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
