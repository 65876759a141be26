import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { PendingCalls } from './pending-calls.js';

/** The name of the proxy's own link in the router: its setup server, or the aggregate's own server. */
export const PROXY_LINK = 'mcp-keyproxy';

/** Marks an id in a link's id space as a request the proxy itself sent (e.g. one page of a merged list). */
export const PROXY_CALL: unique symbol = Symbol('proxy call');

/**
 * Allocates request ids in one peer's id space. An incoming id is kept when it is free there, so a single
 * downstream sees exactly the ids the client sent; only a collision (two servers using the same id towards the
 * client, or a client id the proxy already uses) gets a fresh id.
 */
export class IdSpace<T> {
  private readonly inFlight = new Map<RequestId, T>();
  private next = 0;

  constructor(private readonly prefix: string) {}

  /** Reserves an id for `entry`, preferring `preferred`. */
  reserve(preferred: RequestId, entry: T): RequestId {
    let id = preferred;
    while (this.inFlight.has(id)) id = `${this.prefix}${++this.next}`;
    this.inFlight.set(id, entry);
    return id;
  }

  /** What an id is reserved for, without releasing it. */
  get(id: RequestId): T | undefined {
    return this.inFlight.get(id);
  }

  /** Releases an id and returns what it was reserved for. */
  take(id: RequestId): T | undefined {
    const entry = this.inFlight.get(id);
    if (entry !== undefined) this.inFlight.delete(id);
    return entry;
  }

  /** The id whose entry satisfies `match` (used to map cancellations back). */
  find(match: (entry: T) => boolean): RequestId | undefined {
    for (const [id, entry] of this.inFlight) if (match(entry)) return id;
    return undefined;
  }

  /** Releases the ids whose entries satisfy `match`. */
  removeWhere(match: (entry: T) => boolean): void {
    for (const [id, entry] of this.inFlight) if (match(entry)) this.inFlight.delete(id);
  }

  /** How many ids are reserved (requests in flight). */
  get size(): number {
    return this.inFlight.size;
  }

  /** Releases every id, returning the entries. */
  drain(): T[] {
    const entries = [...this.inFlight.values()];
    this.inFlight.clear();
    return entries;
  }
}

/** One downstream server as the router sees it: its transport and the requests the client has in flight there. */
export class Link {
  /**
   * Requests in flight at this server, keyed by the id used downstream: the client's id for a forwarded request,
   * or `PROXY_CALL` for one the proxy sent itself.
   */
  readonly requests = new IdSpace<RequestId | typeof PROXY_CALL>('mcp-keyproxy-');
  /** The requests the proxy sent itself, waiting for their results. */
  readonly calls = new PendingCalls<Record<string, unknown>>();

  constructor(
    readonly name: string,
    readonly transport: Transport,
    /** Attached after the client's `initialize`: the handshake already sent it `notifications/initialized`. */
    readonly replayed = false,
    /** Why the server ended (its exit and last output), once it has. */
    readonly describeEnd: () => string | undefined = () => undefined,
  ) {}
}
