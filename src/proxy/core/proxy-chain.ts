import { KeyproxyError } from '../../errors.js';

/**
 * The variable that carries, to every server a proxy starts, the proxies already running above it (a JSON array
 * of "<config>#<server>"). A proxy that finds itself in it would only start itself again, without end.
 */
export const CHAIN_VARIABLE = 'MCP_KEYPROXY_CHAIN';

/** Proxies nested deeper than this are refused even without a repeat (a chain of ever-new names). */
export const MAX_NESTED_PROXIES = 8;

function chainOf(env: NodeJS.ProcessEnv): string[] {
  const raw = env[CHAIN_VARIABLE];
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Enters the chain as `self` ("<config path>#<server>", "<config path>#*" for every server, "inline#<name>"), or
 * refuses with a message that says which entry loops. Returns the environment to hand to the servers.
 */
export function enterProxyChain(env: NodeJS.ProcessEnv, self: string): NodeJS.ProcessEnv {
  const chain = chainOf(env);
  const shown = [...chain, self].map((link) => link.replace(/#\*$/, ' (every server)')).join(' → ');
  if (chain.includes(self)) {
    throw new KeyproxyError(
      'CONFIG_INVALID',
      `refusing to start: this proxy would run itself again (${shown}). A server entry runs mcp-keyproxy on the ` +
        'config it belongs to; point that entry at the real server command (not at mcp-keyproxy), or give it a ' +
        'different server name.',
    );
  }
  if (chain.length >= MAX_NESTED_PROXIES) {
    throw new KeyproxyError(
      'CONFIG_INVALID',
      `refusing to start: ${chain.length} mcp-keyproxy processes are already nested above this one (${shown}). A server ` +
        'entry that runs mcp-keyproxy again is most likely a loop; point it at the real server command.',
    );
  }
  return { ...env, [CHAIN_VARIABLE]: JSON.stringify([...chain, self]) };
}
