import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { everythingEnvirons, opFixtureDir, useE2eDir } from '../helpers/e2e-dir.js';
import { secretToolAccounts, uniqueServer } from '../helpers/keyring.js';
import { KeyringStore } from '../../src/secrets/keyring-store.js';
import { CACHE_ITEM_ACCOUNT, cacheService } from '../../src/secrets/store.js';
import { SourceCache } from '../../src/sources/source-cache.js';
import { connectThroughProxy, everythingServer, inheritedEnv, isAlive, runBin, waitFor } from '../helpers/proxy.js';

/** The keychain cache as the proxy keeps it (default profile), to look at and to plant entries kept the old way. */
const cacheStore = new KeyringStore({ service: (server) => cacheService(server) });

/** This file's own folder and state directory (audit log, change stamp), so it runs beside any other. */
const dir = useE2eDir('vault-cache', { keyring: true });

/** A config with `servers` and a top-level "cache", in this file's folder. */
async function config(name: string, servers: Record<string, unknown>, cache?: Record<string, string>): Promise<string> {
  const file = join(dir.path, `${name}.json`);
  await writeFile(file, JSON.stringify({ servers, ...(cache ? { cache } : {}) }, null, 2));
  return file;
}

/** The environment of a headless agent machine: fixture op on PATH, no token in the environment, no display. */
function agentEnv(extra: Record<string, string>): Record<string, string> {
  const env = inheritedEnv();
  for (const name of ['DISPLAY', 'WAYLAND_DISPLAY', 'OP_SERVICE_ACCOUNT_TOKEN']) delete env[name];
  return { ...env, PATH: `${opFixtureDir}:${env.PATH ?? ''}`, MCP_KEYPROXY_STATE_DIR: dir.stateDir, MCP_KEYPROXY_HEADLESS: '1', ...extra };
}

async function opCalls(log: string): Promise<number> {
  return (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
}

async function childEnviron(proxyPid: number): Promise<string> {
  return (await everythingEnvirons(proxyPid))[0] ?? '';
}

interface StatusRow {
  name: string;
  stale: boolean;
  fetchedAt: string | null;
  lastError: string | null;
}

async function status(file: string, server: string, env: Record<string, string>): Promise<StatusRow[]> {
  const shown = await runBin(['secrets', 'status', server, '--json', '--config', file], { env });
  expect(shown.code).toBe(0);
  return JSON.parse(shown.stdout) as StatusRow[];
}

describe('a headless agent with 1Password behind the keychain cache', () => {
  it('warm cache: serves with op down and no program run; expired: stale warning and service; "stale": "fail": a clear error', async () => {
    const server = uniqueServer('agent');
    const token = `ops_${randomBytes(16).toString('hex')}`;
    const value = `deploy-${randomBytes(12).toString('hex')}`;
    const ref = `op://Agents/${server}/token`;
    const log = join(dir.path, 'op-calls.log');
    const vault = { OP_FIXTURE_TOKEN: token, OP_FIXTURE_ITEMS: JSON.stringify({ [ref]: value }), OP_FIXTURE_LOG: log };
    const entry = everythingServer({}, { DEPLOY_TOKEN: ref });
    const warm = await config('warm', { [server]: entry }, { ttl: '1h', stale: 'warn' });

    // The service-account token lives in the keychain, never in the agent's environment or config.
    const set = await runBin(['secrets', 'set', 'op-service-account', 'OP_SERVICE_ACCOUNT_TOKEN', '--new-server'], {
      input: `${token}\n`,
      env: agentEnv({}),
    });
    expect(set.code).toBe(0);
    try {
      const refreshed = await runBin(['secrets', 'refresh', server, '--config', warm], { env: agentEnv(vault) });
      expect(refreshed.code).toBe(0);
      expect(refreshed.stdout).toContain(`${server}  DEPLOY_TOKEN  ${ref}  refreshed`);
      expect(`${refreshed.stdout}${refreshed.stderr}`).not.toContain(value);
      expect(await opCalls(log)).toBe(1);
      // Cached in the keychain under its own service, beside (not among) the server's secrets: one item per server.
      expect(await secretToolAccounts(server, `mcp-keyproxy-cache/${server}`)).toEqual([CACHE_ITEM_ACCOUNT]);
      expect([...(await new SourceCache(cacheStore).entries(server)).keys()]).toEqual(['DEPLOY_TOKEN']);
      expect(await secretToolAccounts(server)).toEqual([]);
      const [row] = await status(warm, server, agentEnv({}));
      expect(row).toMatchObject({ name: 'DEPLOY_TOKEN', stale: false, lastError: null });
      expect(row!.fetchedAt).not.toBeNull();

      // Warm: 1Password is down, yet the aggregate serves at once from the cache and runs no op at all.
      const down = agentEnv({ ...vault, OP_FIXTURE_MODE: 'down' });
      const fresh = await connectThroughProxy({ config: warm, env: down });
      try {
        const seen = JSON.stringify((await fresh.client.callTool({ name: `${server}__get-env`, arguments: {} })).content);
        expect(seen).toContain(`[REDACTED:${server}/DEPLOY_TOKEN]`);
        expect(seen).not.toContain(value);
        expect(await childEnviron(fresh.proxyPid)).toContain(`DEPLOY_TOKEN=${value} `);
        expect(await opCalls(log)).toBe(1);
      } finally {
        await fresh.client.close();
      }

      // Expired (a 1 s ttl) and 1Password down: "warn" serves the cached value, says so on stderr and in keyproxy__status.
      const short = await config('short', { [server]: entry }, { ttl: '1s', stale: 'warn' });
      expect(await waitFor(async () => (await status(short, server, agentEnv({})))[0]?.stale === true, 10_000)).toBe(true);
      const stale = await connectThroughProxy({ config: short, env: down });
      try {
        // A call to the server waits for it to be up.
        expect(JSON.stringify((await stale.client.callTool({ name: `${server}__get-env`, arguments: {} })).content)).not.toContain(value);
        const result = (await stale.client.callTool({ name: 'keyproxy__status', arguments: {} })) as CallToolResult;
        const text = JSON.stringify(result.content);
        expect(text).toContain(`${server} (local): ready`);
        expect(text).toContain('warning: using expired cached DEPLOY_TOKEN');
        expect(text).toContain('could not be reached');
        expect(await childEnviron(stale.proxyPid)).toContain(`DEPLOY_TOKEN=${value} `);
        expect(stale.stderr()).toContain('the expired cached value');
        expect(stale.stderr()).not.toContain(value);
        expect(stale.stderr()).not.toContain(token);
      } finally {
        await stale.client.close();
      }
      const audit = await readFile(join(dir.stateDir, 'audit.jsonl'), 'utf8');
      expect(audit).toContain(`"event":"secret_stale","pid"`);
      expect(audit).toMatch(new RegExp(`"secret_stale".*"server":"${server}","names":\\["DEPLOY_TOKEN"\\],"policy":"warn"`));
      expect(audit).toMatch(new RegExp(`"secret_read".*"server":"${server}","names":\\["DEPLOY_TOKEN"\\],"source":"cache"`));
      expect(audit).not.toContain(value);
      // The failed read is kept for `secrets status`, without the value.
      const [after] = await status(short, server, agentEnv({}));
      expect(after!.lastError).toContain('could not be reached');

      // "stale": "fail": a clear error naming the reference and the policy, and nothing on stdout.
      const strict = await config('strict', { [server]: entry }, { ttl: '1s', stale: 'fail' });
      const failed = await runBin(['run', server, '--config', strict], { env: down });
      expect(failed.code).toBe(78);
      expect(failed.stdout).toBe('');
      expect(failed.stderr).toContain(ref);
      expect(failed.stderr).toContain('"stale": "fail"');
      expect(failed.stderr).not.toContain(value);

      // `secrets refresh` with 1Password down exits non-zero naming what failed, and keeps the cached value.
      const refusedRefresh = await runBin(['secrets', 'refresh', '--config', strict], { env: down });
      expect(refusedRefresh.code).toBe(78);
      expect(refusedRefresh.stderr).toContain(`Secret DEPLOY_TOKEN of server "${server}" comes from ${ref}`);
      expect((await status(strict, server, agentEnv({})))[0]!.fetchedAt).toBe(row!.fetchedAt);

      // No cache at all and 1Password down: the error says what to fix.
      const clear = await runBin(['secrets', 'clear', server, '--yes'], { env: agentEnv({}) });
      expect(clear.code).toBe(0);
      expect(clear.stdout).toContain('Deleted the cached values of DEPLOY_TOKEN.');
      expect(await secretToolAccounts(server, `mcp-keyproxy-cache/${server}`)).toEqual([]);
      const cold = await runBin(['run', server, '--config', warm], { env: down });
      expect(cold.code).toBe(78);
      expect(cold.stdout).toBe('');
      expect(cold.stderr).toContain('Nothing is cached for it yet');
    } finally {
      await runBin(['secrets', 'clear', 'op-service-account', '--yes'], { env: agentEnv({}) });
      await runBin(['secrets', 'clear', server, '--yes'], { env: agentEnv({}) });
    }
  }, 120_000);

  it('a start caches what it read even when the client leaves before the servers are up: the next start runs no op', async () => {
    const server = uniqueServer('leave');
    const ref = `op://Agents/${server}/token`;
    const value = `v-${randomBytes(12).toString('hex')}`;
    const log = join(dir.path, 'op-leave.log');
    const vault = { OP_SERVICE_ACCOUNT_TOKEN: 'ops_fixture', OP_FIXTURE_ITEMS: JSON.stringify({ [ref]: value }), OP_FIXTURE_LOG: log };
    const file = await config('leave', { [server]: everythingServer({}, { DEPLOY_TOKEN: ref }) }, { ttl: '1h', stale: 'warn' });
    try {
      // The aggregate answers initialize itself once the values are read; its cache write waits for the servers to be
      // up, and the client is gone before then: the proxy writes it as it stops.
      const proxy = await connectThroughProxy({ config: file, env: agentEnv(vault) });
      await proxy.client.close();
      expect(await waitFor(async () => !(await isAlive(proxy.proxyPid)), 15_000)).toBe(true);
      expect(await opCalls(log)).toBe(1);
      expect([...(await new SourceCache(cacheStore).entries(server)).keys()]).toEqual(['DEPLOY_TOKEN']);

      const down = await connectThroughProxy({ config: file, env: agentEnv({ ...vault, OP_FIXTURE_MODE: 'down' }) });
      try {
        expect(JSON.stringify((await down.client.callTool({ name: `${server}__get-env`, arguments: {} })).content)).toContain(
          `[REDACTED:${server}/DEPLOY_TOKEN]`,
        );
        expect(await opCalls(log)).toBe(1);
      } finally {
        await down.client.close();
      }
    } finally {
      await runBin(['secrets', 'clear', server, '--yes'], { env: agentEnv({}) });
    }
  }, 60_000);

  it("an aggregate start reads each server's op:// references with one op inject, secrets refresh too; a bad one is named alone", async () => {
    const [one, two] = [uniqueServer('inj'), uniqueServer('inj')];
    const refs = (server: string) =>
      ['API_KEY', 'DB_PASSWORD', 'MAIL_TOKEN'].map((name) => [name, `op://Agents/${server}/${name}`] as const);
    const values = new Map([...refs(one!), ...refs(two!)].map(([, ref]) => [ref, `v-${randomBytes(10).toString('hex')}\n"{x}"`]));
    const log = join(dir.path, 'op-inject.log');
    const vault = {
      OP_SERVICE_ACCOUNT_TOKEN: 'ops_fixture',
      OP_FIXTURE_ITEMS: JSON.stringify(Object.fromEntries(values)),
      OP_FIXTURE_LOG: log,
    };
    const entry = (server: string) => everythingServer({}, Object.fromEntries(refs(server)));
    const file = await config('inject', { [one!]: entry(one!), [two!]: entry(two!) }, { ttl: '1h', stale: 'warn' });
    try {
      const proxy = await connectThroughProxy({ config: file, env: agentEnv(vault) });
      try {
        for (const server of [one!, two!]) {
          const seen = JSON.stringify((await proxy.client.callTool({ name: `${server}__get-env`, arguments: {} })).content);
          expect(seen).toContain(`[REDACTED:${server}/API_KEY]`);
        }
        const environs = (await everythingEnvirons(proxy.proxyPid)).join(' ');
        for (const [ref, value] of values) expect(environs).toContain(`${ref.split('/').at(-1)}=${value} `);
      } finally {
        await proxy.client.close();
      }
      // One process per server, the template on its stdin: no reference and no value on argv.
      expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual(['["inject"]', '["inject"]']);

      const refreshed = await runBin(['secrets', 'refresh', '--config', file], { env: agentEnv(vault) });
      expect(refreshed.code).toBe(0);
      expect(refreshed.stdout.match(/refreshed/g)).toHaveLength(6);
      expect(await opCalls(log)).toBe(4);
      expect(await readFile(log, 'utf8')).not.toMatch(/op:\/\/|v-[0-9a-f]{20}/);

      // A reference 1Password does not know: the inject fails, each is read alone, and only that one is an error.
      const broken = await config('inject-broken', {
        [one!]: { ...entry(one!), secrets: { ...Object.fromEntries(refs(one!)), GONE: `op://Agents/${one!}/GONE` }, cache: { ttl: '0' } },
      });
      const failed = await runBin(['run', one!, '--config', broken], { env: agentEnv(vault) });
      expect(failed.code).toBe(78);
      expect(failed.stdout).toBe('');
      expect(failed.stderr).toContain(
        `Secret GONE of server "${one!}" comes from op://Agents/${one!}/GONE: 1Password has no such item or field`,
      );
      expect(failed.stderr).not.toContain('Secret API_KEY');
      for (const value of values.values()) expect(failed.stderr).not.toContain(value.slice(0, 22));
    } finally {
      for (const server of [one!, two!]) await runBin(['secrets', 'clear', server, '--yes'], { env: agentEnv({}) });
    }
  }, 120_000);

  it('a cache kept the old way (one item per secret) is still read, then moved into one item by the first write', async () => {
    const server = uniqueServer('upgrade');
    const [ref, oldRef] = [`op://Agents/${server}/token`, `op://Agents/${server}/old`];
    const value = `new-${randomBytes(12).toString('hex')}`;
    const file = await config(
      'upgrade',
      { [server]: everythingServer({}, { DEPLOY_TOKEN: ref, OTHER: oldRef }) },
      { ttl: '1h', stale: 'warn' },
    );
    const readAt = Date.now() - 2 * 3_600_000;
    // As an older mcp-keyproxy left it: one item per secret, account = the secret name.
    for (const [name, source] of [
      ['DEPLOY_TOKEN', ref],
      ['OTHER', oldRef],
    ] as const) {
      await cacheStore.set(server, name, JSON.stringify({ source, value: `old-${name}-value`, fetchedAt: readAt }));
    }
    try {
      const before = await status(file, server, agentEnv({}));
      expect(before.map((row) => [row.name, row.fetchedAt, row.stale])).toEqual([
        ['DEPLOY_TOKEN', new Date(readAt).toISOString(), true],
        ['OTHER', new Date(readAt).toISOString(), true],
      ]);
      // OTHER's source is down (1Password has no such item): its old value must survive the move.
      const vault = { OP_SERVICE_ACCOUNT_TOKEN: 'ops_fixture', OP_FIXTURE_ITEMS: JSON.stringify({ [ref]: value }) };
      const refreshed = await runBin(['secrets', 'refresh', server, '--config', file], { env: agentEnv(vault) });
      expect(refreshed.code).toBe(78);
      expect(refreshed.stdout).toContain(`${server}  DEPLOY_TOKEN  ${ref}  refreshed`);
      expect(`${refreshed.stdout}${refreshed.stderr}`).not.toContain(value);
      expect(await secretToolAccounts(server, `mcp-keyproxy-cache/${server}`)).toEqual([CACHE_ITEM_ACCOUNT]);
      const entries = await new SourceCache(cacheStore).entries(server);
      expect(entries.get('DEPLOY_TOKEN')).toMatchObject({ source: ref, value });
      expect(entries.get('OTHER')).toMatchObject({ source: oldRef, value: 'old-OTHER-value', fetchedAt: readAt });
      const after = await status(file, server, agentEnv({}));
      expect(after.map((row) => [row.name, row.stale])).toEqual([
        ['DEPLOY_TOKEN', false],
        ['OTHER', true],
      ]);
      expect(after[1]!.lastError).toContain(oldRef);
    } finally {
      await runBin(['secrets', 'clear', server, '--yes'], { env: agentEnv({}) });
    }
    expect(await secretToolAccounts(server, `mcp-keyproxy-cache/${server}`)).toEqual([]);
  }, 60_000);

  it('SECRETS_STORAGE_CLEAR=true deletes the stored secrets of the servers served (audited), then runs as if never stored', async () => {
    const server = uniqueServer('wipe');
    const file = await config('wipe', { [server]: everythingServer({ API_KEY: '${secret:API_KEY}' }, { API_KEY: {} }) });
    const env = agentEnv({});
    expect(await runBin(['secrets', 'set', server, 'API_KEY'], { input: 'wipe-me-1234567890\n', env })).toMatchObject({ code: 0 });
    expect(await secretToolAccounts(server)).toEqual(['API_KEY']);
    const run = await runBin(['run', server, '--config', file], { env: { ...env, SECRETS_STORAGE_CLEAR: 'true' } });
    expect(run.code).toBe(78);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`mcp-keyproxy secrets set ${server} API_KEY`);
    expect(await secretToolAccounts(server)).toEqual([]);
    const audit = await readFile(join(dir.stateDir, 'audit.jsonl'), 'utf8');
    expect(audit).toMatch(new RegExp(`"secret_deleted".*"server":"${server}","name":"API_KEY","via":"storage-clear"`));
  }, 60_000);
});
