import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../../log/logger.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { ServerConfig } from '../../config/schema.js';
import type { OAuthSession } from '../../oauth/session.js';
import type { CredentialPlan } from './credential-plan.js';

/** What a launcher gets: the server, the secret values to inject, and the proxy's environment. */
export interface LaunchContext<S extends ServerConfig = ServerConfig> {
  serverName: string;
  server: S;
  plan: CredentialPlan;
  parentEnv: NodeJS.ProcessEnv;
  logger: Logger;
  /** Where the launcher records the injection, and a remote server its rejected credentials. */
  audit: AuditLog;
  /** A remote server's OAuth session (config `auth`): its provider and token handling go on every request. */
  oauth?: OAuthSession;
  /**
   * Called when a remote server with no `auth` and no credential of its own answers 401 with a Bearer challenge
   * (the `WWW-Authenticate` value): it wants an OAuth login (`OAuthSessions.discover`).
   */
  onBearerChallenge?: (challenge: string) => void;
  /** A browser may be opened (not headless): a 403 insufficient_scope can then ask for more scopes (step-up). */
  interactive?: boolean;
  /** The credential profile (`run --profile`), named in the fix of a missing or rejected secret. */
  profile?: string;
}

/** A started downstream, ready for the router. */
export interface Downstream {
  transport: Transport;
  /** Why it ended, for the log (e.g. "exit code 1"); undefined while running. */
  endReason(): string | undefined;
  /** The local child's pid, when there is one. */
  pid?: number;
  /**
   * Takes changed secret values where it stands, when its transport allows (a remote server's headers: the next
   * request carries them); false when it must be restarted instead. Absent: always restarted.
   */
  swapCredentials?(plan: CredentialPlan): boolean;
}

/**
 * Starts one kind of downstream (a local child, a remote session) and resolves as soon as it runs, so the server
 * boots while the proxy loads the rest of itself.
 */
export type Launcher<S extends ServerConfig = ServerConfig> = (context: LaunchContext<S>) => Promise<Downstream>;

/** The launcher of every kind that the proxy is handed; `preload` loads a kind's code while the keychain is read. */
export type DownstreamLauncher = Launcher & { preload?: (server: ServerConfig) => Promise<unknown> };
