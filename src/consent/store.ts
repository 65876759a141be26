import type { ConsentGrant } from './grant.js';

/** One remembered "Allow always", as `consent list` shows it. */
export interface RememberedConsent {
  server: string;
  secrets: string[];
  target: string;
  /** When it was given (ISO 8601). */
  allowed_at: string;
  /** The grant's key (a hash of the server definition and the secret names). */
  key: string;
}

/**
 * The "Allow always" answers kept between runs, one per server. A grant counts only while its key matches: a
 * changed command, args, URL or set of secrets is asked again.
 */
export interface ConsentStore {
  /** True when the user chose "Allow always" for exactly this grant. */
  allows(grant: ConsentGrant): boolean;
  /** Keeps the grant (replacing the server's earlier one). */
  remember(grant: ConsentGrant): Promise<void>;
  /** Every remembered grant, by server name. */
  list(): RememberedConsent[];
  /** Forgets the grant of `server`, or every grant when undefined; resolves with the servers forgotten. */
  revoke(server?: string): Promise<string[]>;
}

/** A store that keeps grants in memory only (tests, and runs that must leave no file). */
export function memoryConsentStore(now: () => Date = () => new Date()): ConsentStore {
  const grants = new Map<string, RememberedConsent>();
  return {
    allows: (grant) => grants.get(grant.server)?.key === grant.key,
    remember: (grant) => {
      grants.set(grant.server, { ...grant, allowed_at: now().toISOString() });
      return Promise.resolve();
    },
    list: () => [...grants.values()],
    revoke: (server) => {
      const names = server === undefined ? [...grants.keys()] : grants.has(server) ? [server] : [];
      for (const name of names) grants.delete(name);
      return Promise.resolve(names);
    },
  };
}
