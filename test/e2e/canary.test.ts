import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession } from '../helpers/keyring.js';
import { connectThroughProxy, descendantsOf, procText, repoRoot, runBin, writeConfig } from '../helpers/proxy.js';
import { remoteServerEntry, startRemoteFixture, storeSecret, type HttpServerProcess } from '../helpers/remote.js';

/** Every form in which a value could leak: raw, base64, base64url, percent-encoded, JSON-escaped. */
function leakForms(value: string): string[] {
  return [
    value,
    Buffer.from(value).toString('base64').replace(/=+$/, ''),
    Buffer.from(value).toString('base64url'),
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
  ];
}

function expectNoCanary(where: string, text: string, canaries: readonly string[]): void {
  for (const canary of canaries) {
    for (const form of leakForms(canary)) {
      if (text.includes(form)) throw new Error(`a canary secret leaked into ${where}`);
    }
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) found.push(join(entry.parentPath, entry.name));
  }
  return found;
}

const suffix = randomBytes(3).toString('hex');
// Quotes and a backslash make the JSON-escaped form differ from the raw one.
const leakyCanary = `canary-leaky-${randomBytes(12).toString('hex')}-"q"\\`;
const otherCanary = `canary-other-${randomBytes(12).toString('hex')}`;
const remoteCanary = `canary-remote-${randomBytes(12).toString('hex')}`;
const canaries = [leakyCanary, otherCanary, remoteCanary];
const leaky = `e2e-leaky-${suffix}`;
const other = `e2e-other-${suffix}`;
const remote = `e2e-remote-${suffix}`;
let stateDir: string;
let config: string;
let remoteServer: HttpServerProcess;

beforeAll(async () => {
  requireKeyringSession();
  stateDir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-canary-state-'));
  remoteServer = await startRemoteFixture({ token: remoteCanary });
  const fixture = join(repoRoot, 'test/fixtures/leaky-server.mjs');
  config = await writeConfig({
    [leaky]: { command: process.execPath, args: [fixture], env: { LEAKY_KEY: '${secret:KEY}' }, secrets: { KEY: {} }, confirm: false },
    [other]: {
      command: process.execPath,
      args: [fixture],
      env: { LEAKY_KEY: '${secret:KEY}' },
      secrets: { KEY: {} },
      confirm: false,
      block_secret_patterns: true,
    },
    [remote]: remoteServerEntry(`${remoteServer.origin}/mcp`),
  });
  const env = { MCP_KEYPROXY_STATE_DIR: stateDir };
  for (const [server, name, value] of [[leaky, 'KEY', leakyCanary], [other, 'KEY', otherCanary]] as const) {
    const set = await runBin(['secrets', 'set', server, name, '--config', config], { input: value, env: { ...process.env, ...env } });
    expect(set.code).toBe(0);
  }
  await storeSecret(config, remote, 'api_key', remoteCanary);
});

afterAll(async () => {
  await remoteServer?.stop();
  for (const server of [leaky, other, remote]) await runBin(['secrets', 'clear', server, '--yes']);
});

describe('canary: no secret value leaves the proxy', () => {
  it('never reaches the client, the logs, the audit log, any argv or any file; only the child environment', async () => {
    const env = { MCP_KEYPROXY_STATE_DIR: stateDir };
    const wire: JSONRPCMessage[] = [];
    const leakyProxy = await connectThroughProxy({ config, server: leaky, env, extraArgs: ['--log-level', 'trace'] });
    const otherProxy = await connectThroughProxy({ config, server: other, env, extraArgs: ['--log-level', 'trace'] });
    const remoteProxy = await connectThroughProxy({ config, server: remote, env, extraArgs: ['--log-level', 'trace'] });
    try {
      for (const { transport } of [leakyProxy, otherProxy, remoteProxy]) {
        const deliver = transport.onmessage;
        transport.onmessage = (message) => {
          wire.push(message);
          deliver?.(message);
        };
      }
      await leakyProxy.client.setLoggingLevel('debug');
      const logs: unknown[] = [];
      leakyProxy.client.fallbackNotificationHandler = async (notification) => void logs.push(notification);
      const leaked = await leakyProxy.client.callTool({ name: 'leak', arguments: {} }, undefined, { onprogress: () => undefined });
      expect(JSON.stringify(leaked)).toContain(`[REDACTED:${leaky}/KEY]`);
      const failed = await leakyProxy.client.callTool({ name: 'leak-error', arguments: {} });
      expect(failed.isError).toBe(true);
      await otherProxy.client.callTool({ name: 'leak', arguments: {} });
      const foreign = JSON.stringify(await otherProxy.client.callTool({ name: 'foreign', arguments: {} }));
      expect(foreign).toContain('[REDACTED:pattern/aws-access-key-id]');
      expect(foreign).not.toMatch(/AKIA[A-Z2-7]{16}/);
      // Without the guard the same foreign credential passes: it is not a secret the proxy injected.
      expect(JSON.stringify(await leakyProxy.client.callTool({ name: 'foreign', arguments: {} }))).toMatch(/AKIA[A-Z2-7]{16}/);
      expect(JSON.stringify(await remoteProxy.client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toContain('echo: hi');

      // Something did arrive on each channel, so the absence of the canary below means something.
      const wireText = JSON.stringify(wire);
      expect(wireText).toContain('notifications/progress');
      expect(wireText).toContain('notifications/message');
      expectNoCanary('messages to the client', wireText, canaries);

      const [leakyChild] = await descendantsOf(leakyProxy.proxyPid);
      const [otherChild] = await descendantsOf(otherProxy.proxyPid);
      expect(await procText(leakyChild!, 'environ')).toContain(`LEAKY_KEY=${leakyCanary}`);
      // Server isolation: a child holds its own secret and no other server's.
      expectNoCanary('the other server child environment', await procText(otherChild!, 'environ'), [leakyCanary, remoteCanary]);
      expectNoCanary('the leaky child environment', await procText(leakyChild!, 'environ'), [otherCanary, remoteCanary]);

      for (const proxy of [leakyProxy, otherProxy, remoteProxy]) {
        for (const pid of [proxy.proxyPid, ...(await descendantsOf(proxy.proxyPid))]) {
          expectNoCanary(`the argv of process ${pid}`, await procText(pid, 'cmdline'), canaries);
        }
      }
    } finally {
      for (const proxy of [leakyProxy, otherProxy, remoteProxy]) await proxy.client.close();
    }
    const stderr = [leakyProxy, otherProxy, remoteProxy].map((proxy) => proxy.stderr()).join('\n');
    expect(stderr).toContain('server stderr');
    expectNoCanary("the proxies' stderr", stderr, canaries);
    for (const file of [...(await filesUnder(stateDir)), ...(await filesUnder(dirname(config)))]) {
      expectNoCanary(file, await readFile(file, 'utf8'), canaries);
    }
    const events = (await readFile(join(stateDir, 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; server?: string; name?: string; names?: string[]; where?: string });
    const seen = (event: string, server: string) => events.filter((entry) => entry.event === event && entry.server === server);
    expect(seen('secret_stored', leaky)).toHaveLength(1);
    expect(seen('secret_read', leaky)[0]?.names).toEqual(['KEY']);
    expect(seen('injection', leaky)[0]).toMatchObject({ names: ['KEY'], target: 'env' });
    expect(seen('consent', leaky)[0]).toMatchObject({ decision: 'bypassed' });
    expect(seen('injection', remote)[0]).toMatchObject({ names: ['api_key'], target: 'header' });
    expect(seen('scrub_hit', leaky).map((entry) => entry.where)).toEqual(expect.arrayContaining(['result', 'notification']));
    expect(seen('pattern_hit', other)[0]).toMatchObject({ pattern: 'aws-access-key-id', where: 'result' });
  });
});
