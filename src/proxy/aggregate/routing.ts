import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Link } from '../core/link.js';
import type { RouteTarget } from '../core/router.js';
import type { Catalog } from './catalog.js';
import type { Member } from './member.js';
import type { PrefixedNames } from './names.js';

/** What routing needs to know about the aggregate. */
export interface RoutingContext {
  members: ReadonlyMap<string, Member>;
  names: PrefixedNames;
  catalog: Catalog;
  toolAllowed: (server: string, tool: string) => boolean;
  /** The link of the aggregate's own server: everything not forwarded goes there. */
  ownLink: string;
}

type Params = Record<string, unknown>;

/**
 * Picks the downstream of a client request and rewrites it for that server (prefix stripped). Calls, reads,
 * prompts, subscriptions and completions go to the server they name; anything else — `initialize`, `ping`, the list
 * requests, `logging/setLevel`, the status tool, and whatever names no running server — goes to the aggregate's
 * own server, which answers or reports the error.
 */
export function routeAggregate(
  context: RoutingContext,
): (request: JSONRPCRequest, links: ReadonlyMap<string, Link>) => RouteTarget | undefined {
  const { members, names, toolAllowed } = context;
  const running = (server: string | undefined, links: ReadonlyMap<string, Link>): Link | undefined => {
    const target = server === undefined ? undefined : members.get(server)?.target();
    return target && !target.setup ? links.get(target.link) : undefined;
  };
  return (request, links) => {
    const own = links.get(context.ownLink);
    const params = (request.params ?? {}) as Params;
    const withParams = (link: Link | undefined, rewritten: Params): RouteTarget | undefined =>
      link ? { link, request: { ...request, params: rewritten } } : own;
    switch (request.method) {
      case 'tools/call': {
        const name = String(params.name);
        for (const member of members.values()) {
          const target = member.target();
          if (target?.setup && name === `connect_${member.name}`) return links.get(target.link) ?? own;
        }
        const parsed = names.parse(name);
        if (!parsed || !toolAllowed(parsed.server, parsed.name)) return own;
        return withParams(running(parsed.server, links), { ...params, name: parsed.name });
      }
      case 'prompts/get': {
        const parsed = names.parse(String(params.name));
        return parsed ? withParams(running(parsed.server, links), { ...params, name: parsed.name }) : own;
      }
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        return running(context.catalog.knownOwner(String(params.uri)), links) ?? own;
      }
      case 'completion/complete': {
        const ref = (params.ref ?? {}) as Params;
        if (ref.type === 'ref/prompt') {
          const parsed = names.parse(String(ref.name));
          return parsed ? withParams(running(parsed.server, links), { ...params, ref: { ...ref, name: parsed.name } }) : own;
        }
        return running(context.catalog.knownOwner(String(ref.uri)), links) ?? own;
      }
      default:
        return own;
    }
  };
}
