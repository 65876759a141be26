import { EraBridge, type EraBridgeOptions } from '../era/bridge.js';
import { isLocalServer } from '../../config/types.js';
import type { CredentialPlan } from './credential-plan.js';
import type { ServeDeps, ServeOptions } from './deps.js';
import type { Downstream } from './downstream.js';

/**
 * Starts the downstream with the planned secrets; they are registered with the scrubber first. Its transport is
 * behind the era bridge, which lets a 2025 client use a server that speaks only the 2026 era (and is a plain
 * pass-through otherwise; `era.preferModern`: the stateless era whenever the server speaks it). A remote server
 * always prefers it: a dual-era HTTP server serves a 2025 client statelessly, without elicitation or sampling,
 * which the 2026 era gives through the bridge's input rounds (as mcp-remote's `--protocol auto` does). A local
 * server's 2025 leg is a full session, so a local dual-era server gets the client's own era. A remote server with
 * `auth` gets its OAuth session; one without (and without a credential of its own) that answers with a Bearer
 * challenge is recorded as an OAuth server from then on (`OAuthSessions.discover`).
 */
export async function startDownstream(
  options: ServeOptions,
  deps: ServeDeps,
  plan: CredentialPlan,
  era: EraBridgeOptions = {},
): Promise<Downstream> {
  const { serverName, server, parentEnv } = options;
  for (const [name, value] of plan.values) deps.scrubber.add(`${serverName}/${name}`, value);
  const oauth = isLocalServer(server) ? undefined : await deps.oauth?.get(serverName, server);
  const downstream = await deps.launcher({
    serverName,
    server,
    plan,
    parentEnv,
    logger: deps.logger,
    audit: deps.audit,
    oauth,
    onBearerChallenge: deps.oauth && !oauth ? (challenge) => deps.oauth?.discover(serverName, challenge) : undefined,
    interactive: !options.headless,
    profile: options.profile,
  });
  const bridge = isLocalServer(server) ? era : { preferModern: true, ...era };
  return { ...downstream, transport: new EraBridge(downstream.transport, serverName, deps.logger, bridge) };
}
