import type { CredentialPlan } from './credential-plan.js';
import type { ServeDeps, ServeOptions } from './deps.js';
import type { Downstream } from './downstream.js';

/** Starts the downstream with the planned secrets; they are registered with the scrubber first. */
export function startDownstream(options: ServeOptions, deps: ServeDeps, plan: CredentialPlan): Promise<Downstream> {
  const { serverName, server, parentEnv } = options;
  for (const [name, value] of plan.values) deps.scrubber.add(`${serverName}/${name}`, value);
  return deps.launcher({ serverName, server, plan, parentEnv, logger: deps.logger, audit: deps.audit });
}
