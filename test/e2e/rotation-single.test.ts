import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { everythingEnvirons, useE2eDir } from '../helpers/e2e-dir.js';
import { uniqueServer } from '../helpers/keyring.js';
import { connectThroughProxy, everythingServer, inheritedEnv, runBin, waitFor } from '../helpers/proxy.js';
import { remoteServerEntry, startRemoteFixture } from '../helpers/remote.js';

const dir = useE2eDir('rotation-single', { keyring: true });
/** This file's own state directory: its change stamp and audit log are its alone. */
const env = (): Record<string, string> => ({ ...inheritedEnv(), MCP_KEYPROXY_STATE_DIR: dir.stateDir, MCP_KEYPROXY_HEADLESS: '1' });

async function audit(): Promise<string> {
  return readFile(join(dir.stateDir, 'audit.jsonl'), 'utf8').catch(() => '');
}

async function setSecret(server: string, name: string, value: string, config?: string): Promise<void> {
  const set = await runBin(['secrets', 'set', server, name, ...(config ? ['--config', config] : [])], { input: `${value}\n`, env: env() });
  expect(set.code, set.stderr).toBe(0);
}

/** A config in this file's folder serving server-everything as `server`, API_KEY from the keychain, `value` stored. */
async function everythingWithKey(server: string, value: string): Promise<string> {
  const file = join(dir.path, `${server}.json`);
  await writeFile(file, JSON.stringify({ servers: { [server]: everythingServer({ API_KEY: '${secret:API_KEY}' }, { API_KEY: {} }) } }));
  await setSecret(server, 'API_KEY', value);
  return file;
}

/** Ends a test: closes its client (the proxy stops) and removes what it stored. */
async function closeAndClear(client: Client, server: string, config?: string): Promise<void> {
  await client.close();
  await runBin(['secrets', 'clear', server, '--yes', ...(config ? ['--config', config] : [])], { env: env() });
}

describe('rotation in `run <server>` (one server served alone)', () => {
  it('`secrets set` in another process: the in-flight call finishes, a call made meanwhile reaches the new server, list_changed, the new value only', async () => {
    const server = uniqueServer('rot1');
    const old = `old-${randomBytes(12).toString('hex')}`;
    const fresh = `new-${randomBytes(12).toString('hex')}`;
    const file = await everythingWithKey(server, old);
    let listChanged = 0;
    const { client, proxyPid, stderr } = await connectThroughProxy({
      config: file,
      server,
      env: { ...env(), MCP_KEYPROXY_LOG_LEVEL: 'debug' },
      beforeConnect: (c) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++),
    });
    try {
      expect((await client.callTool({ name: 'get-env', arguments: {} })).isError).toBeFalsy();
      expect((await everythingEnvirons(proxyPid)).join('\n')).toContain(`API_KEY=${old} `);
      const order: string[] = [];
      // A call in flight when the value changes finishes on the old server before it is stopped.
      const inFlight = client
        .callTool({ name: 'trigger-long-running-operation', arguments: { duration: 6, steps: 3 } }, undefined, { timeout: 60_000 })
        .then((result) => {
          order.push('in-flight');
          return result as CallToolResult;
        });

      await setSecret(server, 'API_KEY', fresh);
      // The proxy heard of it and is restarting (names only in its log, never a value).
      expect(await waitFor(() => stderr().includes('changed; restarting it'), 30_000)).toBe(true);
      expect(order).toEqual([]);
      // Sent while the old server drains: held, then answered by the new one, so after the slow call ended.
      const meanwhile = client.callTool({ name: 'get-env', arguments: {} }, undefined, { timeout: 60_000 }).then((result) => {
        order.push('meanwhile');
        return result as CallToolResult;
      });
      const finished = await inFlight;
      expect(finished.isError).toBeFalsy();
      expect(JSON.stringify(finished.content)).toContain('Long running operation completed');
      const held = await meanwhile;
      expect(held.isError).toBeFalsy();
      expect(order).toEqual(['in-flight', 'meanwhile']);

      expect(await waitFor(() => listChanged > 0, 30_000)).toBe(true);
      const environs = await everythingEnvirons(proxyPid);
      expect(environs).toHaveLength(1);
      expect(environs[0]).toContain(`API_KEY=${fresh} `);
      expect(environs[0]).not.toContain(old);
      const result = (await client.callTool({ name: 'get-env', arguments: {} })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      const seen = JSON.stringify([result.content, held.content]);
      expect(seen).toContain(`[REDACTED:${server}/API_KEY]`);
      expect(seen).not.toContain(fresh);
      expect(seen).not.toContain(old);
      // The replayed handshake: the new server serves the same tools.
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('get-env');
      expect(stderr()).not.toContain(fresh);
      expect(stderr()).not.toContain(old);
      expect(await audit()).toMatch(new RegExp(`"secret_rotated".*"server":"${server}","names":\\["API_KEY"\\],"action":"restart"`));
      expect(await audit()).not.toContain(fresh);

      // The same value stored again is read, found equal (its hash), and changes nothing: no restart.
      const unchanged = () => stderr().split('read again: unchanged').length;
      const rotations = () => audit().then((text) => text.split('"secret_rotated"').length);
      const [readsBefore, rotationsBefore] = [unchanged(), await rotations()];
      await setSecret(server, 'API_KEY', fresh);
      expect(await waitFor(() => unchanged() > readsBefore, 30_000)).toBe(true);
      expect(await rotations()).toBe(rotationsBefore);
      expect((await everythingEnvirons(proxyPid))[0]).toContain(`API_KEY=${fresh} `);
    } finally {
      await closeAndClear(client, server);
    }
  }, 120_000);

  it('a call that outlives the drain fails with an error that says the server restarted for new secrets, and the proxy goes on', async () => {
    const server = uniqueServer('rot2');
    const file = await everythingWithKey(server, `one-${randomBytes(12).toString('hex')}`);
    const { client, stderr } = await connectThroughProxy({ config: file, server, env: env() });
    try {
      await client.listTools();
      const slow = client
        .callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 3 } }, undefined, { timeout: 90_000 })
        .then(
          () => 'answered',
          (error: Error) => error.message,
        );
      await setSecret(server, 'API_KEY', `two-${randomBytes(12).toString('hex')}`);
      const outcome = await slow;
      expect(outcome).toContain(`Server "${server}" stopped before answering (restarted because its secrets changed (API_KEY)`);
      expect(outcome).toContain('retry it');
      const after = (await client.callTool({ name: 'echo', arguments: { message: 'still here' } })) as CallToolResult;
      expect(JSON.stringify(after.content)).toContain('still here');
      expect(stderr()).not.toContain('stopping the proxy');
    } finally {
      await closeAndClear(client, server);
    }
  }, 120_000);

  it('`secrets delete` of a required secret stops the server: each call says why and how to fix it; stored again, it comes back', async () => {
    const server = uniqueServer('rotdel');
    const file = await everythingWithKey(server, `first-${randomBytes(12).toString('hex')}`);
    let listChanged = 0;
    const { client, proxyPid, stderr } = await connectThroughProxy({
      config: file,
      server,
      env: env(),
      beforeConnect: (c) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++),
    });
    try {
      await client.listTools();
      const deleted = await runBin(['secrets', 'delete', server, 'API_KEY'], { env: env() });
      expect(deleted.code, deleted.stderr).toBe(0);
      expect(await waitFor(async () => (await everythingEnvirons(proxyPid)).length === 0, 30_000)).toBe(true);
      expect(await waitFor(() => listChanged > 0, 30_000)).toBe(true);
      const refused = await client.callTool({ name: 'echo', arguments: { message: 'hi' } }).then(
        () => 'answered',
        (error: Error) => error.message,
      );
      expect(refused).toContain(`Server "${server}" is stopped`);
      expect(refused).toContain(`mcp-keyproxy secrets set ${server} API_KEY`);
      expect(await audit()).toMatch(new RegExp(`"secret_rotated".*"server":"${server}","names":\\["API_KEY"\\],"action":"restart"`));

      const seen = listChanged;
      const second = `second-${randomBytes(12).toString('hex')}`;
      await setSecret(server, 'API_KEY', second);
      expect(await waitFor(() => listChanged > seen, 30_000)).toBe(true);
      const back = (await client.callTool({ name: 'echo', arguments: { message: 'back' } })) as CallToolResult;
      expect(JSON.stringify(back.content)).toContain('back');
      expect((await everythingEnvirons(proxyPid))[0]).toContain(`API_KEY=${second} `);
      expect(stderr()).not.toContain(second);
    } finally {
      await closeAndClear(client, server);
    }
  }, 120_000);

  it('a remote server gets the new key in its header from the next request on, in the same session', async () => {
    const server = uniqueServer('rotremote');
    const old = `old-${randomBytes(16).toString('hex')}`;
    const fresh = `new-${randomBytes(16).toString('hex')}`;
    const remote = await startRemoteFixture({ token: old, nextToken: fresh });
    const file = join(dir.path, `${server}.json`);
    await writeFile(file, JSON.stringify({ servers: { [server]: remoteServerEntry(`${remote.origin}/mcp`) } }));
    await setSecret(server, 'api_key', old, file);
    const { client, stderr } = await connectThroughProxy({ config: file, server, env: env() });
    try {
      const echo = async (message: string) =>
        JSON.stringify(((await client.callTool({ name: 'echo', arguments: { message } })) as CallToolResult).content);
      expect(await echo('before')).toContain('echo: before');
      const posts = () => remote.events.filter((event) => event.event === 'request' && event.method === 'POST');
      const session = posts().at(-1)?.sessionId;
      expect(session).toBeTruthy();
      expect(posts().at(-1)?.auth).toBe('ok');

      await setSecret(server, 'api_key', fresh, file);
      expect(
        await waitFor(async () => (await audit()).includes(`"server":"${server}","names":["api_key"],"action":"header"`), 30_000),
      ).toBe(true);
      expect(await echo('after')).toContain('echo: after');
      const last = posts().at(-1)!;
      expect(last.rpc).toEqual(['tools/call']);
      expect(last.auth).toBe('next');
      // No reconnect: the same session, one initialize in all.
      expect(last.sessionId).toBe(session);
      expect(posts().filter((event) => event.rpc?.includes('initialize'))).toHaveLength(1);
      expect(stderr()).not.toContain(fresh);
    } finally {
      await closeAndClear(client, server, file);
      await remote.stop();
    }
  }, 120_000);
});
