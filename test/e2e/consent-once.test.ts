import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer } from '../helpers/aggregate-client.js';
import { AtspiDriver, buildDialog, requireDisplay } from '../helpers/display.js';
import { requireKeyringSession } from '../helpers/keyring.js';
import {
  connectThroughProxy,
  descendantsOf,
  dialogOf,
  everythingEntry,
  everythingServer,
  procText,
  repoRoot,
  runBin,
  waitFor,
  writeConfig,
  type ProxyConnection,
} from '../helpers/proxy.js';

// One consent prompt per server, counted as windows on the display (AT-SPI), and downstream processes counted in
// /proc; "Allow always" remembered across proxies; an aggregate member that keeps failing at start-up given up on.

const CODE = /\b[2-9A-Z]{4}-[2-9A-Z]{4}\b/;
const suffix = randomBytes(3).toString('hex');
const stateDir = join(repoRoot, 'test-artifacts', `consent-state-${suffix}`);
const artifacts = join(repoRoot, 'test-artifacts');
/** Window counts measured by each test, written for the report. */
const measured: Record<string, unknown> = {};
const LONG = 60_000;
let driver: AtspiDriver;
let watcher: AtspiDriver;

beforeAll(async () => {
  requireKeyringSession();
  requireDisplay();
  await buildDialog();
  [driver, watcher] = await Promise.all([AtspiDriver.start(), AtspiDriver.start()]);
}, LONG);

afterAll(async () => {
  driver?.close();
  watcher?.close();
  await mkdir(artifacts, { recursive: true });
  await writeFile(join(artifacts, 'consent-windows.json'), JSON.stringify(measured, null, 2));
});

/** The title of the consent dialog of `server`. */
const consentTitle = (server: string): string => `mcp-keyproxy: allow ${server} to use its credentials?`;

/**
 * Samples the windows on the display until stopped: per title, the most shown at once and every process that showed one.
 * `pidOf` waits for a window in these samples, so a window a test acts on (and closes) has always been counted.
 */
function watchWindows(): {
  pidOf: (title: string) => Promise<number>;
  stop: () => Promise<Map<string, { most: number; pids: Set<number> }>>;
} {
  const seen = new Map<string, { most: number; pids: Set<number> }>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const counts = new Map<string, number>();
      for (const window of await watcher.windows()) {
        counts.set(window.title, (counts.get(window.title) ?? 0) + 1);
        const entry = seen.get(window.title) ?? { most: 0, pids: new Set<number>() };
        entry.pids.add(window.pid);
        seen.set(window.title, entry);
      }
      for (const [title, count] of counts) seen.get(title)!.most = Math.max(seen.get(title)!.most, count);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    pidOf: async (title) => {
      expect(await waitFor(() => seen.has(title), 20_000), `no window "${title}"`).toBe(true);
      return [...seen.get(title)!.pids][0]!;
    },
    stop: async () => {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** The consent windows of `server` seen: how many processes showed one, and the most showing at once. */
function consentWindows(seen: Map<string, { most: number; pids: Set<number> }>, server: string) {
  const entry = seen.get(consentTitle(server));
  return { windows: entry?.pids.size ?? 0, atOnce: entry?.most ?? 0 };
}

/** The pid of the window showing `title`, once there is one. */
async function windowPid(title: string): Promise<number> {
  let pid: number | undefined;
  await waitFor(async () => {
    pid = (await watcher.windows()).find((window) => window.title === title)?.pid;
    return pid !== undefined;
  }, 20_000);
  if (pid === undefined) throw new Error(`no window "${title}"`);
  return pid;
}

/** The server-everything processes started by the proxy `proxyPid`. */
async function downstreams(proxyPid: number): Promise<number> {
  let count = 0;
  for (const pid of await descendantsOf(proxyPid)) if ((await procText(pid, 'cmdline')).includes(everythingEntry)) count++;
  return count;
}

async function dialogsOf(proxyPid: number): Promise<number> {
  let count = 0;
  for (const pid of await descendantsOf(proxyPid)) if ((await procText(pid, 'cmdline')).includes('keyproxy-dialog')) count++;
  return count;
}

const toolNames = async (client: Client): Promise<string[]> => (await client.listTools()).tools.map((tool) => tool.name);
const textOf = (result: unknown): string =>
  ((result as { content: Array<{ text?: string }> }).content ?? []).map((part) => part.text ?? '').join('\n');

/** A server-everything entry that needs its stored API_TOKEN and asks for consent. */
function consentServer(extraArgs: string[] = []): Record<string, unknown> {
  const entry = everythingServer({ API_TOKEN: '${secret:API_TOKEN}' }, { API_TOKEN: { label: 'API token' } });
  return { ...entry, args: [...extraArgs, ...(entry['args'] as string[])], confirm: true };
}

/** The environment of a proxy: the shared state dir, the default lock folder, and a runtime dir of its own. */
async function proxyEnv(): Promise<Record<string, string>> {
  const xdg = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-xdg-'));
  // Empty: the lock folder is the default one, chosen by user id (the point of this test), not by XDG_RUNTIME_DIR.
  return { MCP_KEYPROXY_STATE_DIR: stateDir, MCP_KEYPROXY_RUNTIME_DIR: '', XDG_RUNTIME_DIR: xdg };
}

async function storeToken(server: string, config: string): Promise<void> {
  const value = `tok-${randomBytes(12).toString('hex')}`;
  const set = await runBin(['secrets', 'set', server, 'API_TOKEN', '--config', config], { input: value });
  expect(set.code, set.stderr).toBe(0);
}

async function consentList(): Promise<Array<{ server: string; secrets: string[] }>> {
  const listed = await runBin(['consent', 'list', '--json'], { env: { ...process.env, MCP_KEYPROXY_STATE_DIR: stateDir } });
  expect(listed.code, listed.stderr).toBe(0);
  return JSON.parse(listed.stdout) as Array<{ server: string; secrets: string[] }>;
}

async function closeAll(connections: Array<ProxyConnection | undefined>): Promise<void> {
  await Promise.all(connections.map((connection) => connection?.client.close()));
}

describe('one consent prompt per server', () => {
  const server = `consent-two-${suffix}`;
  let config: string;

  beforeAll(async () => {
    config = await writeConfig({ [server]: consentServer() });
    await storeToken(server, config);
  }, LONG);

  it(
    'two proxies for one server, with different XDG_RUNTIME_DIR: one window; "Allow always" there starts both',
    async () => {
      const [a, b] = await Promise.all([
        connectThroughProxy({ config, server, env: await proxyEnv() }),
        connectThroughProxy({ config, server, env: await proxyEnv() }),
      ]);
      const watch = watchWindows();
      try {
        expect(await toolNames(a.client)).toEqual([`connect_${server}`]);
        expect(await toolNames(b.client)).toEqual([`connect_${server}`]);
        const first = textOf(await a.client.callTool({ name: `connect_${server}`, arguments: {} }));
        const code = first.match(CODE)?.[0];
        expect(code, first).toBeDefined();
        const dialog = await dialogOf(a.proxyPid);
        const dump = await driver.dump({ pid: dialog });
        expect(dump.labels.map((label) => label.text ?? '').join(' ')).toContain(code);
        expect(dump.buttons.map((button) => button.name)).toEqual(['Deny', 'Allow always', 'Allow for session', 'Allow once']);

        const second = textOf(await b.client.callTool({ name: `connect_${server}`, arguments: {} }));
        expect(second).toContain('Another mcp-keyproxy process');
        expect(second).not.toMatch(CODE);
        expect(await dialogsOf(b.proxyPid)).toBe(0);

        expect(await watch.pidOf(consentTitle(server))).toBe(dialog);
        await driver.run({ pid: dialog }, [{ op: 'press', name: 'Allow always' }]);
        // Both start: the second process took its turn after the first, and found the "Allow always".
        expect(await waitFor(async () => (await toolNames(a.client)).includes('get-env'), LONG), a.stderr()).toBe(true);
        expect(await waitFor(async () => (await toolNames(b.client)).includes('get-env'), LONG), a.stderr() + b.stderr()).toBe(true);
        const counts = consentWindows(await watch.stop(), server);
        measured['two proxies, one server'] = counts;
        expect(counts).toEqual({ windows: 1, atOnce: 1 });
        expect(await downstreams(a.proxyPid)).toBe(1);
        expect(await downstreams(b.proxyPid)).toBe(1);
        expect(await consentList()).toEqual([expect.objectContaining({ server, secrets: ['API_TOKEN'] })]);
      } finally {
        await watch.stop();
        await closeAll([a, b]);
      }
    },
    2 * LONG,
  );

  it(
    'remembered: a new proxy starts at once with no prompt; changed args ask again; after `consent revoke` it asks again',
    async () => {
      const remembered = await connectThroughProxy({ config, server, env: await proxyEnv() });
      try {
        // Transparent from the start: the real tools, no connect tool, no dialog.
        expect(await toolNames(remembered.client)).toContain('get-env');
        expect(await toolNames(remembered.client)).not.toContain(`connect_${server}`);
        expect(await dialogsOf(remembered.proxyPid)).toBe(0);
        const audit = await readFile(join(stateDir, 'audit.jsonl'), 'utf8');
        expect(audit).toContain('"decision":"remembered"');
      } finally {
        await closeAll([remembered]);
      }

      const changed = await writeConfig({ [server]: consentServer(['--no-deprecation']) });
      const asked = await connectThroughProxy({ config: changed, server, env: await proxyEnv() });
      try {
        expect(await toolNames(asked.client)).toEqual([`connect_${server}`]);
        await asked.client.callTool({ name: `connect_${server}`, arguments: {} });
        expect(await windowPid(consentTitle(server))).toBe(await dialogOf(asked.proxyPid));
      } finally {
        await closeAll([asked]);
      }

      const revoke = await runBin(['consent', 'revoke', server], { env: { ...process.env, MCP_KEYPROXY_STATE_DIR: stateDir } });
      expect(revoke.code, revoke.stderr).toBe(0);
      expect(revoke.stdout).toContain(server);
      expect(await consentList()).toEqual([]);
      const again = await connectThroughProxy({ config, server, env: await proxyEnv() });
      try {
        expect(await toolNames(again.client)).toEqual([`connect_${server}`]);
        await again.client.callTool({ name: `connect_${server}`, arguments: {} });
        expect(await dialogOf(again.proxyPid)).toBeGreaterThan(0);
      } finally {
        await closeAll([again]);
      }
    },
    2 * LONG,
  );

  it(
    'the aggregate of 3 servers, each connect called twice: one window per server, one downstream each',
    async () => {
      const names = ['a', 'b', 'c'].map((letter) => `consent-agg-${letter}-${suffix}`);
      const aggregate = await writeConfig(Object.fromEntries(names.map((name) => [name, consentServer()])));
      for (const name of names) await storeToken(name, aggregate);
      const proxy = await connectThroughProxy({ config: aggregate, env: await proxyEnv() });
      const watch = watchWindows();
      try {
        const calls = names.flatMap((name) => [1, 2].map(() => proxy.client.callTool({ name: `connect_${name}`, arguments: {} })));
        await Promise.all(calls);
        const pids = await Promise.all(names.map((name) => watch.pidOf(consentTitle(name))));
        for (const pid of pids) await driver.run({ pid }, [{ op: 'press', name: 'Allow once' }]);
        const ready = async () => (await toolNames(proxy.client)).filter((tool) => tool.endsWith('__get-env')).length === 3;
        expect(await waitFor(ready, LONG)).toBe(true);
        const seen = await watch.stop();
        const counts = Object.fromEntries(names.map((name) => [name, consentWindows(seen, name)]));
        measured['aggregate of 3, connect called twice each'] = counts;
        for (const name of names) expect(counts[name]).toEqual({ windows: 1, atOnce: 1 });
        expect(await downstreams(proxy.proxyPid)).toBe(3);
      } finally {
        await watch.stop();
        await closeAll([proxy]);
      }
    },
    2 * LONG,
  );

  it(
    'an elicitation answered late, while connect is called too: one prompt, no window, one downstream process',
    async () => {
      const late = `consent-late-${suffix}`;
      const lateConfig = await writeConfig({ [late]: consentServer() });
      await storeToken(late, lateConfig);
      let prompts = 0;
      const watch = watchWindows();
      const proxy = await connectThroughProxy({
        config: lateConfig,
        server: late,
        env: await proxyEnv(),
        capabilities: { elicitation: { form: {} } },
        beforeConnect: (client) =>
          client.setRequestHandler(ElicitRequestSchema, async () => {
            prompts++;
            // The user takes two seconds to answer.
            await new Promise((resolve) => setTimeout(resolve, 2000));
            return { action: 'accept', content: { decision: 'once' } };
          }),
      });
      try {
        expect(await waitFor(() => prompts === 1, 20_000)).toBe(true);
        const result = await proxy.client.callTool({ name: `connect_${late}`, arguments: {} });
        expect(textOf(result)).toContain(`Connected to ${late}`);
        expect(await waitFor(async () => (await toolNames(proxy.client)).includes('get-env'), LONG)).toBe(true);
        const counts = consentWindows(await watch.stop(), late);
        const processes = await downstreams(proxy.proxyPid);
        measured['late elicitation answer'] = { ...counts, prompts, downstreams: processes };
        expect(prompts).toBe(1);
        expect(counts.windows).toBe(0);
        expect(processes).toBe(1);
      } finally {
        await watch.stop();
        await closeAll([proxy]);
      }
    },
    2 * LONG,
  );
});

describe('aggregate: a member that fails at start-up again and again', () => {
  it(
    'is no longer restarted, and keyproxy__status says why (exit code, scrubbed stderr tail)',
    async () => {
      const bad = `failing-${suffix}`;
      const good = `good-${suffix}`;
      const token = `tok-${randomBytes(12).toString('hex')}`;
      const script = "process.stderr.write('cannot start: no such thing (token ' + process.env.API_TOKEN + ')\\n'); process.exit(3)";
      const config = await writeConfig({
        [good]: fixtureServer(good),
        [bad]: {
          command: process.execPath,
          args: ['-e', script],
          env: { API_TOKEN: '${secret:API_TOKEN}' },
          secrets: { API_TOKEN: {} },
          confirm: false,
        },
      });
      expect(await runBin(['secrets', 'set', bad, 'API_TOKEN', '--config', config], { input: token })).toMatchObject({ code: 0 });
      const proxy = await connectThroughProxy({ config, env: { MCP_KEYPROXY_STATE_DIR: stateDir } });
      try {
        type Status = { name: string; state: string; detail?: string };
        const status = async (): Promise<Status | undefined> => {
          const result = await proxy.client.callTool({ name: 'keyproxy__status', arguments: {} });
          return (result.structuredContent as { servers: Status[] }).servers.find((server) => server.name === bad);
        };
        // 1 + 2 + 4 + 8 s of retries, then it is given up on.
        expect(await waitFor(async () => (await status())?.state === 'failed', 3 * LONG)).toBe(true);
        const detail = (await status())?.detail ?? '';
        expect(detail).toContain('5 times in a row');
        expect(detail).toContain('exit code 3');
        expect(detail).toContain('cannot start: no such thing');
        expect(detail).toContain(`[REDACTED:${bad}/API_TOKEN]`);
        expect(detail).not.toContain(token);
        const starts = proxy
          .stderr()
          .split('\n')
          .filter((line) => line.includes('"server started"') && line.includes(bad));
        expect(starts).toHaveLength(5);
        expect(proxy.stderr()).toContain('is no longer restarted');
        expect(proxy.stderr()).not.toContain(token);
        measured['failing member'] = { starts: starts.length, detail };
      } finally {
        await closeAll([proxy]);
      }
    },
    4 * LONG,
  );
});
