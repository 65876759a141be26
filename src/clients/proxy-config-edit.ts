import { applyEdits, modify, parse } from 'jsonc-parser';

/** The key of the servers in a proxy config text (`servers`, or `mcpServers` when the file uses that). */
function serversKeyOf(text: string): string {
  const value: unknown = parse(text, [], { allowTrailingComma: true });
  return value !== null && typeof value === 'object' && 'mcpServers' in value && !('servers' in value) ? 'mcpServers' : 'servers';
}

/** The servers of a proxy config text, by name ({} for an empty or absent file). */
export function proxyServers(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  const value = parse(text, [], { allowTrailingComma: true }) as Record<string, unknown> | undefined;
  const servers = value?.[serversKeyOf(text)];
  return servers !== null && typeof servers === 'object' ? { ...(servers as Record<string, unknown>) } : {};
}

/** `text` (a proxy config, or undefined for a new one) with these servers set, comments and other servers kept. */
export function withProxyServers(text: string | undefined, servers: ReadonlyArray<[string, Record<string, unknown>]>): string {
  let next = text === undefined || text.trim() === '' ? '{\n  "servers": {}\n}\n' : text;
  const key = serversKeyOf(next);
  for (const [name, server] of servers) {
    next = applyEdits(next, modify(next, [key, name], server, { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } }));
  }
  return next;
}
