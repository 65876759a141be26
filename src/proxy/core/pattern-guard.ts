import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { AuditLog } from '../../audit/audit-log.js';
import type { ServerConfig } from '../../config/schema.js';
import { messageKind } from '../../log/scrubber.js';
import { redactSecretPatternsJson } from '../../log/secret-patterns.js';
import { forgetWireText } from '../wire/json-lines.js';

/** Rewrites a message a server sends to the client; see `patternGuard`. */
export type MessageGuard = (serverName: string, message: JSONRPCMessage) => JSONRPCMessage;

/**
 * The pattern guard of the servers with `"block_secret_patterns": true`: credential-like strings the proxy did not
 * inject (AWS, GitHub, Slack, Stripe… keys, PEM private keys) are redacted from what they send to the client, and
 * each hit is logged and audited by pattern name. Undefined when no server asks for it, so the hot path pays nothing.
 */
export function patternGuard(
  servers: Iterable<[string, ServerConfig]>,
  deps: { audit: AuditLog; logger: Logger },
): MessageGuard | undefined {
  const guarded = new Set([...servers].filter(([, server]) => server.block_secret_patterns).map(([name]) => name));
  if (guarded.size === 0) return undefined;
  return (serverName, message) => {
    if (!guarded.has(serverName)) return message;
    // The guard looks at the parsed strings, so the message goes on as they serialise, not as the line it came in.
    forgetWireText(message);
    const { value, hits } = redactSecretPatternsJson(message);
    for (const [pattern, count] of hits) {
      deps.audit.patternHit(serverName, pattern, messageKind(message), count);
      deps.logger.warn({ server: serverName, pattern, count }, 'redacted a credential-like string from a message to the client');
    }
    return value;
  };
}
