import type { AuditLog } from '../audit/audit-log.js';
import type { SecretStore } from './store.js';

/** True when the proxy's environment asks it to clear the stored secrets of its servers at start. */
export function storageClearRequested(env: NodeJS.ProcessEnv): boolean {
  return env.SECRETS_STORAGE_CLEAR?.toLowerCase() === 'true';
}

/**
 * `SECRETS_STORAGE_CLEAR=true`: deletes every secret stored in the keychain for `servers`, and their cached source
 * values, each deletion audited; resolves with the servers that had something deleted. A keychain that cannot be
 * reached has nothing to delete: `onProblem` hears it and the start goes on (as if nothing were stored).
 */
export async function clearStoredSecrets(
  servers: readonly string[],
  stores: { store: SecretStore; cacheStore?: SecretStore },
  audit: Pick<AuditLog, 'secretDeleted'>,
  onProblem: (server: string, error: unknown) => void,
): Promise<string[]> {
  const cleared: string[] = [];
  await Promise.all(
    servers.map(async (server) => {
      try {
        let any = false;
        for (const name of await stores.store.list(server)) {
          if (await stores.store.delete(server, name)) {
            audit.secretDeleted(server, name, 'storage-clear');
            any = true;
          }
        }
        if (stores.cacheStore) {
          // Loaded only here: a start that clears nothing does not need it.
          const { SourceCache } = await import('../sources/source-cache.js');
          if ((await new SourceCache(stores.cacheStore).clear(server)).any) any = true;
        }
        if (any) cleared.push(server);
      } catch (error) {
        onProblem(server, error);
      }
    }),
  );
  return cleared;
}
