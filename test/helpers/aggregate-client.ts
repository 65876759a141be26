import { join } from 'node:path';
import { repoRoot } from './proxy.js';

/** The SDK fixture server of the aggregate tests. */
export const fixturePath = join(repoRoot, 'test/fixtures/aggregate-server.mjs');

/** A config entry for the fixture server named `name`, with extra env and fields. */
export function fixtureServer(
  name: string,
  env: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { command: process.execPath, args: [fixturePath], env: { FIXTURE_NAME: name, ...env }, ...extra };
}

/** Every item of a paginated list, following `nextCursor`; also returns how many pages it took. */
export async function allPages<T>(
  list: (cursor?: string) => Promise<{ nextCursor?: string } & Record<string, unknown>>,
  key: string,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list(cursor);
    items.push(...(page[key] as T[]));
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== undefined);
  return { items, pages };
}
