/**
 * Tool and prompt names of the aggregate: `<server><separator><name>`. Server names may themselves contain the
 * separator's characters, so a name is split at the longest server name it starts with; `nameClashes` refuses the
 * server names for which two servers could list the same name (the shorter one's tools would be unreachable).
 */
export class PrefixedNames {
  constructor(
    private readonly servers: readonly string[],
    /** Between server and name, `__` by default. */
    readonly separator: string,
  ) {}

  /** The name the client sees. */
  prefix(server: string, name: string): string {
    return `${server}${this.separator}${name}`;
  }

  /** The server and its own name for a prefixed name, or undefined when no server's prefix matches. */
  parse(prefixed: string): { server: string; name: string } | undefined {
    let found: string | undefined;
    for (const server of this.servers) {
      if (prefixed.startsWith(`${server}${this.separator}`) && prefixed.length > server.length + this.separator.length) {
        if (found === undefined || server.length > found.length) found = server;
      }
    }
    return found === undefined ? undefined : { server: found, name: prefixed.slice(found.length + this.separator.length) };
  }
}

/** A name the aggregate lists that is not `<server><separator><tool>`, and what it is (for messages). */
export interface ReservedName {
  name: string;
  /** E.g. `the proxy's own status tool`. */
  what: string;
  /** The server it belongs to, if any: it never lists this name beside its own prefixed tools. */
  server?: string;
}

/**
 * Why the prefixed names of these servers would be ambiguous, one sentence per clash, or none: `<a><sep><x>` equals
 * `<b><sep><y>` for some tools x, y exactly when `<a><sep>` starts `<b><sep>` (e.g. "a" and "a__b" with "__"), and
 * a reserved name is shadowed when it starts with `<a><sep>`.
 */
export function nameClashes(servers: readonly string[], separator: string, reserved: readonly ReservedName[]): string[] {
  const clashes: string[] = [];
  for (const short of servers) {
    const head = `${short}${separator}`;
    for (const long of servers) {
      const longHead = `${long}${separator}`;
      if (long === short || !longHead.startsWith(head)) continue;
      const rest = longHead.slice(head.length);
      clashes.push(
        `servers "${short}" and "${long}": tool "${rest}<name>" of "${short}" and tool "<name>" of "${long}" would both be listed as "${longHead}<name>"`,
      );
    }
    for (const { name, what, server } of reserved) {
      if (server !== short && name.startsWith(head) && name.length > head.length) {
        clashes.push(`server "${short}": its tool "${name.slice(head.length)}" would be listed as "${name}", the name of ${what}`);
      }
    }
  }
  return clashes;
}

/** Separators tried, in order, when suggesting one that makes the names unambiguous. */
const SEPARATOR_CANDIDATES = ['__', '___', '.', '--', '..', '-', '_'];

/** A `tool_separator` under which none of these servers' names clash, if one of the usual ones does. */
export function clashFreeSeparator(
  servers: readonly string[],
  reserved: (separator: string) => readonly ReservedName[],
): string | undefined {
  return SEPARATOR_CANDIDATES.find((separator) => nameClashes(servers, separator, reserved(separator)).length === 0);
}
