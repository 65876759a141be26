import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { requireKeyringSession } from '../helpers/keyring.js';
import { connectThroughProxy, descendantsOf, isAlive, procText, runBin, waitFor, writeConfig } from '../helpers/proxy.js';
import { fixtureServer, statusOf, untilReady } from '../helpers/aggregate-client.js';

const textOf = (result: unknown): string => JSON.stringify((result as CallToolResult).content);

async function toolNames(client: Client): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools({ cursor });
    names.push(...page.tools.map((tool) => tool.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return names;
}

/** Pids of the fixture servers running under the proxy, by FIXTURE_NAME. */
async function fixturePids(proxyPid: number): Promise<Map<string, number>> {
  const pids = new Map<string, number>();
  for (const pid of await descendantsOf(proxyPid)) {
    const name = /FIXTURE_NAME=(\S+)/.exec(await procText(pid, 'environ'))?.[1];
    if (name && (await procText(pid, 'cmdline')).includes('aggregate-server.mjs')) pids.set(name, pid);
  }
  return pids;
}

describe('aggregate: a server that crashes', () => {
  it('fails the call at once, restarts the server with its tools announced again, and never disturbs the others', async () => {
    const config = await writeConfig({ steady: fixtureServer('steady'), flaky: fixtureServer('flaky') });
    const { client, transport, proxyPid } = await connectThroughProxy({ config, extraArgs: ['--log-level', 'debug'] });
    let listChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
    try {
      await untilReady(client, ['steady', 'flaky']);
      expect(await toolNames(client)).toContain('flaky__crash');
      const firstPid = (await fixturePids(proxyPid)).get('flaky');
      let steadyAnswers = 0;
      let crashed = false;
      const steadyLoop = (async () => {
        while (!crashed || steadyAnswers < 5) {
          expect(textOf(await client.callTool({ name: 'steady__hello', arguments: { text: String(steadyAnswers) } }))).toContain(
            'hello from steady',
          );
          steadyAnswers++;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const calledAt = Date.now();
      await expect(client.callTool({ name: 'flaky__crash', arguments: {} })).rejects.toThrow(/stopped before answering/);
      expect(Date.now() - calledAt).toBeLessThan(1000);
      crashed = true;
      expect(await waitFor(() => listChanged >= 1, 2000)).toBe(true);
      expect((await statusOf(client)).flaky?.state).toBe('restarting');
      expect(await toolNames(client)).not.toContain('flaky__crash');
      expect(await waitFor(async () => (await statusOf(client)).flaky?.state === 'ready', 5000)).toBe(true);
      expect(listChanged).toBeGreaterThanOrEqual(2);
      expect(await toolNames(client)).toContain('flaky__crash');
      expect(textOf(await client.callTool({ name: 'flaky__hello', arguments: { text: 'back' } }))).toContain('hello from flaky: back');
      const secondPid = (await fixturePids(proxyPid)).get('flaky');
      expect(secondPid).toBeDefined();
      expect(secondPid).not.toBe(firstPid);
      await steadyLoop;
      expect(steadyAnswers).toBeGreaterThanOrEqual(5);
    } finally {
      await transport.close();
    }
  });
});

describe('aggregate: a server that takes 10 s to start', () => {
  it('answers initialize before that server is up, and its tools arrive later with list_changed', async () => {
    const config = await writeConfig({ quick: fixtureServer('quick'), slow: fixtureServer('slow', { FIXTURE_START_DELAY_MS: '10000' }) });
    const { client, transport } = await connectThroughProxy({ config, extraArgs: ['--log-level', 'debug'] });
    let listChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
    try {
      // Connected (initialize answered) while the slow server still says nothing: its state proves the order.
      expect((await statusOf(client)).slow?.state).toBe('starting');
      await untilReady(client, ['quick'], 8000);
      const early = await toolNames(client);
      expect(early).toContain('quick__hello');
      expect(early).not.toContain('slow__hello');
      expect(await waitFor(() => listChanged > 0, 20_000)).toBe(true);
      expect(await toolNames(client)).toContain('slow__hello');
      expect((await statusOf(client)).slow?.state).toBe('ready');
    } finally {
      await transport.close();
    }
  }, 40_000);
});

describe('aggregate: stopping', () => {
  for (const how of ['SIGTERM', 'stdin close'] as const) {
    it(`${how} stops every child`, async () => {
      const config = await writeConfig({ one: fixtureServer('one'), two: fixtureServer('two'), three: fixtureServer('three') });
      const { client, transport, proxyPid } = await connectThroughProxy({ config, extraArgs: ['--log-level', 'debug'] });
      await untilReady(client, ['one', 'two', 'three']);
      expect(await toolNames(client)).toEqual(expect.arrayContaining(['one__hello', 'two__hello', 'three__hello']));
      const children = await descendantsOf(proxyPid);
      expect(children.length).toBeGreaterThanOrEqual(3);
      if (how === 'SIGTERM') process.kill(proxyPid, 'SIGTERM');
      else await transport.close();
      expect(await waitFor(async () => !(await isAlive(proxyPid)), 8000)).toBe(true);
      // The reaper (a child of the proxy) exits once it reads the end of its stdin: a moment after the proxy.
      expect(await waitFor(async () => (await Promise.all(children.map(isAlive))).every((alive) => !alive), 5000)).toBe(true);
      await transport.close();
    });
  }
});

describe('aggregate: headless, with a secret missing', () => {
  const suffix = randomBytes(3).toString('hex');
  const needy = `needy-${suffix}`;
  const withSecret = fixtureServer(needy, { API_TOKEN: '${secret:API_TOKEN}' }, { secrets: { API_TOKEN: {} } });

  it('serves the other servers and names the fix for the one that cannot start', async () => {
    requireKeyringSession();
    const config = await writeConfig({ fine: fixtureServer('fine'), [needy]: withSecret });
    const { client, transport } = await connectThroughProxy({ config, extraArgs: ['--log-level', 'debug', '--headless'] });
    try {
      expect(textOf(await client.callTool({ name: 'fine__hello', arguments: { text: 'ok' } }))).toContain('hello from fine');
      const status = (await statusOf(client))[needy];
      expect(status?.state).toBe('failed');
      expect(status?.detail).toContain(`mcp-keyproxy secrets set ${needy} API_TOKEN`);
      expect(await toolNames(client)).not.toContain(`${needy}__hello`);
    } finally {
      await transport.close();
    }
  });

  it("exits 78, before a word on stdout, when a server is named like the proxy's own tools", async () => {
    const config = await writeConfig({ fine: fixtureServer('fine'), keyproxy: fixtureServer('keyproxy') });
    const result = await runBin(['run', '--config', config]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('a server named "keyproxy" cannot join the aggregate');
    expect(result.stderr).toContain('mcp-keyproxy run keyproxy');
    expect(result.stdout).toBe('');
  });

  it('exits 78 when no server at all can run', async () => {
    requireKeyringSession();
    const config = await writeConfig({ [needy]: withSecret });
    const result = await runBin(['run', '--config', config, '--headless']);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`mcp-keyproxy secrets set ${needy} API_TOKEN`);
    expect(result.stdout).toBe('');
  });
});
