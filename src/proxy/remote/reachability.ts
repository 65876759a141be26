import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { AuditLog } from '../../audit/audit-log.js';
import pino from 'pino';
import { referencedSecretNames } from '../../config/references.js';
import type { RemoteServerConfig } from '../../config/schema.js';
import { planCredentials } from '../downstream/credential-plan.js';
import { launchRemote } from './launch-remote.js';
import { AUTH_REJECTED_CODE } from './failure-response.js';

/** One line of the doctor's report. */
export interface ReachabilityCheck {
  status: 'ok' | 'warn' | 'fail';
  what: string;
}

/**
 * For `doctor`: opens one session with the remote server exactly as the proxy would (same headers, same URL
 * policy, same fallback to SSE), then ends it (DELETE). Reports whether the server answered and accepted the
 * credentials, naming the secrets but never their values. `stored` is what the keychain holds for the server,
 * undefined when it could not be read.
 */
export async function checkRemoteReachable(
  serverName: string,
  server: RemoteServerConfig,
  deps: { stored: ReadonlyMap<string, string> | undefined; env: NodeJS.ProcessEnv; audit: AuditLog; timeoutMs?: number },
): Promise<ReachabilityCheck> {
  const where = `remote server ${new URL(server.url).origin}`;
  if (referencedSecretNames(server).length > 0 && !deps.stored) {
    return { status: 'warn', what: `${serverName}: ${where} not checked: its secrets cannot be read from the keychain` };
  }
  const plan = planCredentials(server, deps.stored ?? new Map());
  if (plan.missing.length > 0)
    return { status: 'warn', what: `${serverName}: ${where} not checked: secret(s) ${plan.missing.join(', ')} missing` };

  const client = new Client({ name: 'mcp-keyproxy-doctor', version: '1' }, { capabilities: {} });
  try {
    const downstream = await launchRemote({
      serverName,
      server,
      plan,
      parentEnv: deps.env,
      logger: pino({ level: 'silent' }),
      audit: deps.audit,
    });
    await client.connect(downstream.transport, { timeout: deps.timeoutMs ?? 10_000 });
    const info = client.getServerVersion();
    return {
      status: 'ok',
      what: `${serverName}: ${where} answered${info ? ` (${info.name} ${info.version})` : ''} and accepted its credentials`,
    };
  } catch (error) {
    if (error instanceof McpError && error.code === AUTH_REJECTED_CODE)
      return { status: 'fail', what: `${serverName}: ${error.message.replace(/^MCP error -?\d+: /, '')}` };
    const message = error instanceof Error ? error.message.replace(/^MCP error -?\d+: /, '') : String(error);
    return { status: 'fail', what: `${serverName}: ${where} is not usable: ${message}` };
  } finally {
    await client.close().catch(() => undefined);
  }
}
