import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { everythingEnvirons, opFixtureDir, useE2eDir } from '../helpers/e2e-dir.js';
import { uniqueServer } from '../helpers/keyring.js';
import { connectThroughProxy, everythingServer, inheritedEnv, runBin, waitFor } from '../helpers/proxy.js';

const dir = useE2eDir('rotation', { keyring: true });
let env: Record<string, string>;

beforeAll(() => {
  // This file's own state directory: its change stamp and audit log are its alone.
  env = { ...inheritedEnv(), MCP_KEYPROXY_STATE_DIR: dir.stateDir, MCP_KEYPROXY_HEADLESS: '1' };
});

/** True once keyproxy__status says the server is ready (again). */
async function ready(client: Client, server: string): Promise<boolean> {
  const result = (await client.callTool({ name: 'keyproxy__status', arguments: {} })) as CallToolResult;
  return JSON.stringify(result.content).includes(`${server} (local): ready`);
}

describe('rotation in a running proxy', () => {
  it('a value changed by `secrets set` in another process restarts the server: list_changed, the new value, not the old', async () => {
    const server = uniqueServer('rot');
    const old = `old-${randomBytes(12).toString('hex')}`;
    const fresh = `new-${randomBytes(12).toString('hex')}`;
    const file = join(dir.path, 'rot.json');
    await writeFile(file, JSON.stringify({ servers: { [server]: everythingServer({ API_KEY: '${secret:API_KEY}' }, { API_KEY: {} }) } }));
    expect(await runBin(['secrets', 'set', server, 'API_KEY'], { input: `${old}\n`, env })).toMatchObject({ code: 0 });
    let listChanged = 0;
    const { client, proxyPid, stderr } = await connectThroughProxy({
      config: file,
      env,
      beforeConnect: (c) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++),
    });
    try {
      await client.listTools();
      await client.callTool({ name: `${server}__get-env`, arguments: {} });
      expect((await everythingEnvirons(proxyPid)).join('\n')).toContain(`API_KEY=${old} `);
      // A call in flight when the value changes finishes on the old server before it is stopped.
      const inFlight = client.callTool(
        { name: `${server}__trigger-long-running-operation`, arguments: { duration: 3, steps: 3 } },
        undefined,
        { timeout: 60_000 },
      );
      const seenBefore = listChanged;

      const set = await runBin(['secrets', 'set', server, 'API_KEY'], { input: `${fresh}\n`, env });
      expect(set.code).toBe(0);
      const finished = (await inFlight) as CallToolResult;
      expect(finished.isError).toBeFalsy();
      expect(JSON.stringify(finished.content)).toContain('Long running operation completed');

      expect(await waitFor(async () => listChanged > seenBefore, 30_000)).toBe(true);
      expect(
        await waitFor(async () => {
          const environs = await everythingEnvirons(proxyPid);
          return environs.length === 1 && environs[0]!.includes(`API_KEY=${fresh} `);
        }, 30_000),
      ).toBe(true);
      expect(await waitFor(() => ready(client, server), 30_000)).toBe(true);
      // Told once as it left and once as it came back.
      expect(listChanged).toBeGreaterThanOrEqual(seenBefore + 2);
      const result = (await client.callTool({ name: `${server}__get-env`, arguments: {} })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      const seen = JSON.stringify(result.content);
      expect(seen).toContain(`[REDACTED:${server}/API_KEY]`);
      expect(seen).not.toContain(fresh);
      expect(seen).not.toContain(old);
      expect((await everythingEnvirons(proxyPid)).join('\n')).not.toContain(old);
      expect(stderr()).not.toContain(fresh);
      const audit = await readFile(join(env.MCP_KEYPROXY_STATE_DIR!, 'audit.jsonl'), 'utf8');
      expect(audit).toMatch(new RegExp(`"secret_rotated".*"server":"${server}","names":\\["API_KEY"\\],"action":"restart"`));
    } finally {
      await client.close();
      await runBin(['secrets', 'clear', server, '--yes'], { env });
    }
  }, 120_000);

  it('`secrets refresh` in another process that reads a new op:// value restarts the server with it', async () => {
    const server = uniqueServer('rotop');
    const ref = `op://Team/${server}/token`;
    const first = `first-${randomBytes(12).toString('hex')}`;
    const second = `second-${randomBytes(12).toString('hex')}`;
    const file = join(dir.path, 'rotop.json');
    await writeFile(file, JSON.stringify({ servers: { [server]: everythingServer({}, { TOKEN: ref }) }, cache: { ttl: '1h' } }));
    const opEnv = (value: string) => ({
      ...env,
      PATH: `${opFixtureDir}:${env.PATH ?? ''}`,
      OP_SERVICE_ACCOUNT_TOKEN: 'ops_fixture',
      OP_FIXTURE_ITEMS: JSON.stringify({ [ref]: value }),
    });
    let listChanged = 0;
    const { client, proxyPid } = await connectThroughProxy({
      config: file,
      env: opEnv(first),
      beforeConnect: (c) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++),
    });
    try {
      await client.listTools();
      await client.callTool({ name: `${server}__get-env`, arguments: {} });
      expect((await everythingEnvirons(proxyPid)).join('\n')).toContain(`TOKEN=${first} `);
      const refreshed = await runBin(['secrets', 'refresh', server, '--config', file], { env: opEnv(second) });
      expect(refreshed.code).toBe(0);
      expect(refreshed.stdout).toContain('refreshed (changed)');
      expect(await waitFor(async () => listChanged > 0, 30_000)).toBe(true);
      expect(
        await waitFor(async () => {
          const environs = await everythingEnvirons(proxyPid);
          return environs.length === 1 && environs[0]!.includes(`TOKEN=${second} `);
        }, 30_000),
      ).toBe(true);
      expect(await waitFor(() => ready(client, server), 30_000)).toBe(true);
      expect((await client.callTool({ name: `${server}__get-env`, arguments: {} })).isError).toBeFalsy();
    } finally {
      await client.close();
      await runBin(['secrets', 'clear', server, '--yes'], { env });
    }
  }, 120_000);
});
