import { findReferences } from '../../config/references.js';
import type { RemoteServerConfig } from '../../config/schema.js';

/** Lower-case names of the headers whose value carries a `${secret:…}`: never sent to another origin. */
export function secretHeaderNames(server: RemoteServerConfig): Set<string> {
  return new Set(
    Object.entries(server.headers)
      .filter(([, value]) => findReferences(value).some((ref) => ref.kind === 'secret'))
      .map(([name]) => name.toLowerCase()),
  );
}
