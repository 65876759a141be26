import { createHash } from 'node:crypto';
import type { ServerConfig } from '../config/schema.js';
import { DEFAULT_PROFILE } from '../config/profile.js';
import { isLocalServer } from '../config/types.js';

/** What "Allow always" is given to: one server as it is defined now, with exactly these stored secrets. */
export interface ConsentGrant {
  server: string;
  /** A hash of the server's definition and the secret names: any change gives another key, so the user is asked again. */
  key: string;
  /** The stored secrets the server gets, sorted. */
  secrets: string[];
  /** What runs, for people reading `consent list`: the command line or the URL (never a value: `${…}` stays as written). */
  target: string;
}

/**
 * The grant for starting `serverName` with the stored secrets `secretNames`. The key covers everything that decides
 * what runs and where the secrets go: for a local server its command, args, cwd, env (as written) and inherited
 * variables; for a remote one its URL, headers (as written), transport and plain-http permission; and the
 * credential profile when it is not the default.
 */
export function consentGrant(serverName: string, server: ServerConfig, secretNames: Iterable<string>, profile?: string): ConsentGrant {
  const secrets = [...new Set(secretNames)].sort();
  const definition = isLocalServer(server)
    ? {
        kind: 'local',
        command: server.command,
        args: server.args,
        cwd: server.cwd ?? null,
        env: sortedEntries(server.env),
        inherit_env: [...server.inherit_env].sort(),
      }
    : {
        kind: 'remote',
        url: server.url,
        headers: sortedEntries(server.headers),
        transport: server.transport,
        allow_http: server.allow_http,
      };
  const key = createHash('sha256')
    // Another profile's secrets are other secrets: an "Allow always" covers one profile (default: the key as before).
    .update(JSON.stringify({ server: serverName, definition, secrets, ...(profile && profile !== DEFAULT_PROFILE ? { profile } : {}) }))
    .digest('hex');
  const target = isLocalServer(server) ? [server.command, ...server.args].join(' ') : server.url;
  return { server: serverName, key, secrets, target };
}

function sortedEntries(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
