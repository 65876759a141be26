/**
 * Tool and prompt names of the aggregate: `<server><separator><name>`. Server names may themselves contain the
 * separator's characters, so a name is split at the longest server name it starts with.
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
