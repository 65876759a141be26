import type { ServerConfig } from '../config/schema.js';
import { parseSource, type SourceKind } from './source.js';
import type { SourceRequest } from './read-sources.js';

/** The requests for those of `names` that a server declares with a `"from"` source; the rest come from the keychain. */
export function sourceRequests(server: ServerConfig, names: readonly string[]): SourceRequest[] {
  return names.flatMap((secret) => {
    const from = server.secrets[secret]?.from;
    return from === undefined ? [] : [{ secret, source: parseSource(from) }];
  });
}

/** The secret names of `requests` grouped by source kind (for the audit log: names and kinds, never values). */
export function namesByKind(requests: readonly SourceRequest[]): Map<SourceKind, string[]> {
  const byKind = new Map<SourceKind, string[]>();
  for (const { secret, source } of requests) byKind.set(source.kind, [...(byKind.get(source.kind) ?? []), secret]);
  return byKind;
}
