import { EraBridge, type EraBridgeOptions } from '../era/bridge.js';
import { isLocalServer } from '../../config/types.js';
import type { CredentialPlan } from './credential-plan.js';
import type { ServeDeps, ServeOptions } from './deps.js';
import type { Downstream } from './downstream.js';

/**
 * Starts the downstream with the planned secrets; they are registered with the scrubber first. Its transport is
 * behind the era bridge, which lets a 2025 client use a server that speaks only the 2026 era (and is a plain
 * pass-through otherwise; `era.preferModern`: the stateless era whenever the server speaks it). A remote server
 * with `auth` gets its OAuth session.
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
    interactive: !options.headless,
    profile: options.profile,
  });
  return { ...downstream, transport: new EraBridge(downstream.transport, serverName, deps.logger, era) };
}
