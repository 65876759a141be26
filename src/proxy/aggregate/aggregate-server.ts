import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log/logger.js';
import { JsonRpcErrorCode } from '../wire/json-rpc.js';
import type { Router } from '../core/router.js';
import { rpcError, type RpcError } from '../wire/rpc-error.js';
import { LocalEndpoint, stringParam, type Params } from '../wire/local-endpoint.js';
import { PROXY_CAPABILITIES } from '../wire/proxy-capabilities.js';
import type { Catalog, ListMethod } from './catalog.js';
import type { Member } from './member.js';
import type { PrefixedNames } from './names.js';
import { OWN_PREFIX, STATUS_TOOL, statusResult, statusTool } from './status-tool.js';

/** The levels of `logging/setLevel`. */
const LEVELS: readonly string[] = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
] satisfies readonly LoggingLevel[];

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
 * merged lists, `logging/setLevel` (sent to every server) and the status tool. A `LocalEndpoint` attached to the
 * router like any downstream. It also gets the requests the router could not forward (unknown or filtered names)
 * and answers them with an error, or — for a resource the client never listed — finds the owner and relays the
 * request.
 */
export class AggregateServer {
  /** What the router attaches. */
  readonly transport: LocalEndpoint;
  private level: LoggingLevel | undefined;

  constructor(private readonly options: AggregateServerOptions) {
    const names = [...options.members.keys()];
    const endpoint = new LocalEndpoint({
      serverInfo: { name: 'mcp-keyproxy', version: options.version },
      capabilities: PROXY_CAPABILITIES,
      instructions: `mcp-keyproxy serves the MCP servers ${names.join(', ')} behind one connection. Their tools and prompts are named <server>${options.names.separator}<name>; ${this.statusName} shows which servers are ready.`,
    });
    this.transport = endpoint;
    const { catalog } = options;
    const list = (method: ListMethod, key: string, own: (cursor: string | undefined) => unknown[] = () => []) =>
      endpoint.handle(method, async (params) => {
        const cursor = params.cursor === undefined ? undefined : stringParam(params, 'cursor', method);
        const { items, nextCursor } = await catalog.list(method, cursor);
        return { [key]: [...items, ...own(cursor)], ...(nextCursor && { nextCursor }) };
      });
    list('tools/list', 'tools', (cursor) => (cursor === undefined ? [statusTool(this.statusName)] : []));
    list('prompts/list', 'prompts');
    list('resources/list', 'resources');
    list('resources/templates/list', 'resourceTemplates');
    endpoint.handle('logging/setLevel', async (params) => {
      const level = stringParam(params, 'level', 'logging/setLevel');
      if (!LEVELS.includes(level)) throw rpcError(JsonRpcErrorCode.InvalidParams, `logging/setLevel: unknown level "${level}".`);
      this.level = level as LoggingLevel;
      await Promise.all([...options.members.values()].map((member) => this.sendLevel(member)));
      return {};
    });
    endpoint.handle('tools/call', (params, signal) => {
      const name = stringParam(params, 'name', 'tools/call');
      if (name === this.statusName) return statusResult(options.members.values(), options.notices, options.secretNote);
      return this.afterStart('tools/call', params, signal, 'tool', name);
    });
    endpoint.handle('prompts/get', (params, signal) =>
      this.afterStart('prompts/get', params, signal, 'prompt', stringParam(params, 'name', 'prompts/get')),
    );
    for (const method of ['resources/read', 'resources/subscribe', 'resources/unsubscribe']) {
      endpoint.handle(method, (params, signal) => this.relay(method, params, signal, stringParam(params, 'uri', method)));
    }
    endpoint.handle('completion/complete', (params, signal) => {
      const ref = (params.ref ?? {}) as Params;
      if (ref.type === 'ref/prompt')
        return this.afterStart(
          'completion/complete',
          params,
          signal,
          'prompt',
          stringParam(ref, 'name', 'completion/complete', 'params.ref'),
        );
      if (ref.type === 'ref/resource')
        return this.relay('completion/complete', params, signal, stringParam(ref, 'uri', 'completion/complete', 'params.ref'));
      throw rpcError(JsonRpcErrorCode.InvalidParams, 'completion/complete: params.ref.type must be "ref/prompt" or "ref/resource".');
    });
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
  private async afterStart(
    method: string,
    params: Params,
    signal: AbortSignal,
    what: 'tool' | 'prompt',
    name: string,
  ): Promise<Record<string, unknown>> {
    const parsed = this.options.names.parse(name);
    const member = parsed && this.options.members.get(parsed.server);
    if (!parsed || !member || (what === 'tool' && !this.options.toolAllowed(parsed.server, parsed.name)))
      throw this.unavailable(what, name);
    await member.settled;
    const target = member.target();
    const link = target && !target.setup ? this.options.router.link(target.link) : undefined;
    if (!link) throw this.unavailable(what, name);
    const rewritten =
      method === 'completion/complete'
        ? { ...params, ref: { ...(params.ref as object), name: parsed.name } }
        : { ...params, name: parsed.name };
    return this.options.router.request(link, method, rewritten, relayed(signal));
  }

  /** Finds the server of a resource the client did not list first, and relays the request there. */
  private async relay(method: string, params: Params, signal: AbortSignal, uri: string): Promise<Record<string, unknown>> {
    const owner = await this.options.catalog.resourceOwner(uri);
    const member = owner === undefined ? undefined : this.options.members.get(owner);
    const target = member?.target();
    const link = target && !target.setup ? this.options.router.link(target.link) : undefined;
    if (!link) throw this.unavailable('resource', uri);
    return this.options.router.request(link, method, params, relayed(signal));
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
