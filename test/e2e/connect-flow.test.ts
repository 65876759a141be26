import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema, ToolListChangedNotificationSchema, type ElicitRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtspiDriver, buildDialog, requireDisplay, type WindowDump } from '../helpers/display.js';
import { requireKeyringSession, secretToolSearch } from '../helpers/keyring.js';
import {
  connectThroughProxy,
  descendantsOf,
  dialogOf,
  everythingServer,
  isAlive,
  procText,
  repoRoot,
  runBin,
  waitFor,
  writeConfig,
} from '../helpers/proxy.js';

const CODE = /\b[2-9A-Z]{4}-[2-9A-Z]{4}\b/;
const suffix = randomBytes(3).toString('hex');
const runtimeDir = join(repoRoot, 'test-artifacts', `runtime-${suffix}`);
let driver: AtspiDriver;
/** Milliseconds from the setup tool call to the dialog being visible and accessible. */
const callToVisibleMs: number[] = [];

beforeAll(async () => {
  requireKeyringSession();
  requireDisplay();
  await buildDialog();
  driver = await AtspiDriver.start();
});

afterAll(async () => {
  driver?.close();
  await mkdir(join(repoRoot, 'test-artifacts'), { recursive: true });
  await writeFile(join(repoRoot, 'test-artifacts', 'connect-timings.json'), JSON.stringify({ callToVisibleMs }, null, 2));
});

/** Waits for the dialog of `proxyPid` to be visible; records the time since `calledAt`. */
async function visibleDialog(proxyPid: number, calledAt: number): Promise<{ pid: number; dump: WindowDump }> {
  const pid = await dialogOf(proxyPid);
  const dump = await driver.dump({ pid });
  callToVisibleMs.push(Date.now() - calledAt);
  return { pid, dump };
}

/** A config with one server-everything that needs API_TOKEN; `confirm` as given. */
async function setupServer(name: string, extra: Record<string, unknown> = {}, command?: { command: string; args: string[] }) {
  const entry = {
    ...everythingServer({ API_TOKEN: '${secret:API_TOKEN}' }, { API_TOKEN: { label: 'API token', help_text: 'From the dashboard' } }),
    confirm: true,
    ...command,
    ...extra,
  };
  return writeConfig({ [name]: entry });
}

function codeShown(dump: WindowDump): string | undefined {
  return dump.labels
    .map((label) => label.text ?? '')
    .find((textValue) => CODE.test(textValue))
    ?.match(CODE)?.[0];
}

function listChangedCounter(client: Client): () => number {
  let count = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void count++);
  return () => count;
}

const stateDir = join(repoRoot, 'test-artifacts', `state-${suffix}`);
const env = { MCP_KEYPROXY_RUNTIME_DIR: runtimeDir, MCP_KEYPROXY_STATE_DIR: stateDir };

/** The audit events written so far for `server`, as event names (with the consent decision). */
async function auditedEvents(server: string): Promise<string[]> {
  const lines = (await readFile(join(stateDir, 'audit.jsonl'), 'utf8')).trim().split('\n');
  return lines
    .map((line) => JSON.parse(line) as { event: string; server?: string; decision?: string })
    .filter((entry) => entry.server === server)
    .map((entry) => (entry.decision ? `${entry.event}:${entry.decision}` : entry.event));
}
const textOf = (result: unknown): string => JSON.stringify((result as { content: unknown }).content);

describe('missing credentials', () => {
  it('with elicitation: the code in the client equals the code in the dialog; the key is stored and the tools appear', async () => {
    const server = `e2e-elicit-${suffix}`;
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const config = await setupServer(server);
    const messages: string[] = [];
    const { client, proxyPid } = await connectThroughProxy({ config, server, env, capabilities: { elicitation: { form: {} } } });
    try {
      const changed = listChangedCounter(client);
      client.setRequestHandler(ElicitRequestSchema, (request: ElicitRequest, extra) => {
        messages.push(request.params.message);
        // Kept open, as a person would, until the proxy withdraws it once the dialog is submitted.
        return new Promise((resolve) => extra.signal.addEventListener('abort', () => resolve({ action: 'cancel' })));
      });
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual([`connect_${server}`]);
      const calledAt = Date.now();
      const call = client.callTool({ name: `connect_${server}`, arguments: {} });
      const { pid, dump } = await visibleDialog(proxyPid, calledAt);
      const dialog = { pid };
      await waitFor(() => messages.length > 0);
      expect(codeShown(dump)).toBeDefined();
      expect(messages[0]?.match(CODE)?.[0]).toBe(codeShown(dump));
      await driver.run(dialog, [
        { op: 'set', name: 'API token', text: token },
        { op: 'press', name: 'OK' },
      ]);
      expect(textOf(await call)).toContain(`Connected to ${server}`);
      expect(await secretToolSearch(server)).toContain(`secret = ${token}`);
      expect(changed()).toBeGreaterThan(0);
      expect(await auditedEvents(server)).toEqual(
        expect.arrayContaining(['dialog_shown', 'dialog_submitted', 'secret_stored', 'secret_read', 'injection']),
      );
      const getEnv = textOf(await client.callTool({ name: 'get-env', arguments: {} }));
      expect(getEnv).toContain(`[REDACTED:${server}/API_TOKEN]`);
      expect(getEnv).not.toContain(token);
    } finally {
      await client.close();
      await runBin(['secrets', 'clear', server, '--yes']);
    }
  });

  it('without elicitation, with a progress token: the code arrives as progress; the call ends connected', async () => {
    const server = `e2e-progress-${suffix}`;
    const config = await setupServer(server);
    const { client, proxyPid } = await connectThroughProxy({ config, server, env });
    try {
      const progress: string[] = [];
      const calledAt = Date.now();
      const call = client.callTool({ name: `connect_${server}`, arguments: {} }, undefined, {
        onprogress: (update) => void progress.push(update.message ?? ''),
      });
      const { pid, dump } = await visibleDialog(proxyPid, calledAt);
      const dialog = { pid };
      const code = codeShown(dump);
      await waitFor(() => progress.length > 0);
      expect(progress[0]?.match(CODE)?.[0]).toBe(code);
      await driver.run(dialog, [
        { op: 'set', name: 'API token', text: 'progress-token-value' },
        { op: 'press', name: 'OK' },
      ]);
      expect(textOf(await call)).toContain('get-env');
    } finally {
      await client.close();
      await runBin(['secrets', 'clear', server, '--yes']);
    }
  });

  it('without elicitation or progress: returns the code at once, and the tools arrive with list_changed', async () => {
    const server = `e2e-plain-${suffix}`;
    const config = await setupServer(server);
    const { client, proxyPid } = await connectThroughProxy({ config, server, env });
    try {
      const changed = listChangedCounter(client);
      const calledAt = Date.now();
      const result = textOf(await client.callTool({ name: `connect_${server}`, arguments: {} }));
      const { pid, dump } = await visibleDialog(proxyPid, calledAt);
      const dialog = { pid };
      expect(result.match(CODE)?.[0]).toBe(codeShown(dump));
      await driver.run(dialog, [
        { op: 'set', name: 'API token', text: 'plain-token-value' },
        { op: 'press', name: 'OK' },
      ]);
      expect(await waitFor(() => changed() > 0, 10_000)).toBe(true);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('get-env');
    } finally {
      await client.close();
      await runBin(['secrets', 'clear', server, '--yes']);
    }
  });

  it('two proxies needing the same secret show one dialog; both connect', async () => {
    const server = `e2e-shared-${suffix}`;
    const config = await setupServer(server);
    const first = await connectThroughProxy({ config, server, env });
    const second = await connectThroughProxy({ config, server, env });
    try {
      const changedSecond = listChangedCounter(second.client);
      await first.client.callTool({ name: `connect_${server}`, arguments: {} });
      const waiting = textOf(await second.client.callTool({ name: `connect_${server}`, arguments: {} }));
      expect(waiting).toContain('Another mcp-keyproxy process is already asking');
      expect(waiting).not.toMatch(CODE);
      const dialog = { pid: await dialogOf(first.proxyPid) };
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const secondDialogs = [];
      for (const pid of await descendantsOf(second.proxyPid)) {
        if ((await procText(pid, 'cmdline')).includes('keyproxy-dialog')) secondDialogs.push(pid);
      }
      expect(secondDialogs).toEqual([]);
      await driver.run(dialog, [
        { op: 'set', name: 'API token', text: 'shared-token-value' },
        { op: 'press', name: 'OK' },
      ]);
      expect(await waitFor(() => changedSecond() > 0, 10_000)).toBe(true);
      expect((await second.client.listTools()).tools.map((tool) => tool.name)).toContain('get-env');
    } finally {
      await first.client.close();
      await second.client.close();
      await runBin(['secrets', 'clear', server, '--yes']);
    }
  });

  it('closes the dialog within 2 s and stores nothing when the client disconnects', async () => {
    const server = `e2e-gone-${suffix}`;
    const config = await setupServer(server);
    const { client, proxyPid } = await connectThroughProxy({ config, server, env });
    await client.callTool({ name: `connect_${server}`, arguments: {} });
    const dialog = await dialogOf(proxyPid);
    await driver.run({ pid: dialog }, [{ op: 'set', name: 'API token', text: 'never-stored-value' }]);
    await client.close();
    expect(await waitFor(async () => !(await isAlive(dialog)), 2000)).toBe(true);
    expect(await secretToolSearch(server)).not.toContain('never-stored-value');
  });

  it('closes the dialog even when the proxy is killed with SIGKILL', async () => {
    const server = `e2e-killed-${suffix}`;
    const config = await setupServer(server);
    const { client, proxyPid } = await connectThroughProxy({ config, server, env });
    await client.callTool({ name: `connect_${server}`, arguments: {} });
    const dialog = await dialogOf(proxyPid);
    process.kill(proxyPid, 'SIGKILL');
    expect(await waitFor(async () => !(await isAlive(dialog)), 2000)).toBe(true);
    await client.close();
  });

  it('offers the dialog again when the server rejects its key at start-up', async () => {
    const server = `e2e-reject-${suffix}`;
    const fixture = { command: process.execPath, args: [join(repoRoot, 'test/fixtures/key-checking-server.mjs')] };
    const config = await setupServer(server, { confirm: false }, fixture);
    const { client, proxyPid } = await connectThroughProxy({ config, server, env });
    try {
      const changed = listChangedCounter(client);
      await client.callTool({ name: `connect_${server}`, arguments: {} });
      let dialog = { pid: await dialogOf(proxyPid) };
      await driver.run(dialog, [
        { op: 'set', name: 'API token', text: 'bad-key-value' },
        { op: 'press', name: 'OK' },
      ]);
      // The failed start puts the setup tool back, announced with list_changed.
      expect(await waitFor(() => changed() > 0, 10_000)).toBe(true);
      const tools = (await client.listTools()).tools;
      expect(tools.map((tool) => tool.name)).toEqual([`connect_${server}`]);
      expect(tools[0]?.description).toContain('rejected');
      await client.callTool({ name: `connect_${server}`, arguments: {} });
      dialog = { pid: await dialogOf(proxyPid) };
      const entry = (await driver.dump(dialog)).entries.find((field) => field.name === 'API token');
      expect(entry?.text ?? '').not.toContain('bad-key-value');
      await driver.run(dialog, [
        { op: 'set', name: 'API token', text: 'good-key-value' },
        { op: 'press', name: 'OK' },
      ]);
      expect(await waitFor(() => changed() > 1, 10_000)).toBe(true);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('get-env');
    } finally {
      await client.close();
      await runBin(['secrets', 'clear', server, '--yes']);
    }
  });
});

describe('in the aggregate (mcp-keyproxy run with no server name)', () => {
  it('a server waiting for credentials offers connect_<server> beside the others, and joins after the dialog', async () => {
    const waiting = `e2e-agg-wait-${suffix}`;
    const ready = `e2e-agg-ready-${suffix}`;
    const config = await writeConfig({
      [waiting]: { ...everythingServer({ API_TOKEN: '${secret:API_TOKEN}' }, { API_TOKEN: { label: 'API token' } }), confirm: true },
      [ready]: everythingServer({}),
    });
    const { client, proxyPid } = await connectThroughProxy({ config, env });
    try {
      const changed = listChangedCounter(client);
      const before = (await client.listTools()).tools.map((tool) => tool.name);
      expect(before).toEqual(expect.arrayContaining([`connect_${waiting}`, `${ready}__echo`]));
      expect(before).not.toContain(`${waiting}__get-env`);
      await client.callTool({ name: `connect_${waiting}`, arguments: {} });
      const dialog = { pid: await dialogOf(proxyPid) };
      await driver.run(dialog, [
        { op: 'set', name: 'API token', text: 'aggregate-token-value' },
        { op: 'press', name: 'OK' },
      ]);
      expect(await waitFor(() => changed() > 0, 10_000)).toBe(true);
      const getEnv = textOf(await client.callTool({ name: `${waiting}__get-env`, arguments: {} }));
      expect(getEnv).toContain(`[REDACTED:${waiting}/API_TOKEN]`);
      expect(textOf(await client.callTool({ name: `${ready}__echo`, arguments: { message: 'still here' } }))).toContain('still here');
    } finally {
      await client.close();
      await runBin(['secrets', 'clear', waiting, '--yes']);
    }
  });
});

describe('consent before stored secrets are used', () => {
  const consentServer = `e2e-consent-${suffix}`;
  let config: string;

  beforeAll(async () => {
    config = await setupServer(consentServer);
    await runBin(['secrets', 'set', consentServer, 'API_TOKEN'], { input: 'consent-token-value' });
  });
  afterAll(async () => {
    await runBin(['secrets', 'clear', consentServer, '--yes']);
  });

  /** A client that answers consent elicitations with `decision` and counts them. */
  async function consentingClient(decision: 'once' | 'session' | 'deny') {
    const asked: string[] = [];
    const connection = await connectThroughProxy({
      config,
      server: consentServer,
      env,
      capabilities: { elicitation: { form: {} } },
      beforeConnect: (client) =>
        client.setRequestHandler(ElicitRequestSchema, (request) => {
          asked.push(request.params.message);
          return { action: 'accept', content: { decision } };
        }),
    });
    return { ...connection, asked };
  }

  for (const decision of ['once', 'session'] as const) {
    it(`allow ${decision}: the server starts; after it stops, ${decision === 'once' ? 'the next start asks again' : 'the next start does not ask'}`, async () => {
      const { client, proxyPid, asked } = await consentingClient(decision);
      try {
        const changed = listChangedCounter(client);
        expect(await waitFor(() => changed() > 0, 10_000)).toBe(true);
        expect(asked).toHaveLength(1);
        expect(asked[0]).toContain('API_TOKEN');
        expect(textOf(await client.callTool({ name: 'get-env', arguments: {} }))).toContain('REDACTED');
        const [child] = await descendantsOf(proxyPid);
        process.kill(child!, 'SIGKILL');
        expect(await waitFor(() => changed() > 1, 10_000)).toBe(true);
        expect(textOf(await client.callTool({ name: `connect_${consentServer}`, arguments: {} }))).toContain('Connected');
        expect(asked).toHaveLength(decision === 'once' ? 2 : 1);
      } finally {
        await client.close();
      }
    });
  }

  it('deny: the server tools answer with a clear error and the setup tool asks again', async () => {
    const { client, asked } = await consentingClient('deny');
    try {
      await waitFor(() => asked.length > 0);
      // Answered: a connect call made while the prompt is still open would join it instead of asking again.
      const deniedShown = async () => (await client.listTools()).tools.some((tool) => tool.description?.includes('denied'));
      expect(await waitFor(deniedShown, 10_000)).toBe(true);
      const denied = await client.callTool({ name: 'get-env', arguments: {} });
      expect(denied.isError).toBe(true);
      expect(textOf(denied)).toContain(`connect_${consentServer}`);
      await client.callTool({ name: `connect_${consentServer}`, arguments: {} });
      expect(asked).toHaveLength(2);
      expect((await auditedEvents(consentServer)).filter((event) => event === 'consent:deny')).toHaveLength(2);
    } finally {
      await client.close();
    }
  });

  it('without elicitation: asks in the dialog when connect is called, whose result shows the same code', async () => {
    const { client, proxyPid } = await connectThroughProxy({ config, server: consentServer, env });
    try {
      const changed = listChangedCounter(client);
      const told = textOf(await client.callTool({ name: `connect_${consentServer}`, arguments: {} }));
      const dialog = { pid: await dialogOf(proxyPid) };
      expect(told).toContain(`with the code ${codeShown(await driver.dump(dialog))}`);
      await driver.run(dialog, [{ op: 'press', name: 'Allow once' }]);
      expect(await waitFor(() => changed() > 0, 10_000)).toBe(true);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('get-env');
    } finally {
      await client.close();
    }
  });

  const bypasses: Array<[string, { extraArgs?: string[]; env?: Record<string, string> }]> = [
    ['--headless', { extraArgs: ['--headless'] }],
    ['MCP_BYPASS_SECRET_USE_CONFIRM=true', { env: { ...env, MCP_BYPASS_SECRET_USE_CONFIRM: 'true' } }],
  ];
  for (const [label, bypass] of bypasses) {
    it(`is bypassed by ${label}: the server starts at once with the client's own initialize`, async () => {
      const { client } = await connectThroughProxy({ config, server: consentServer, env, ...bypass });
      try {
        expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('get-env');
      } finally {
        await client.close();
      }
    });
  }

  it('is bypassed by "confirm": false', async () => {
    const noConfirm = await setupServer(consentServer, { confirm: false });
    const { client } = await connectThroughProxy({ config: noConfirm, server: consentServer, env });
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('get-env');
    } finally {
      await client.close();
    }
  });
});
