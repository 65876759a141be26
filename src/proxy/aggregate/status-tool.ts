import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { isLocalServer } from '../../config/types.js';
import type { Member } from './member.js';

/** The status tool's name without its prefix: `keyproxy__status` with the default separator. */
export const STATUS_TOOL = 'status';
/** The prefix of the proxy's own tools. */
export const OWN_PREFIX = 'keyproxy';

/** The tool listing each server's state. */
export function statusTool(name: string): Tool {
  return {
    name,
    title: 'mcp-keyproxy: server status',
    description:
      'Lists every MCP server behind mcp-keyproxy and its state: starting, ready, waiting for credentials or for permission, denied, restarting, or failed with the reason (a server that keeps failing at start-up is no longer restarted: its exit code and last output say why), and a warning when it runs on an expired cached secret because its vault could not be reached.',
    inputSchema: { type: 'object', properties: {} },
    annotations: { readOnlyHint: true, openWorldHint: false },
  };
}

/** The status tool's answer: one line per server, and the same as structured content. */
export function statusResult(
  members: Iterable<Member>,
  notices: readonly string[] = [],
  secretNote?: (server: string) => string | undefined,
): CallToolResult {
  const servers = [...members].map((member) => {
    const warning = secretNote?.(member.name);
    return {
      name: member.name,
      kind: isLocalServer(member.options.server) ? 'local' : 'remote',
      state: member.state(),
      ...(member.detail() === undefined ? {} : { detail: member.detail() }),
      ...(warning === undefined ? {} : { warning }),
    };
  });
  const lines = servers.map(
    (server) =>
      `${server.name} (${server.kind}): ${server.state}${server.detail ? ` — ${server.detail}` : ''}${server.warning ? ` — warning: ${server.warning}` : ''}`,
  );
  const text = [...notices, lines.join('\n') || 'No servers.'].join('\n');
  return { content: [{ type: 'text', text }], structuredContent: { servers, ...(notices.length > 0 ? { notices: [...notices] } : {}) } };
}
