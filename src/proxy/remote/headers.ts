import { findReferences } from '../../config/references.js';
import type { RemoteServerConfig } from '../../config/schema.js';

/** The server's headers without those that use an absent optional secret (they are left out, not sent empty). */
export function headersWithoutAbsent(server: RemoteServerConfig, absent: ReadonlySet<string>): Record<string, string> {
  if (absent.size === 0) return server.headers;
  return Object.fromEntries(
    Object.entries(server.headers).filter(([, value]) => findReferences(value).every((ref) => ref.kind !== 'secret' || !absent.has(ref.name))),
  );
}

/** Lower-case names of the headers whose value carries a `${secret:…}`: never sent to another origin. */
export function secretHeaderNames(server: RemoteServerConfig): Set<string> {
  return new Set(
    Object.entries(server.headers)
      .filter(([, value]) => findReferences(value).some((ref) => ref.kind === 'secret'))
      .map(([name]) => name.toLowerCase()),
  );
}
