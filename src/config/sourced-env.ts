import { findReferences } from './references.js';
import type { ServerConfig } from './schema.js';
import { isLocalServer } from './types.js';

/**
 * A local server with every sourced secret (one with `"from"`) that its `env` neither references nor names given as
 * the variable of the same name: the RFC's shorthand `"secrets": {"STITCH_API_KEY": "op://…"}` needs no other line.
 * Bad reference syntax is left alone here: the checks report it.
 */
export function withSourcedEnv(server: ServerConfig): ServerConfig {
  if (!isLocalServer(server)) return server;
  const referenced = new Set<string>();
  for (const value of Object.values(server.env)) {
    try {
      for (const ref of findReferences(value)) if (ref.kind === 'secret') referenced.add(ref.name);
    } catch {
      // reported by checkServer
    }
  }
  const added = Object.entries(server.secrets)
    .filter(([name, declaration]) => declaration.from !== undefined && !referenced.has(name) && !Object.hasOwn(server.env, name))
    .map(([name]) => [name, `\${secret:${name}}`]);
  return added.length === 0 ? server : { ...server, env: { ...server.env, ...Object.fromEntries(added) } };
}
