import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtspiDriver, buildDialog, requireDisplay } from '../helpers/display.js';
import { requireKeyringSession, secretToolSearch } from '../helpers/keyring.js';
import { binPath, dialogOf, everythingEntry, inheritedEnv, repoRoot, runBin, waitFor } from '../helpers/proxy.js';

const server = `e2e-inline-dialog-${randomBytes(3).toString('hex')}`;
const token = `tok-${randomBytes(12).toString('hex')}`;
let driver: AtspiDriver;

beforeAll(async () => {
  requireKeyringSession();
  requireDisplay();
  await buildDialog();
  driver = await AtspiDriver.start();
});

afterAll(async () => {
  driver?.close();
  await runBin(['secrets', 'clear', server, '--yes']);
});

describe('inline mode, key missing', () => {
  it('the setup tool opens the dialog, the key is stored under the inline name, and the server gets it', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-inline-dialog-'));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [binPath, 'run', server, '--secret', 'API_TOKEN', '--', process.execPath, everythingEntry, 'stdio'],
      env: {
        ...inheritedEnv(),
        MCP_KEYPROXY_RUNTIME_DIR: join(repoRoot, 'test-artifacts', `runtime-${server}`),
      },
      cwd,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'e2e-inline-dialog', version: '1' });
    await client.connect(transport).catch((error: unknown) => {
      throw new Error(`the proxy did not start: ${String(error)}\n${stderr}`);
    });
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual([`connect_${server}`]);
      const call = client.callTool({ name: `connect_${server}`, arguments: {} });
      const pid = await dialogOf(transport.pid ?? -1);
      await driver.run({ pid }, [
        { op: 'set', name: 'API_TOKEN', text: token },
        { op: 'press', name: 'OK' },
      ]);
      // Without elicitation or a progress token the call answers at once with the dialog's code; the tools follow.
      expect(JSON.stringify((await call).content)).toContain(`credentials for ${server}`);
      const ready = await waitFor(async () => (await client.listTools()).tools.some((tool) => tool.name === 'get-env'), 20_000);
      expect(ready).toBe(true);
      expect(await secretToolSearch(server)).toContain(`secret = ${token}`);
      const env = JSON.stringify((await client.callTool({ name: 'get-env', arguments: {} })).content);
      expect(env).toContain(`[REDACTED:${server}/API_TOKEN]`);
      expect(env).not.toContain(token);
    } finally {
      await client.close();
    }
  });
});
