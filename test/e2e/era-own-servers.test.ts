import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eraStdio } from '../helpers/era-servers.js';
import { CODE, keyPageEnv, LINK, useChromium } from '../helpers/key-page.js';
import { requireKeyringSession, secretToolSearch } from '../helpers/keyring.js';
import { binPath, everythingServer, inheritedEnv, runBin, writeConfig } from '../helpers/proxy.js';

// The proxy's own servers (the setup server of a server whose key is missing, the consent prompt, the aggregate)
// for a client pinned to protocol 2026-07-28 (the v2 SDK client): no initialize, and no server→client requests, so
// what the proxy asks comes back as input_required results that the client answers by retrying. The key is typed in
// the key page (headless Chromium); the proxy has no display, so it never shows a native dialog.

const { env, suffix } = keyPageEnv('era-own');
const POLL = { timeout: 30_000 };

/** A server-everything entry that needs API_TOKEN. */
function keyServer(): Record<string, unknown> {
  return everythingServer({ API_TOKEN: '${secret:API_TOKEN}' }, { API_TOKEN: { label: 'API token' } });
}

const chromium = useChromium();

beforeAll(() => requireKeyringSession());

interface ElicitParams {
  mode?: string;
  message: string;
  url?: string;
  requestedSchema?: unknown;
}

/** A v2 client pinned to 2026-07-28 through `mcp-keyproxy run [server]`, answering elicitations with `answer`. */
async function pinnedClient(
  config: string,
  server: string | undefined,
  answer: (params: ElicitParams) => Promise<Record<string, unknown>> | Record<string, unknown>,
  extraArgs: string[] = [],
) {
  const client = new Client(
    { name: 'era-own-e2e', version: '1.0.0' },
    { capabilities: { elicitation: { form: {}, url: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  const asked: ElicitParams[] = [];
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as ElicitParams;
    asked.push(params);
    return (await answer(params)) as never;
  });
  let changed = 0;
  client.setNotificationHandler('notifications/tools/list_changed', () => void changed++);
  let stderr = '';
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [binPath, 'run', ...(server ? [server] : []), '--config', config, ...extraArgs],
    env: { ...inheritedEnv(), ...env },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await client.connect(transport);
  // Change notices come only over subscriptions/listen in this era.
  await client.listen({ toolsListChanged: true });
  const tools = async () => (await client.listTools()).tools.map((tool) => tool.name);
  const call = async (name: string) => {
    const result = (await client.callTool({ name, arguments: {} })) as { content?: Array<{ text?: string }>; isError?: boolean };
    return { text: (result.content ?? []).map((part) => part.text ?? '').join('\n'), isError: result.isError === true };
  };
  return { client, asked, changed: () => changed, stderr: () => stderr, tools, call };
}

async function codeOnPage(page: Page): Promise<string> {
  return (await page.locator('#verification-code b').textContent()) ?? '';
}

/** An elicitation answer that opens the key page (URL mode) as a client does once the user agrees. */
function openingPage(page: Page) {
  return async (params: ElicitParams) => {
    if (params.mode === 'url' && params.url) await page.goto(params.url);
    return { action: 'accept' };
  };
}

/** Types `token` into the open key page and submits it; returns the verification code the page showed. */
async function submitKey(page: Page, token: string): Promise<string> {
  await expect.poll(() => codeOnPage(page), POLL).toMatch(CODE);
  const code = await codeOnPage(page);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Save to keychain' }).click();
  return code;
}

describe('the setup tool for a 2026-07-28 client (input_required)', { timeout: 120_000 }, () => {
  it('run <server>: connect_<server> asks through input_required with the key page link; the key is stored and the tools arrive over subscriptions/listen', async () => {
    const server = `e2e-era-setup-${suffix}`;
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const config = await writeConfig({ [server]: keyServer() });
    const page = await chromium.context.newPage();
    const session = await pinnedClient(config, server, openingPage(page), ['--collect', 'browser']);
    try {
      expect(await session.tools()).toEqual([`connect_${server}`]);
      const call = session.call(`connect_${server}`);
      await expect.poll(() => session.asked.length, POLL).toBe(1);
      const [asked] = session.asked;
      expect(asked?.mode).toBe('url');
      expect(asked?.url).toMatch(LINK);
      expect(asked?.message.match(CODE)?.[0]).toBe(await submitKey(page, token));
      const { text } = await call;
      expect(text).toContain(`Connected to ${server}`);
      expect(text).not.toContain(token);
      expect(await secretToolSearch(server)).toContain(`secret = ${token}`);
      await expect.poll(session.changed, POLL).toBeGreaterThan(0);
      expect(await session.tools()).toContain('get-env');
      const getEnv = await session.call('get-env');
      expect(getEnv.text).toContain(`[REDACTED:${server}/API_TOKEN]`);
      expect(getEnv.text).not.toContain(token);
    } finally {
      await page.close();
      await session.client.close();
      await runBin(['secrets', 'clear', server, '--yes']);
    }
  });

  it('the aggregate: a member without its key lists connect_<member> beside a 2026-only member; the key page flow joins it', async () => {
    const server = `e2e-era-agg-${suffix}`;
    const modern = `e2e-era-modern-${suffix}`;
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const config = await writeConfig({
      [server]: keyServer(),
      [modern]: { ...eraStdio('modern'), confirm: false },
    });
    const page = await chromium.context.newPage();
    const session = await pinnedClient(config, undefined, openingPage(page), ['--collect', 'browser']);
    try {
      await expect.poll(session.tools, POLL).toEqual(expect.arrayContaining([`connect_${server}`, `${modern}__echo`, 'keyproxy__status']));
      const call = session.call(`connect_${server}`);
      await expect.poll(() => session.asked.length, POLL).toBe(1);
      expect(session.asked[0]?.url).toMatch(LINK);
      await submitKey(page, token);
      expect((await call).text).toContain(`Connected to ${server}`);
      await expect.poll(session.tools, POLL).toContain(`${server}__get-env`);
      expect((await session.call(`${server}__get-env`)).text).toContain(`[REDACTED:${server}/API_TOKEN]`);
      expect((await session.call(`${modern}__elicit`)).text).toContain('elicited: accept');
    } finally {
      await page.close();
      await session.client.close();
      await runBin(['secrets', 'clear', server, '--yes']);
    }
  });
});

describe('the consent prompt for a 2026-07-28 client (input_required)', { timeout: 120_000 }, () => {
  const server = `e2e-era-consent-${suffix}`;
  let config: string;

  beforeAll(async () => {
    config = await writeConfig({ [server]: { ...keyServer(), confirm: true } });
    await runBin(['secrets', 'set', server, 'API_TOKEN'], { input: `consent-${randomBytes(8).toString('hex')}` });
  });
  afterAll(async () => {
    await runBin(['secrets', 'clear', server, '--yes']);
  });

  it('allow once: the prompt asked after the handshake comes with connect_<server> as input_required; the server starts', async () => {
    const session = await pinnedClient(config, server, () => ({ action: 'accept', content: { decision: 'once' } }));
    try {
      expect(await session.tools()).toEqual([`connect_${server}`]);
      // Nothing is asked before the client makes a request that can carry the question.
      expect(session.asked).toEqual([]);
      expect((await session.call(`connect_${server}`)).text).toContain(`Connected to ${server}`);
      expect(session.asked).toHaveLength(1);
      expect(session.asked[0]?.mode ?? 'form').toBe('form');
      expect(session.asked[0]?.message).toContain('API_TOKEN');
      await expect.poll(session.changed, POLL).toBeGreaterThan(0);
      expect((await session.call('get-env')).text).toContain(`[REDACTED:${server}/API_TOKEN]`);
    } finally {
      await session.client.close();
    }
  });

  it('deny: the call says so, the server does not start, and connect_<server> asks again', async () => {
    const session = await pinnedClient(config, server, () => ({ action: 'accept', content: { decision: 'deny' } }));
    try {
      const denied = await session.call(`connect_${server}`);
      expect(denied.isError).toBe(true);
      expect(denied.text).toContain(`You denied ${server}`);
      expect(await session.tools()).toEqual([`connect_${server}`]);
      await session.call(`connect_${server}`);
      expect(session.asked).toHaveLength(2);
      const audit = await readFile(join(env.MCP_KEYPROXY_STATE_DIR, 'audit.jsonl'), 'utf8');
      expect(audit).toContain('"decision":"deny"');
    } finally {
      await session.client.close();
    }
  });
});
