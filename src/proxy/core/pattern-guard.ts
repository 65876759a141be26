import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log/logger.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { messageKind } from '../../log/scrubber.js';
import { findsSecretPattern, redactSecretPatternsJson } from '../../log/secret-patterns.js';
import type { LineCheck } from '../wire/original-line.js';

/** Redacts what a server sends to the client; see `patternGuard`. */
export interface MessageGuard {
  /** The message with what the guard looks for redacted; the same object when nothing matched. */
  rewrite(serverName: string, message: JSONRPCMessage): JSONRPCMessage;
  /** What the original line of a message from `serverName` must not hold; undefined when it is not guarded. */
  lineCheck(serverName: string): LineCheck | undefined;
}

/** The guard's check of a line: any well-known credential format, wherever it sits in the line. */
const patternLineCheck: LineCheck = { active: true, finds: findsSecretPattern };

/**
 * The pattern guard of the servers with `"block_secret_patterns": true`: credential-like strings the proxy did not
 * inject (AWS, GitHub, Slack, Stripe… keys, PEM private keys) are redacted from what they send to the client, and
 * each hit is logged and audited by pattern name. Undefined when no server asks for it, so the hot path pays nothing.
 */
export function patternGuard(guardedServers: Iterable<string>, deps: { audit: AuditLog; logger: Logger }): MessageGuard | undefined {
  const guarded = new Set(guardedServers);
  if (guarded.size === 0) return undefined;
  return {
    rewrite(serverName, message) {
      if (!guarded.has(serverName)) return message;
      const { value, hits } = redactSecretPatternsJson(message);
      for (const [pattern, count] of hits) {
        deps.audit.patternHit(serverName, pattern, messageKind(message), count);
        deps.logger.warn({ server: serverName, pattern, count }, 'redacted a credential-like string from a message to the client');
      }
      return value;
    },
    lineCheck: (serverName) => (guarded.has(serverName) ? patternLineCheck : undefined),
  };
}

/**
 * A result `serverName` sent that reaches the client without passing the router (the tools its handshake listed),
 * redacted by `guard` as the router redacts everything that does pass it.
 */
export function guardResult(guard: MessageGuard | undefined, serverName: string, result: Record<string, unknown>): Record<string, unknown> {
  if (!guard) return result;
  const guarded = guard.rewrite(serverName, { jsonrpc: '2.0', id: 0, result } as JSONRPCMessage);
  return (guarded as { result: Record<string, unknown> }).result;
}
