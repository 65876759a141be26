import { KeyproxyError } from '../../errors.js';
import { mustAskConsent, readPlan, recordConsentWithoutPrompt } from '../downstream/read-plan.js';
import { missingSecretsError } from '../downstream/credential-plan.js';
import { needsLogin } from '../downstream/oauth-gate.js';
import type { Downstream } from '../downstream/downstream.js';
import type { ServeDeps, ServeOptions } from '../downstream/deps.js';
import { startDownstream } from '../downstream/start.js';
import { MEMBER_ERA } from './direct-member.js';
import { fingerprint } from '../downstream/fingerprint.js';
import type { RunningProxy } from '../core/supervise.js';
import type { MemberStart } from './member.js';
import { clashFreeSeparator, nameClashes, type ReservedName } from './names.js';
import type { AggregateOptions } from './options.js';
import { OWN_PREFIX, STATUS_TOOL } from './status-tool.js';
import { SecretWatch } from '../downstream/secret-watch.js';

/**
 * Serves every given server behind one client connection (`mcp-keyproxy run` with no server name). Servers whose
 * secrets are at hand are spawned first, in parallel, so they boot while the MCP SDK loads; the aggregate then
 * answers `initialize` itself, replays it to each server, and announces each server's lists with `list_changed`
 * when they join, leave or come back after a crash. Throws only when no server at all can run.
 */
export async function serveAggregate(options: AggregateOptions, given: ServeDeps): Promise<RunningProxy> {
  if (options.servers.some(([name]) => name === OWN_PREFIX)) {
    throw new KeyproxyError(
      'CONFIG_INVALID',
      `a server named "${OWN_PREFIX}" cannot join the aggregate: its tools would clash with the proxy's own (${OWN_PREFIX}${options.separator}${STATUS_TOOL}). Rename it in the config, or serve it alone: mcp-keyproxy run ${OWN_PREFIX}.`,
    );
  }
  refuseAmbiguousNames(options);
  const watch = new SecretWatch(given, new Map(options.servers), options.parentEnv);
  const deps = watch.serveDeps;
  const starts = await Promise.all(options.servers.map(([serverName, server]) => planStart({ ...options, serverName, server }, deps)));
  const failures = starts.flatMap((start) => (start.kind === 'failed' ? [start.error] : []));
  if (failures.length === starts.length) {
    // The exit code says what to fix first: a keychain that cannot be read (69) before secrets that are missing (78).
    const first = failures.find((error) => error.code !== 'SECRET_MISSING') ?? failures[0]!;
    throw new KeyproxyError(first.code, failures.map((error) => error.message).join('\n'), { cause: first });
  }
  const { startAggregate } = await import('./start-aggregate.js');
  return startAggregate(options, deps, starts, watch);
}

/** The names the aggregate lists that are not prefixed: its own tools and each gated server's setup tool. */
function reservedNames(servers: readonly string[], separator: string): ReservedName[] {
  return [
    { name: `${OWN_PREFIX}${separator}${STATUS_TOOL}`, what: "the proxy's own status tool" },
    // A gated server lists only connect_<server>, unprefixed; once it runs, only its own tools.
    ...servers.map((server) => ({ name: `connect_${server}`, what: `the tool that connects server "${server}"`, server })),
  ];
}

/**
 * Refuses (CONFIG_INVALID, exit 78) server names under which two tools would get one prefixed name: one of them
 * would be listed but unreachable. Checked on the names alone, before any server starts, so the outcome does not
 * depend on which tools a server happens to list today.
 */
function refuseAmbiguousNames(options: AggregateOptions): void {
  const servers = options.servers.map(([name]) => name);
  const clashes = nameClashes(servers, options.separator, reservedNames(servers, options.separator));
  if (clashes.length === 0) return;
  const separator = clashFreeSeparator(servers, (candidate) => reservedNames(servers, candidate));
  const change = separator === undefined ? '' : `, or set "tool_separator": "${separator}" in the config`;
  throw new KeyproxyError(
    'CONFIG_INVALID',
    `these server names make the tool names of \`mcp-keyproxy run\` (every server behind one endpoint, "<server>${options.separator}<tool>") ambiguous:\n` +
      clashes.map((clash) => `  ${clash}`).join('\n') +
      `\nRename one of the servers in the config${change}.`,
  );
}

/** Decides how a server starts: spawned at once, behind its setup tool, or not at all (headless without secrets). */
async function planStart(options: ServeOptions, deps: ServeDeps): Promise<MemberStart> {
  try {
    const { plan, guarded } = await readPlan(deps, options.serverName, options.server);
    if (plan.missing.length > 0 && options.headless) {
      return { kind: 'failed', error: missingSecretsError(options.serverName, plan.missing, options.profile) };
    }
    const login = plan.missing.length === 0 && (await needsLogin(options, deps, plan));
    if (plan.missing.length > 0 || login || mustAskConsent(options, deps, plan, guarded)) {
      return { kind: 'gated', missing: plan.missing.length > 0, login };
    }
    recordConsentWithoutPrompt(options, deps, plan, guarded);
    const launching: Promise<Downstream> = startDownstream(options, deps, plan, MEMBER_ERA);
    // Awaited by the member; a failed spawn is its to report.
    launching.catch(() => undefined);
    return { kind: 'direct', launching, injected: fingerprint(plan) };
  } catch (error) {
    const failure =
      error instanceof KeyproxyError ? error : new KeyproxyError('DOWNSTREAM_FAILED', `Server "${options.serverName}": ${String(error)}`);
    return { kind: 'failed', error: failure };
  }
}
