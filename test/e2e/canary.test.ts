import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { expectNoCanary } from '../helpers/canary.js';
import { AtspiDriver, buildDialog, requireDisplay } from '../helpers/display.js';
import { requireKeyringSession } from '../helpers/keyring.js';
import { connectThroughProxy, descendantsOf, dialogOf, procText, repoRoot, runBin, waitFor, writeConfig } from '../helpers/proxy.js';
import { remoteServerEntry, startRemoteFixture, storeSecret, type HttpServerProcess } from '../helpers/remote.js';

/** Every message the client receives on these transports, as they arrive. */
function captureWire(transports: Transport[]): JSONRPCMessage[] {
  const wire: JSONRPCMessage[] = [];
  for (const transport of transports) {
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      wire.push(message);
      deliver?.(message, extra);
    };
  }
  return wire;
}

async function expectNoCanaryInArgv(proxyPids: readonly number[], canaries: readonly string[]): Promise<void> {
  for (const proxyPid of proxyPids) {
    for (const pid of [proxyPid, ...(await descendantsOf(proxyPid))]) {
      expectNoCanary(`the argv of process ${pid}`, await procText(pid, 'cmdline'), canaries);
    }
  }
}

async function expectNoCanaryInFiles(dirs: readonly string[], canaries: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    for (const file of await filesUnder(dir)) expectNoCanary(file, await readFile(file, 'utf8'), canaries);
  }
}

interface AuditEntry {
  event: string;
  server?: string;
  name?: string;
  names?: string[];
  where?: string;
}

async function auditEvents(stateDir: string): Promise<AuditEntry[]> {
  const lines = (await readFile(join(stateDir, 'audit.jsonl'), 'utf8')).trim().split('\n');
  return lines.map((line) => JSON.parse(line) as AuditEntry);
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
// Typed into the native dialog, so plain characters.
const dialogCanary = `canary-dialog-${randomBytes(12).toString('hex')}`;
const canaries = [leakyCanary, otherCanary, remoteCanary, dialogCanary];
const leaky = `e2e-leaky-${suffix}`;
const other = `e2e-other-${suffix}`;
const remote = `e2e-remote-${suffix}`;
/** A leaky server whose key is not stored: it is entered in the dialog. */
const dialogged = `e2e-dialogged-${suffix}`;
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
    [dialogged]: {
      command: process.execPath,
      args: [fixture],
      env: { LEAKY_KEY: '${secret:KEY}' },
      secrets: { KEY: { label: 'Leaky key' } },
      confirm: false,
    },
  });
  const env = { MCP_KEYPROXY_STATE_DIR: stateDir };
  for (const [server, name, value] of [
    [leaky, 'KEY', leakyCanary],
    [other, 'KEY', otherCanary],
  ] as const) {
    const set = await runBin(['secrets', 'set', server, name, '--config', config], { input: value, env: { ...process.env, ...env } });
    expect(set.code).toBe(0);
  }
  await storeSecret(config, remote, 'api_key', remoteCanary);
});

afterAll(async () => {
  await remoteServer?.stop();
  for (const server of [leaky, other, remote, dialogged]) await runBin(['secrets', 'clear', server, '--yes']);
});

describe('canary: no secret value leaves the proxy', () => {
  it('never reaches the client, the logs, the audit log, any argv or any file; only the child environment', async () => {
    const env = { MCP_KEYPROXY_STATE_DIR: stateDir };
    const leakyProxy = await connectThroughProxy({ config, server: leaky, env, extraArgs: ['--log-level', 'trace'] });
    const otherProxy = await connectThroughProxy({ config, server: other, env, extraArgs: ['--log-level', 'trace'] });
    const remoteProxy = await connectThroughProxy({ config, server: remote, env, extraArgs: ['--log-level', 'trace'] });
    const wire = captureWire([leakyProxy, otherProxy, remoteProxy].map((proxy) => proxy.transport));
    try {
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

      await expectNoCanaryInArgv(
        [leakyProxy, otherProxy, remoteProxy].map((proxy) => proxy.proxyPid),
        canaries,
      );
    } finally {
      for (const proxy of [leakyProxy, otherProxy, remoteProxy]) await proxy.client.close();
    }
    const stderr = [leakyProxy, otherProxy, remoteProxy].map((proxy) => proxy.stderr()).join('\n');
    expect(stderr).toContain('server stderr');
    expectNoCanary("the proxies' stderr", stderr, canaries);
    await expectNoCanaryInFiles([stateDir, dirname(config)], canaries);
    const events = await auditEvents(stateDir);
    const seen = (event: string, server: string) => events.filter((entry) => entry.event === event && entry.server === server);
    expect(seen('secret_stored', leaky)).toHaveLength(1);
    expect(seen('secret_read', leaky)[0]?.names).toEqual(['KEY']);
    expect(seen('injection', leaky)[0]).toMatchObject({ names: ['KEY'], target: 'env' });
    expect(seen('consent', leaky)[0]).toMatchObject({ decision: 'bypassed' });
    expect(seen('injection', remote)[0]).toMatchObject({ names: ['api_key'], target: 'header' });
    expect(seen('scrub_hit', leaky).map((entry) => entry.where)).toEqual(expect.arrayContaining(['result', 'notification']));
    expect(seen('pattern_hit', other)[0]).toMatchObject({ pattern: 'aws-access-key-id', where: 'result' });
  });

  it('nor does a value typed into the native dialog, nor anything of the servers behind the aggregate', async () => {
    requireDisplay();
    await buildDialog();
    const driver = await AtspiDriver.start();
    const runtimeDir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-canary-runtime-'));
    const env = { MCP_KEYPROXY_STATE_DIR: stateDir, MCP_KEYPROXY_RUNTIME_DIR: runtimeDir };
    // No server name: the aggregate of these three, one of which waits for its key.
    const proxy = await connectThroughProxy({
      config,
      env,
      extraArgs: ['--only', `${leaky},${remote},${dialogged}`, '--log-level', 'trace'],
    });
    const wire = captureWire([proxy.transport]);
    const { client } = proxy;
    try {
      await client.callTool({ name: `connect_${dialogged}`, arguments: {} });
      await driver.run({ pid: await dialogOf(proxy.proxyPid) }, [
        { op: 'set', name: 'Leaky key', text: dialogCanary },
        { op: 'press', name: 'OK' },
      ]);
      const joined = async () => (await client.listTools()).tools.some((tool) => tool.name === `${dialogged}__leak`);
      expect(await waitFor(joined, 15_000)).toBe(true);
      for (const server of [leaky, dialogged]) {
        const leaked = await client.callTool({ name: `${server}__leak`, arguments: {} }, undefined, { onprogress: () => undefined });
        expect(JSON.stringify(leaked)).toContain(`[REDACTED:${server}/KEY]`);
        expect((await client.callTool({ name: `${server}__leak-error`, arguments: {} })).isError).toBe(true);
      }
      expect(JSON.stringify(await client.callTool({ name: `${remote}__echo`, arguments: { message: 'hi' } }))).toContain('echo: hi');

      const wireText = JSON.stringify(wire);
      expect(wireText).toContain('notifications/progress');
      expectNoCanary('messages to the aggregate client', wireText, canaries);
      const children = await descendantsOf(proxy.proxyPid);
      const environs = await Promise.all(children.map((pid) => procText(pid, 'environ')));
      expect(environs.filter((environ) => environ.includes(`LEAKY_KEY=${dialogCanary}`))).toHaveLength(1);
      expect(environs.filter((environ) => environ.includes(`LEAKY_KEY=${leakyCanary}`))).toHaveLength(1);
      await expectNoCanaryInArgv([proxy.proxyPid], canaries);
    } finally {
      await client.close();
      driver.close();
    }
    expect(proxy.stderr()).toContain('server stderr');
    expectNoCanary("the aggregate proxy's stderr", proxy.stderr(), canaries);
    await expectNoCanaryInFiles([stateDir, dirname(config), runtimeDir], canaries);
    const dialogEvents = (await auditEvents(stateDir)).filter((entry) => entry.server === dialogged).map((entry) => entry.event);
    expect(dialogEvents).toEqual(expect.arrayContaining(['dialog_shown', 'dialog_submitted', 'secret_stored', 'injection']));
  });
});
