import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { repoRoot, waitFor } from './proxy.js';

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

/** What the aggregate's `keyproxy__status` tool says of each server, by name. */
export async function statusOf(client: Client): Promise<Record<string, { state: string; detail?: string }>> {
  const result = await client.callTool({ name: 'keyproxy__status', arguments: {} });
  const servers = (result.structuredContent as { servers: Array<{ name: string; state: string; detail?: string }> }).servers;
  return Object.fromEntries(servers.map((server) => [server.name, server]));
}

/**
 * Waits (bounded) until each of `names` reads ready in the aggregate's status. The aggregate answers `initialize`
 * without waiting for slow members, so on a busy machine a member's tools may arrive after the client connected.
 */
export async function untilReady(client: Client, names: string[], ms = 30_000): Promise<void> {
  let status: Record<string, { state: string }> = {};
  const ready = await waitFor(async () => {
    status = await statusOf(client);
    return names.every((name) => status[name]?.state === 'ready');
  }, ms);
  if (!ready) throw new Error(`aggregate members not ready after ${ms} ms: ${JSON.stringify(status)}`);
}
