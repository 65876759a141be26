import { JsonRpcErrorCode } from '../wire/json-rpc.js';
import { rpcError } from '../wire/rpc-error.js';

/** The downstream cursors still to follow, by server; `undefined` means "from its first page". */
export type CursorState = ReadonlyMap<string, string | undefined>;

interface Encoded {
  /** The list method the cursor belongs to. */
  m: string;
  /** Server name → its own cursor. */
  s: Record<string, string>;
}

/**
 * The merged list's cursor: opaque to the client, it encodes for each server with more items the cursor that
 * server returned, so the next page asks exactly those servers for their next page.
 */
export function encodeCursor(method: string, next: CursorState): string | undefined {
  if (next.size === 0) return undefined;
  const encoded: Encoded = { m: method, s: Object.fromEntries([...next].map(([server, cursor]) => [server, cursor ?? ''])) };
  return Buffer.from(JSON.stringify(encoded)).toString('base64url');
}

/** Reads a cursor back; anything the proxy did not issue for this method is an InvalidParams error. */
export function decodeCursor(method: string, cursor: string): CursorState {
  let decoded: Partial<Encoded> | undefined;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Encoded>;
  } catch {
    decoded = undefined;
  }
  const servers = decoded?.s;
  if (
    decoded?.m !== method ||
    typeof servers !== 'object' ||
    servers === null ||
    Object.values(servers).some((value) => typeof value !== 'string')
  ) {
    throw rpcError(JsonRpcErrorCode.InvalidParams, `Invalid cursor for ${method}.`);
  }
  return new Map(Object.entries(servers).map(([server, value]) => [server, value === '' ? undefined : value]));
}
