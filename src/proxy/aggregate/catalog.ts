import type { Logger } from '../../log/logger.js';
import type { Router } from '../core/router.js';
import type { ListKind } from '../setup/gated-server.js';
import { decodeCursor, encodeCursor } from './cursors.js';
import type { Member } from './member.js';
import type { PrefixedNames } from './names.js';
import { withDeadline } from '../../timing/deadline.js';

/** The list requests the aggregate merges, with the result field and the capability each needs. */
const LISTS = {
  'tools/list': { key: 'tools', capability: 'tools', kind: 'tools' },
  'prompts/list': { key: 'prompts', capability: 'prompts', kind: 'prompts' },
  'resources/list': { key: 'resources', capability: 'resources', kind: 'resources' },
  'resources/templates/list': { key: 'resourceTemplates', capability: 'resources', kind: 'resources' },
} as const satisfies Record<string, { key: string; capability: 'tools' | 'prompts' | 'resources'; kind: ListKind }>;

/** One of the merged list methods. */
export type ListMethod = keyof typeof LISTS;

/** How long the first page of a list waits for servers still starting; later ones come with list_changed. */
const LIST_WAIT_MS = 2000;
/** A server that does not answer a list within this time contributes nothing to it. */
const LIST_TIMEOUT_MS = 10_000;

type Item = Record<string, unknown> & { name?: string; uri?: string; uriTemplate?: string };

/**
 * The merged lists of every server: fans a list request out to the servers (in parallel), prefixes tool and prompt
 * names, applies tool filters, keeps the first server of a resource URI listed twice, and remembers which server
 * owns each resource and template so reads, subscriptions and completions can be routed.
 */
export class Catalog {
  private readonly resourceOwners = new Map<string, string>();
  private readonly templateOwners = new Map<string, string>();
  private readonly reportedDuplicates = new Set<string>();
  /** Lists served since each member last changed: those the client must be told to fetch again. */
  private readonly servedSinceChange = new Map<string, Set<ListKind>>();

  constructor(
    private readonly members: ReadonlyMap<string, Member>,
    private readonly names: PrefixedNames,
    private readonly router: Router,
    private readonly toolAllowed: (server: string, tool: string) => boolean,
    private readonly logger: Logger,
  ) {}

  /**
   * One page of a merged list: the first page asks every server, each as soon as it has started (or `LIST_WAIT_MS`
   * after the request, whichever comes first), so that only the slowest server's own answer is left to wait for once
   * it is up; a cursor asks only the servers it names.
   */
  async list(method: ListMethod, cursor: string | undefined): Promise<{ items: Item[]; nextCursor?: string }> {
    const spec = LISTS[method];
    const pending =
      cursor === undefined ? new Map([...this.members.keys()].map((name) => [name, undefined])) : decodeCursor(method, cursor);
    const waitEnd = performance.now() + LIST_WAIT_MS;
    if (cursor !== undefined) for (const name of this.members.keys()) this.served(name, spec.kind);
    const pages = await Promise.all(
      [...pending].map(async ([server, serverCursor]) => {
        const member = this.members.get(server);
        if (cursor === undefined) {
          if (member) await withDeadline(member.settled, Math.max(0, waitEnd - performance.now()), () => undefined);
          // From here on a change of this server's list is news to the client (a server ready within the wait is not).
          this.served(server, spec.kind);
        }
        const target = member?.target();
        const link = target && this.router.link(target.link);
        if (!member || !target || !link || member.capabilities()?.[spec.capability] === undefined) return undefined;
        try {
          const started = method === 'tools/list' && serverCursor === undefined ? member.takeStartTools?.() : undefined;
          const result =
            started ??
            (await this.router.request(link, method, serverCursor === undefined ? {} : { cursor: serverCursor }, {
              timeoutMs: LIST_TIMEOUT_MS,
            }));
          const items = Array.isArray(result[spec.key]) ? (result[spec.key] as Item[]) : [];
          return { server, setup: target.setup, items, next: typeof result.nextCursor === 'string' ? result.nextCursor : undefined };
        } catch (error) {
          this.logger.warn({ server, method, err: error }, `server "${server}" did not answer ${method}; leaving it out`);
          return undefined;
        }
      }),
    );
    const items: Item[] = [];
    const next = new Map<string, string>();
    for (const page of pages) {
      if (!page) continue;
      if (page.next !== undefined) next.set(page.server, page.next);
      for (const item of page.items) {
        const merged = this.merge(method, page.server, page.setup, item);
        if (merged) items.push(merged);
      }
    }
    return { items, nextCursor: encodeCursor(method, next) };
  }

  /** Notes that the client has been served the `kind` list of `member`. */
  private served(member: string, kind: ListKind): void {
    this.servedSinceChange.set(member, (this.servedSinceChange.get(member) ?? new Set<ListKind>()).add(kind));
  }

  /** The lists the client should fetch again now that `member` changed; forgets them. */
  takeStale(member: string): ListKind[] {
    const stale = [...(this.servedSinceChange.get(member) ?? [])];
    this.servedSinceChange.delete(member);
    return stale;
  }

  /** The server that listed this resource URI (or a template it matches); lists resources first if unknown. */
  async resourceOwner(uri: string): Promise<string | undefined> {
    const known = this.knownOwner(uri);
    if (known !== undefined) return known;
    await Promise.all([this.listAll('resources/list'), this.listAll('resources/templates/list')]);
    return this.knownOwner(uri);
  }

  /** The owner of a URI or template, from the lists seen so far. */
  knownOwner(uri: string): string | undefined {
    return this.resourceOwners.get(uri) ?? this.templateOwners.get(uri) ?? this.templateOwnerOf(uri);
  }

  private templateOwnerOf(uri: string): string | undefined {
    for (const [template, owner] of this.templateOwners) if (matchesTemplate(template, uri)) return owner;
    return undefined;
  }

  private async listAll(method: ListMethod): Promise<void> {
    let cursor: string | undefined;
    do cursor = (await this.list(method, cursor)).nextCursor;
    while (cursor !== undefined);
  }

  private merge(method: ListMethod, server: string, setup: boolean, item: Item): Item | undefined {
    if (method === 'tools/list' || method === 'prompts/list') {
      if (typeof item.name !== 'string') return undefined;
      if (setup) return item;
      if (method === 'tools/list' && !this.toolAllowed(server, item.name)) return undefined;
      return { ...item, name: this.names.prefix(server, item.name) };
    }
    const owners = method === 'resources/list' ? this.resourceOwners : this.templateOwners;
    const uri = method === 'resources/list' ? item.uri : item.uriTemplate;
    if (typeof uri !== 'string') return undefined;
    const owner = owners.get(uri);
    if (owner !== undefined && owner !== server && this.members.has(owner)) {
      if (!this.reportedDuplicates.has(uri)) {
        this.reportedDuplicates.add(uri);
        this.logger.error(
          { uri, kept: owner, dropped: server },
          `resource ${uri} is listed by both "${owner}" and "${server}"; "${owner}" serves it`,
        );
      }
      if (this.isEarlier(owner, server)) return undefined;
    }
    owners.set(uri, server);
    return item;
  }

  /** True when `a` comes before `b` in the config: the first server of a duplicate URI wins. */
  private isEarlier(a: string, b: string): boolean {
    const order = [...this.members.keys()];
    return order.indexOf(a) < order.indexOf(b);
  }
}

/** True when `uri` could come from the RFC 6570 template (each `{…}` expression matches any run of characters). */
function matchesTemplate(template: string, uri: string): boolean {
  const source = template
    .split(/\{[^}]*\}/)
    .map((part) => part.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(uri);
}
