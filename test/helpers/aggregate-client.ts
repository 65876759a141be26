import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { binPath, inheritedEnv, repoRoot } from './proxy.js';

/** The SDK fixture server of the aggregate tests. */
export const fixturePath = join(repoRoot, 'test/fixtures/aggregate-server.mjs');

/** A config entry for the fixture server named `name`, with extra env and fields. */
export function fixtureServer(name: string, env: Record<string, string> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { command: process.execPath, args: [fixturePath], env: { FIXTURE_NAME: name, ...env }, ...extra };
}

/** An SDK client connected to `mcp-keyproxy run` (no server name: every enabled server). */
export async function connectAggregate(options: {
  config: string;
  capabilities?: ClientCapabilities;
  extraArgs?: string[];
  beforeConnect?: (client: Client) => void;
}): Promise<{ client: Client; transport: StdioClientTransport; stderr: () => string; proxyPid: number }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [binPath, 'run', '--config', options.config, '--log-level', 'debug', ...(options.extraArgs ?? [])],
    env: inheritedEnv(),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'e2e-aggregate', version: '1.0.0' }, { capabilities: options.capabilities ?? {} });
  options.beforeConnect?.(client);
  await client.connect(transport);
  return { client, transport, stderr: () => stderr, proxyPid: transport.pid ?? -1 };
}

/** Every item of a paginated list, following `nextCursor`; also returns how many pages it took. */
export async function allPages<T>(list: (cursor?: string) => Promise<{ nextCursor?: string } & Record<string, unknown>>, key: string): Promise<{ items: T[]; pages: number }> {
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
