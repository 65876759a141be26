import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { V2_FIXTURE_TOOLS, runCell } from '../helpers/era-clients.js';
import { binPath, inheritedEnv, repoRoot, waitFor, writeConfig } from '../helpers/proxy.js';
import type { HttpServerProcess } from '../helpers/remote.js';

const fixture = join(repoRoot, 'test/fixtures/era-server.mjs');
const stdioModern = { command: process.execPath, args: [fixture, 'stdio', 'modern'], confirm: false };
let httpModern: HttpServerProcess;

/** Starts the 2026-only HTTP fixture (createMcpHandler(factory, {legacy: 'reject'})) on 127.0.0.1. */
async function startHttpModern(): Promise<HttpServerProcess> {
  const child = spawn(process.execPath, [fixture, 'http', 'modern'], { env: inheritedEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  let port: number | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    const match = /"port":(\d+)/.exec(chunk.toString());
    if (match) port = Number(match[1]);
  });
  if (!(await waitFor(() => port !== undefined, 15_000)) || port === undefined) throw new Error('the era fixture did not listen');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    events: [],
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

beforeAll(async () => {
  httpModern = await startHttpModern();
});

afterAll(async () => {
  await httpModern?.stop();
});

function proxyTarget(config: string, server: string) {
  return { command: process.execPath, args: [binPath, 'run', server, '--config', config], env: inheritedEnv() };
}

describe('era bridge: a 2025 client (SDK 1.32) and a server that speaks only 2026-07-28', { timeout: 90_000 }, () => {
  it('direct, the server refuses the client; through the proxy every step works (stdio)', async () => {
    const direct = await runCell('sdk-1.32', { command: process.execPath, args: stdioModern.args }, V2_FIXTURE_TOOLS);
    expect(direct.steps.connect).toBe(false);
    expect(direct.errors.connect).toContain('-32022');
    const config = await writeConfig({ modern: stdioModern });
    const bridged = await runCell('sdk-1.32', proxyTarget(config, 'modern'), V2_FIXTURE_TOOLS);
    expect(bridged.errors).toEqual({});
  });

  it('through the proxy every step works (Streamable HTTP)', async () => {
    const config = await writeConfig({ modern: { url: `${httpModern.origin}/mcp`, confirm: false } });
    const bridged = await runCell('sdk-1.32', proxyTarget(config, 'modern'), V2_FIXTURE_TOOLS);
    expect(bridged.errors).toEqual({});
  });

  it('answers ping and logging/setLevel itself and turns subscriptions/listen events into list_changed', async () => {
    const config = await writeConfig({ modern: stdioModern });
    const client = new Client({ name: 'bridge-test', version: '1' }, { capabilities: {} });
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (changed += 1));
    await client.connect(new StdioClientTransport({ ...proxyTarget(config, 'modern'), stderr: 'ignore' }));
    try {
      expect(client.getServerCapabilities()?.tools).toMatchObject({ listChanged: true });
      await expect(client.ping()).resolves.toEqual({});
      await expect(client.setLoggingLevel('debug')).resolves.toEqual({});
      expect((await client.listTools()).tools.map((tool) => tool.name)).not.toContain('grown');
      await client.callTool({ name: 'grow', arguments: {} });
      expect(await waitFor(() => changed > 0, 10_000)).toBe(true);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('grown');
    } finally {
      await client.close();
    }
  });
});
