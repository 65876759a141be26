import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type LoggingLevel,
  type Request,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log/logger.js';
import { JsonRpcErrorCode } from '../wire/json-rpc.js';
import type { Router } from '../core/router.js';
import { rpcError, type RpcError } from '../wire/rpc-error.js';
import { PROXY_CAPABILITIES } from '../setup/setup-server.js';
import { lazySchemaValidator } from '../setup/schema-validator.js';
import type { Catalog } from './catalog.js';
import type { Member } from './member.js';
import type { PrefixedNames } from './names.js';
import { OWN_PREFIX, STATUS_TOOL, statusResult, statusTool } from './status-tool.js';

/** What the aggregate's own server works with. */
export interface AggregateServerOptions {
  version: string;
  members: ReadonlyMap<string, Member>;
  names: PrefixedNames;
  catalog: Catalog;
  router: Router;
  toolAllowed: (server: string, tool: string) => boolean;
  logger: Logger;
  /** Lines the status tool shows above the servers (files not trusted, the profile). */
  notices?: readonly string[];
  /** A warning about a server's secrets for the status tool (an expired cached value in use), if any. */
  secretNote?: (server: string) => string | undefined;
}

/**
 * The client-facing MCP server of the aggregate: answers `initialize` at once with the union of what servers may
 * bring (tools, prompts and resources with `listChanged`, subscriptions, logging, completions), answers `ping`, the
 * merged lists, `logging/setLevel` (sent to every server) and the status tool. A real SDK `Server` behind an
 * in-memory transport, attached to the router like any downstream. It also gets the requests the router could not
 * forward (unknown or filtered names) and answers them with an error, or — for a resource the client never listed —
 * finds the owner and relays the request.
 */
export class AggregateServer {
  readonly server: Server;
  /** The router side of the in-memory pair. */
  readonly transport: InMemoryTransport;
  private level: LoggingLevel | undefined;

  constructor(private readonly options: AggregateServerOptions) {
    const [routerSide, serverSide] = InMemoryTransport.createLinkedPair();
    this.transport = routerSide;
    const names = [...options.members.keys()];
    this.server = new Server(
      { name: 'mcp-keyproxy', version: options.version },
      {
        capabilities: PROXY_CAPABILITIES,
        instructions: `mcp-keyproxy serves the MCP servers ${names.join(', ')} behind one connection. Their tools and prompts are named <server>${options.names.separator}<name>; ${this.statusName} shows which servers are ready.`,
        jsonSchemaValidator: lazySchemaValidator(),
      },
    );
    const { catalog } = options;
    this.server.setRequestHandler(ListToolsRequestSchema, async (request) => {
      const { items, nextCursor } = await catalog.list('tools/list', request.params?.cursor);
      const tools = request.params?.cursor === undefined ? [...items, statusTool(this.statusName)] : items;
      return { tools: tools as never, ...(nextCursor && { nextCursor }) };
    });
    this.server.setRequestHandler(ListPromptsRequestSchema, async (request) => {
      const { items, nextCursor } = await catalog.list('prompts/list', request.params?.cursor);
      return { prompts: items as never, ...(nextCursor && { nextCursor }) };
    });
    this.server.setRequestHandler(ListResourcesRequestSchema, async (request) => {
      const { items, nextCursor } = await catalog.list('resources/list', request.params?.cursor);
      return { resources: items as never, ...(nextCursor && { nextCursor }) };
    });
    this.server.setRequestHandler(ListResourceTemplatesRequestSchema, async (request) => {
      const { items, nextCursor } = await catalog.list('resources/templates/list', request.params?.cursor);
      return { resourceTemplates: items as never, ...(nextCursor && { nextCursor }) };
    });
    this.server.setRequestHandler(SetLevelRequestSchema, async (request) => {
      this.level = request.params.level;
      await Promise.all([...options.members.values()].map((member) => this.sendLevel(member)));
      return {};
    });
    this.server.setRequestHandler(CallToolRequestSchema, (request, { signal }) => {
      if (request.params.name === this.statusName) return statusResult(options.members.values(), options.notices, options.secretNote);
      return this.afterStart(request, signal, 'tool', request.params.name) as never;
    });
    this.server.setRequestHandler(
      GetPromptRequestSchema,
      (request, { signal }) => this.afterStart(request, signal, 'prompt', request.params.name) as never,
    );
    this.server.setRequestHandler(
      ReadResourceRequestSchema,
      (request, { signal }) => this.relay(request, signal, request.params.uri) as never,
    );
    this.server.setRequestHandler(
      SubscribeRequestSchema,
      (request, { signal }) => this.relay(request, signal, request.params.uri) as never,
    );
    this.server.setRequestHandler(
      UnsubscribeRequestSchema,
      (request, { signal }) => this.relay(request, signal, request.params.uri) as never,
    );
    this.server.setRequestHandler(CompleteRequestSchema, (request, { signal }) => {
      const { ref } = request.params;
      if (ref.type === 'ref/prompt') return this.afterStart(request, signal, 'prompt', ref.name) as never;
      return this.relay(request, signal, ref.uri) as never;
    });
    void this.server.connect(serverSide);
  }

  /** The status tool's name, e.g. `keyproxy__status`. */
  get statusName(): string {
    return this.options.names.prefix(OWN_PREFIX, STATUS_TOOL);
  }

  /** Sends the client's logging level to a server (called again when a server joins later). */
  async sendLevel(member: Member): Promise<void> {
    const target = member.target();
    const link = target && !target.setup ? this.options.router.link(target.link) : undefined;
    if (this.level === undefined || !link || member.capabilities()?.logging === undefined) return;
    await this.options.router.request(link, 'logging/setLevel', { level: this.level }).catch((error: unknown) => {
      this.options.logger.warn({ server: member.name, err: error }, 'server refused logging/setLevel');
    });
  }

  /**
   * A call or prompt for a server still starting waits for its start (rather than failing because the client was
   * quick), then is relayed there with the prefix stripped; filtered and unknown names are errors.
   */
  private async afterStart(request: Request, signal: AbortSignal, what: 'tool' | 'prompt', name: string): Promise<Record<string, unknown>> {
    const parsed = this.options.names.parse(name);
    const member = parsed && this.options.members.get(parsed.server);
    if (!parsed || !member || (what === 'tool' && !this.options.toolAllowed(parsed.server, parsed.name)))
      throw this.unavailable(what, name);
    await member.settled;
    const target = member.target();
    const link = target && !target.setup ? this.options.router.link(target.link) : undefined;
    if (!link) throw this.unavailable(what, name);
    const params = request.params ?? {};
    const rewritten =
      request.method === 'completion/complete'
        ? { ...params, ref: { ...(params.ref as object), name: parsed.name } }
        : { ...params, name: parsed.name };
    return this.options.router.request(link, request.method, rewritten, relayed(signal));
  }

  /** Finds the server of a resource the client did not list first, and relays the request there. */
  private async relay(request: Request, signal: AbortSignal, uri: string): Promise<Record<string, unknown>> {
    const owner = await this.options.catalog.resourceOwner(uri);
    const member = owner === undefined ? undefined : this.options.members.get(owner);
    const target = member?.target();
    const link = target && !target.setup ? this.options.router.link(target.link) : undefined;
    if (!link) throw this.unavailable('resource', uri);
    return this.options.router.request(link, request.method, request.params ?? {}, relayed(signal));
  }

  private unavailable(what: 'tool' | 'prompt' | 'resource', name: string): RpcError {
    const parsed = what === 'resource' ? undefined : this.options.names.parse(name);
    const member = parsed && this.options.members.get(parsed.server);
    if (member && member.state() !== 'ready') {
      return rpcError(
        JsonRpcErrorCode.InvalidParams,
        `The ${what} "${name}" is not available: server "${member.name}" is ${member.state()}${member.detail() ? ` (${member.detail()})` : ''}.`,
      );
    }
    return rpcError(JsonRpcErrorCode.InvalidParams, `Unknown ${what} "${name}". Call ${this.statusName} to see which servers are ready.`);
  }
}

/** A client's request relayed to a server: as long as the client waits, and cancelled when the client cancels. */
function relayed(signal: AbortSignal): { timeoutMs: number; signal: AbortSignal } {
  return { timeoutMs: Infinity, signal };
}
