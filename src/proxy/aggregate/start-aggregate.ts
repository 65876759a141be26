import type { InitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { isInitializeRequest } from '../wire/json-rpc.js';
import type { ServerConfig } from '../../config/schema.js';
import { Router } from '../core/router.js';
import { superviseRouter, type RunningProxy } from '../core/supervise.js';
import type { ServeDeps, ServeOptions } from '../downstream/deps.js';
import { AggregateServer } from './aggregate-server.js';
import { PROXY_LINK } from '../core/link.js';
import { ModernClientFront } from '../era/modern-front.js';
import type { AggregateOptions } from './options.js';
import { Catalog } from './catalog.js';
import type { GatedMember } from './gated-member.js';
import { DirectMember } from './direct-member.js';
import type { Member, MemberHost, MemberStart } from './member.js';
import { PrefixedNames } from './names.js';
import { routeAggregate, type RoutingContext } from './routing.js';
import { toolPredicate } from './tool-filter.js';
import type { SecretWatch } from '../downstream/secret-watch.js';
import { DEFAULT_PROFILE } from '../../config/profile.js';

/** Builds the members, the router and the aggregate's own server, and starts serving the client. */
export async function startAggregate(
  options: AggregateOptions,
  deps: ServeDeps,
  starts: readonly MemberStart[],
  watch?: SecretWatch,
): Promise<RunningProxy> {
  const memberOptions = (serverName: string, server: ServerConfig): ServeOptions => ({ ...options, serverName, server });
  // The setup server behind a gated member (and with it the MCP SDK's Server and zod) loads only when one is needed.
  const gatedMember = async (): Promise<typeof GatedMember> => (await import('./gated-member.js')).GatedMember;
  const Gated = starts.some((start) => start.kind === 'gated') ? await gatedMember() : undefined;

  let resolveInitialize!: (request: InitializeRequest) => void;
  const host: MemberHost & { router: Router } = {
    router: undefined as unknown as Router,
    clientInitialize: new Promise((resolve) => (resolveInitialize = resolve)),
    changed: (member, restarted) => {
      const stale = catalog.takeStale(member.name);
      if (restarted && !stale.includes('tools')) stale.push('tools');
      for (const list of stale) host.router.notifyClient(`notifications/${list}/list_changed`);
      void aggregate.sendLevel(member);
    },
    loginNeeded: async (member) => {
      // The same gate as a configured OAuth server without a login: it replaces the member under its name.
      const gated = new (await gatedMember())(member.options, deps, host, 'needs-login');
      members.set(member.name, gated);
      deps.logger.info({ server: member.name }, `server "${member.name}" asks for an OAuth login: offering connect_${member.name}`);
      void gated.start();
    },
  };
  const members = new Map<string, Member>();
  const launches: Array<() => Promise<void>> = [];
  options.servers.forEach(([name, server], index) => {
    const start = starts[index]!;
    if (start.kind === 'gated') {
      const member = new Gated!(
        memberOptions(name, server),
        deps,
        host,
        start.missing ? 'needs-credentials' : start.login ? 'needs-login' : 'needs-consent',
      );
      launches.push(() => member.start());
      members.set(name, member);
    } else {
      const member = new DirectMember(memberOptions(name, server), deps, host);
      launches.push(() => (start.kind === 'failed' ? member.fail(start.error.message) : member.start(start.launching, start.injected)));
      members.set(name, member);
    }
  });
  // The start's source-cache writes wait until every member has started (or failed to).
  void Promise.allSettled(launches.map((launch) => launch())).then(() => deps.cacheWrites?.open());

  const filters = new Map(options.servers.map(([name, server]) => [name, toolPredicate(server.tools)]));
  const toolAllowed = (server: string, tool: string): boolean => filters.get(server)?.(tool) ?? false;
  const names = new PrefixedNames([...members.keys()], options.separator);
  // A client of the 2026 era meets the aggregate's own server through the adapter (a 2025 session behind it).
  const front = new ModernClientFront(await deps.openFront(), deps.logger);
  // The catalog needs the router and the router needs the route: routing reads the catalog when a request comes.
  const context: RoutingContext = { members, names, toolAllowed, ownLink: PROXY_LINK, catalog: undefined as unknown as Catalog };
  const route = routeAggregate(context);
  const router = new Router(front, {
    scrubber: deps.scrubber,
    logger: deps.logger,
    guard: deps.guard,
    route: (request, links) => {
      if (isInitializeRequest(request)) resolveInitialize(request);
      return route(request, links);
    },
  });
  host.router = router;
  const catalog = new Catalog(members, names, router, toolAllowed, deps.logger);
  context.catalog = catalog;
  const aggregate = new AggregateServer({
    version: options.version,
    members,
    names,
    catalog,
    router,
    toolAllowed,
    logger: deps.logger,
    notices: [
      ...(options.profile && options.profile !== DEFAULT_PROFILE ? [`profile: ${options.profile}`] : []),
      ...(options.notices ?? []),
    ],
    secretNote: (server) => watch?.note(server),
  });
  router.attach(PROXY_LINK, aggregate.transport);
  await aggregate.transport.start();
  deps.logger.info({ servers: [...members.keys()] }, 'serving every server behind one endpoint');
  watch?.attach(members);

  return superviseRouter(router, deps.logger, {
    stopDownstreams: () => Promise.all([...members.values()].map((member) => member.downstream()?.transport.close())),
    beforeStop: () => {
      watch?.stop();
      members.forEach((member) => member.halt());
    },
    onLinkClose: (link) => {
      for (const member of members.values()) if (member.onLinkClose(link)) return;
    },
  });
}
