import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { PROXY_CAPABILITIES } from '../wire/proxy-capabilities.js';
import { lazySchemaValidator } from './schema-validator.js';

/** The context a setup tool runs in: progress token, cancellation signal, and a way to notify the client. */
export type SetupCallExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A tool the proxy itself serves (e.g. `connect_<server>`). */
export interface SetupTool {
  tool: Tool;
  call(extra: SetupCallExtra): Promise<CallToolResult>;
}

/** A setup tool's text result. */
export function toolText(message: string, isError = false): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError };
}

/** The result text once a server is up: which tools it brought. */
export function connectedText(serverName: string, tools: readonly string[]): string {
  return `Connected to ${serverName}. Its ${tools.length} tools are now available${tools.length > 0 ? `: ${tools.join(', ')}` : ''}.`;
}

/**
 * The proxy's own MCP server, used while a downstream cannot start yet (credentials missing, consent pending).
 * It answers `initialize` at once — declaring every capability a downstream may bring, with `listChanged` — and
 * lists the setup tools. It is a real SDK `Server` behind an in-memory transport, attached to the router like
 * any downstream, so server→client requests (elicitation) and progress flow through the same path.
 */
export class SetupServer {
  readonly server: Server;
  /** The router side of the in-memory pair. */
  readonly transport: InMemoryTransport;
  private tools: SetupTool[] = [];

  constructor(options: { name: string; version: string; instructions: string; unavailableMessage: (tool: string) => string }) {
    const [routerSide, serverSide] = InMemoryTransport.createLinkedPair();
    this.transport = routerSide;
    this.server = new Server(
      { name: options.name, version: options.version },
      {
        capabilities: PROXY_CAPABILITIES,
        instructions: options.instructions,
        jsonSchemaValidator: lazySchemaValidator(),
      },
    );
    this.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: this.tools.map((entry) => entry.tool) }));
    this.server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
      const entry = this.tools.find((candidate) => candidate.tool.name === request.params.name);
      if (entry) return entry.call(extra);
      return { isError: true, content: [{ type: 'text', text: options.unavailableMessage(request.params.name) }] };
    });
    // Until the downstream is up there is nothing else to offer: empty lists, accepted settings.
    this.server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: [] }));
    this.server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: [] }));
    this.server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: [] }));
    this.server.setRequestHandler(SetLevelRequestSchema, () => ({}));
    this.server.setRequestHandler(SubscribeRequestSchema, () => ({}));
    this.server.setRequestHandler(UnsubscribeRequestSchema, () => ({}));
    this.server.setRequestHandler(CompleteRequestSchema, () => ({ completion: { values: [] } }));
    void this.server.connect(serverSide);
  }

  /** Replaces the setup tools (the caller announces the change with `tools/list_changed`). */
  setTools(tools: SetupTool[]): void {
    this.tools = tools;
  }

  /** True when the client declared URL-mode elicitation (`elicitation: {url: {}}`, MCP 2025-11-25). */
  clientHasUrlElicitation(): boolean {
    return this.server.getClientCapabilities()?.elicitation?.url !== undefined;
  }

  /** The sender of `notifications/elicitation/complete` for one URL-mode elicitation. */
  createCompletionNotifier(elicitationId: string): () => Promise<void> {
    return this.server.createElicitationCompletionNotifier(elicitationId);
  }

  /** True when the client declared form-mode elicitation. */
  clientHasFormElicitation(): boolean {
    const elicitation = this.server.getClientCapabilities()?.elicitation;
    // An empty `elicitation: {}` means form mode (the 2025-06-18 shape).
    return elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined);
  }
}
