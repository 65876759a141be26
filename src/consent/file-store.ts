import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { platformStateDir } from '../config/paths.js';
import { KeyproxyError } from '../errors.js';
import { takeFileLock } from '../files/file-lock.js';
import { readPrivateJson, writePrivateJson } from '../files/private-json.js';
import type { ConsentGrant } from './grant.js';
import type { ConsentStore, RememberedConsent } from './store.js';

/** File name of the remembered grants in the state directory; the previous version is kept beside it as `.bak`. */
export const CONSENT_FILE_NAME = 'consent.json';
/** Bumped when the file's shape changes; a file of another format is read as empty. */
const FORMAT = 1;
/** How long a writer waits for another process's write. */
const LOCK_WAIT_MS = 10_000;

interface ConsentFile {
  format: number;
  servers: Record<string, RememberedConsent>;
}

/** The remembered-consent file of this process (`MCP_KEYPROXY_STATE_DIR`, else the platform state directory). */
export function defaultConsentPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(platformStateDir(process.platform, env, homedir()), CONSENT_FILE_NAME);
}

/**
 * The grants in `file`. Only a file this user owns and nobody else can write is trusted (another user able to write
 * it could allow a server in our name); a missing, foreign or damaged file holds none.
 */
function readGrants(file: string): Record<string, RememberedConsent> {
  const parsed = readPrivateJson(file) as Partial<ConsentFile> | undefined;
  if (parsed?.format !== FORMAT || typeof parsed.servers !== 'object' || parsed.servers === null) return {};
  const servers: Record<string, RememberedConsent> = {};
  for (const [name, grant] of Object.entries(parsed.servers)) {
    if (typeof grant?.key === 'string' && Array.isArray(grant.secrets)) servers[name] = { ...grant, server: name };
  }
  return servers;
}

/**
 * "Allow always" answers in `consent.json` of the state directory (mode 0600). Reads are synchronous and fresh
 * each time, so a `consent revoke` counts at the next prompt of a running proxy. A change is made under a lock
 * (proper-lockfile) so two processes never lose each other's grants, the previous file is kept as `.bak`, and the
 * new one is written atomically (write-file-atomic); both libraries load only when something is written.
 */
export function fileConsentStore(file: string = defaultConsentPath(), now: () => Date = () => new Date()): ConsentStore {
  const change = async (edit: (servers: Record<string, RememberedConsent>) => void): Promise<void> => {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const unlock = await lockFile(file);
    try {
      const servers = readGrants(file);
      edit(servers);
      const content: ConsentFile = { format: FORMAT, servers };
      await writePrivateJson(file, content);
    } catch (error) {
      throw new KeyproxyError('STATE_WRITE_FAILED', `Cannot write the remembered consents to ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      await unlock();
    }
  };
  return {
    allows: (grant: ConsentGrant) => readGrants(file)[grant.server]?.key === grant.key,
    remember: (grant) =>
      change((servers) => {
        servers[grant.server] = {
          server: grant.server,
          secrets: grant.secrets,
          target: grant.target,
          allowed_at: now().toISOString(),
          key: grant.key,
        };
      }),
    list: () => Object.values(readGrants(file)),
    revoke: async (server) => {
      const known = Object.keys(readGrants(file));
      const names = server === undefined ? known : known.filter((name) => name === server);
      if (names.length === 0) return [];
      await change((servers) => {
        for (const name of names) delete servers[name];
      });
      return names;
    },
  };
}

async function lockFile(file: string): Promise<() => Promise<void>> {
  try {
    return await takeFileLock(`${file}.lock`, { waitMs: LOCK_WAIT_MS });
  } catch (error) {
    throw new KeyproxyError(
      'STATE_WRITE_FAILED',
      `Cannot lock ${file} to change the remembered consents (${(error as NodeJS.ErrnoException).code ?? String(error)}). ` +
        `Try again; if no other mcp-keyproxy is running, remove ${file}.lock.`,
      { cause: error },
    );
  }
}
