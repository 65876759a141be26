import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { requireKeyringSession } from './keyring.js';
import { descendantsOf, everythingEntry, procText, repoRoot } from './proxy.js';

/** The folder of the fixture `op` (1Password's CLI cannot be installed here; see README "Tests"). */
export const opFixtureDir = join(repoRoot, 'test/fixtures/op');

/** One e2e file's private folder (0700) and its own state directory (change stamp, audit log) inside it. */
export interface E2eDir {
  readonly path: string;
  readonly stateDir: string;
}

/**
 * Gives the calling e2e file a private temp folder for the whole file, removed after it, with its own state
 * directory so the file runs beside any other; `keyring: true` first checks that the test keyring session is there.
 */
export function useE2eDir(prefix: string, options: { keyring?: boolean } = {}): E2eDir {
  let path = '';
  beforeAll(async () => {
    if (options.keyring) requireKeyringSession();
    path = await mkdtemp(join(tmpdir(), `keyproxy-${prefix}-`));
    await chmod(path, 0o700);
  });
  afterAll(async () => {
    if (path) await rm(path, { recursive: true, force: true });
  });
  return {
    get path() {
      return path;
    },
    get stateDir() {
      return join(path, 'state');
    },
  };
}

/** The environments of the server-everything processes under a proxy (one per running server). */
export async function everythingEnvirons(proxyPid: number): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await descendantsOf(proxyPid)) {
    if ((await procText(pid, 'cmdline')).includes(everythingEntry)) found.push(await procText(pid, 'environ'));
  }
  return found;
}
