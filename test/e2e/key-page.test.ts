import { randomBytes } from 'node:crypto';
import { copyFile, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ElicitationCompleteNotificationSchema,
  ElicitRequestSchema,
  ToolListChangedNotificationSchema,
  type ElicitRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CODE, keyPageEnv, LINK, useChromium } from '../helpers/key-page.js';
import { requireKeyringSession, secretToolSearch } from '../helpers/keyring.js';
import { connectThroughProxy, everythingServer, repoRoot, runBin, writeConfig } from '../helpers/proxy.js';

// The key page in a real browser: headless Chromium (Debian's, driven by playwright-core) against the built proxy,
// with the real keychain of scripts/with-keyring.sh. The proxy "opens the browser" through $BROWSER, the fixture
// that only logs the URL it was given (FIXTURE_BROWSER_FOLLOW=0); the test then opens that URL in Chromium.

const { env, browserLog, suffix } = keyPageEnv('key-page');
const artifacts = join(repoRoot, 'test-artifacts');

/** The parts of a form element the tests change (this project's tsconfig has no DOM types). */
interface FormLike {
  target: string;
  elements: { namedItem(name: string): { name: string; value: string } | null };
}

/** Polls that wait on a real browser and processes on a busy machine. */
const POLL = { timeout: 30_000 };

const chromium = useChromium({ viewport: { width: 720, height: 640 } });

beforeAll(() => requireKeyringSession());

/** A config with one server-everything that needs API_TOKEN, declared with a label and help text. */
async function keyServer(name: string): Promise<string> {
  return writeConfig({
    [name]: everythingServer(
      { API_TOKEN: '${secret:API_TOKEN}' },
      { API_TOKEN: { label: 'API token', help_text: 'From the dashboard, under Settings → API' } },
    ),
  });
}

function listChanged(client: Client): () => number {
  let count = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void count++);
  return () => count;
}

const textOf = (result: unknown): string =>
  ((result as { content: Array<{ text?: string }> }).content ?? []).map((part) => part.text ?? '').join('\n');

/** The URLs the proxy asked the system to open, in order. */
async function openedUrls(): Promise<string[]> {
  const log = await readFile(browserLog, 'utf8').catch(() => '');
  return [...log.matchAll(/^open (\S+)$/gm)].map((match) => match[1] ?? '');
}

async function codeOnPage(page: Page): Promise<string> {
  return (await page.locator('#verification-code b').textContent()) ?? '';
}

/** A site on another origin whose form posts `fields` to `action` (the attack the Origin check stops). */
async function foreignSite(action: string, fields: Record<string, string>): Promise<{ url: string; server: Server }> {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input name="${name}" value="${value}">`)
    .join('');
  const html = `<!doctype html><form method="post" action="${action}">${inputs}<button id="go">go</button></form>`;
  const server = createServer((_request, response) => response.writeHead(200, { 'Content-Type': 'text/html' }).end(html));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

// Each case starts a proxy, server-everything and Chromium tabs: on a loaded 2-vCPU machine one took 22 s.
describe('the key page in Chromium', { timeout: 120_000 }, () => {
  it('no elicitation: the link and code are in the result, the browser is opened, required fields block submit, the key lands in the keychain and the tools arrive', async () => {
    const server = `e2e-page-${suffix}`;
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const { client } = await connectThroughProxy({ config: await keyServer(server), server, env, extraArgs: ['--collect', 'browser'] });
    const page = await chromium.context.newPage();
    try {
      const changed = listChanged(client);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual([`connect_${server}`]);
      const result = textOf(await client.callTool({ name: `connect_${server}`, arguments: {} }));
      const url = LINK.exec(result)?.[0] ?? '';
      expect(url, result).not.toBe('');
      expect(result).not.toContain(token);
      await expect.poll(openedUrls, POLL).toContain(url);

      const response = await page.goto(url);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toMatch(/^default-src 'none'/);
      expect(await codeOnPage(page)).toBe(CODE.exec(result)?.[0]);
      await expect.poll(() => page.getByLabel('API token').getAttribute('type'), POLL).toBe('password');
      expect(await page.getByText('From the dashboard, under Settings → API').isVisible()).toBe(true);
      await page.screenshot({ path: join(artifacts, 'key-page.png') });
      if (process.env.MCP_KEYPROXY_UPDATE_DOCS === '1')
        await copyFile(join(artifacts, 'key-page.png'), join(repoRoot, 'docs/key-page.png'));

      // Required: the browser keeps the form and says why; nothing is sent, nothing stored.
      await page.getByRole('button', { name: 'Save to keychain' }).click();
      expect(
        await page
          .getByLabel('API token')
          .evaluate((input) => (input as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing),
      ).toBe(true);
      expect(page.url()).toBe(url);
      expect(await codeOnPage(page)).toBe(CODE.exec(result)?.[0]);
      expect(await secretToolSearch(server)).not.toContain('secret =');

      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Save to keychain' }).click();
      await expect.poll(() => page.locator('#message').textContent(), POLL).toContain('Stored in your OS keychain');
      await expect.poll(changed, POLL).toBeGreaterThan(0);
      expect(await secretToolSearch(server)).toContain(`secret = ${token}`);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('get-env');
      const getEnv = textOf(await client.callTool({ name: 'get-env', arguments: {} }));
      expect(getEnv).toContain(`[REDACTED:${server}/API_TOKEN]`);
      expect(getEnv).not.toContain(token);
      // Done: the page's server is gone.
      await expect(page.goto(url)).rejects.toThrow(/ERR_CONNECTION_REFUSED/);
    } finally {
      await page.close();
      await client.close();
      await runBin(['secrets', 'clear', server, '--yes']);
    }
  });

  it('URL-mode elicitation (SDK client with elicitation {form, url}): mode "url" with the link, the same code in page and message, then notifications/elicitation/complete', async () => {
    const server = `e2e-page-url-${suffix}`;
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const requests: ElicitRequest['params'][] = [];
    const completed: string[] = [];
    const page = await chromium.context.newPage();
    const { client } = await connectThroughProxy({
      config: await keyServer(server),
      server,
      env,
      extraArgs: ['--collect', 'browser'],
      capabilities: { elicitation: { form: {}, url: {} } },
      beforeConnect: (sdkClient) => {
        sdkClient.setRequestHandler(ElicitRequestSchema, async (request) => {
          requests.push(request.params);
          // As a client does once the user agrees: open the link in the browser.
          if (request.params.mode === 'url') await page.goto(request.params.url);
          return { action: 'accept' };
        });
        sdkClient.setNotificationHandler(ElicitationCompleteNotificationSchema, (notification) => {
          completed.push(notification.params.elicitationId);
        });
      },
    });
    try {
      const before = (await openedUrls()).length;
      const call = client.callTool({ name: `connect_${server}`, arguments: {} });
      await expect.poll(() => requests.length, POLL).toBe(1);
      const [request] = requests;
      if (request?.mode !== 'url') throw new Error(`expected a URL-mode elicitation, got ${JSON.stringify(request)}`);
      expect(request.url).toMatch(LINK);
      expect(request.elicitationId).toMatch(/\S/);
      await expect.poll(() => codeOnPage(page), POLL).toMatch(CODE);
      expect(request.message.match(CODE)?.[0]).toBe(await codeOnPage(page));
      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Save to keychain' }).click();
      expect(textOf(await call)).toContain(`Connected to ${server}`);
      await expect.poll(() => completed, POLL).toEqual([request.elicitationId]);
      expect(await secretToolSearch(server)).toContain(`secret = ${token}`);
      // The client opened the link; the proxy did not open a second tab.
      expect((await openedUrls()).length).toBe(before);
    } finally {
      await page.close();
      await client.close();
      await runBin(['secrets', 'clear', server, '--yes']);
    }
  });

  it('the link works once; a foreign Origin and a missing or wrong CSRF token are refused without using it up', async () => {
    const server = `e2e-page-guard-${suffix}`;
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const { client } = await connectThroughProxy({ config: await keyServer(server), server, env, extraArgs: ['--collect', 'browser'] });
    const page = await chromium.context.newPage();
    const second = await chromium.context.newPage();
    const attacker = await chromium.context.newPage();
    let foreign: Server | undefined;
    try {
      const url = LINK.exec(textOf(await client.callTool({ name: `connect_${server}`, arguments: {} })))?.[0] ?? '';
      expect((await page.goto(url))?.status()).toBe(200);
      const again = await second.goto(url);
      expect(again?.status()).toBe(410);
      expect(await second.textContent('body')).toContain('works only once');

      // Each refused submit opens in a tab of its own, so the form stays as the user has it.
      const refusedSubmit = async (prepare: (form: FormLike) => void): Promise<string> => {
        await page.locator('form').evaluate(prepare);
        await page.getByLabel('API token').fill(token);
        const [answerTab] = await Promise.all([
          chromium.context.waitForEvent('page'),
          page.getByRole('button', { name: 'Save to keychain' }).click(),
        ]);
        await answerTab.waitForLoadState();
        const text = (await answerTab.textContent('body')) ?? '';
        await answerTab.close();
        return text;
      };
      const csrf = await page.locator('input[name=csrf]').inputValue();
      expect(
        await refusedSubmit((form) => {
          form.target = '_blank';
          form.elements.namedItem('csrf')!.value = 'forged-token';
        }),
      ).toContain('the form did not come from this page');
      expect(
        await refusedSubmit((form) => {
          form.elements.namedItem('csrf')!.name = 'not-csrf';
        }),
      ).toContain('the form did not come from this page');

      // Another site's form, even with the right token, sends its own Origin.
      const site = await foreignSite(url, { csrf, API_TOKEN: token });
      foreign = site.server;
      await attacker.goto(site.url);
      const [refused] = await Promise.all([attacker.waitForResponse(url), attacker.click('#go')]);
      expect(refused.status()).toBe(403);
      expect(await attacker.textContent('body')).toContain('not sent from this page');
      expect(await secretToolSearch(server)).not.toContain('secret =');

      // The page itself still works, once.
      await page.locator('form').evaluate((form: FormLike, token: string) => {
        form.target = '';
        const field = form.elements.namedItem('not-csrf')!;
        field.name = 'csrf';
        field.value = token;
      }, csrf);
      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Save to keychain' }).click();
      await expect.poll(() => page.locator('#message').textContent(), POLL).toContain('Stored in your OS keychain');
      expect(await secretToolSearch(server)).toContain(`secret = ${token}`);
    } finally {
      foreign?.close();
      await Promise.all([page.close(), second.close(), attacker.close()]);
      await client.close();
      await runBin(['secrets', 'clear', server, '--yes']);
    }
  });

  it('expires: the call ends saying so, nothing is stored, and the link no longer answers', async () => {
    const server = `e2e-page-expiry-${suffix}`;
    const { client } = await connectThroughProxy({
      config: await keyServer(server),
      server,
      env: { ...env, MCP_KEYPROXY_TEST_PAGE_TTL_MS: '1500' },
      extraArgs: ['--collect', 'browser'],
    });
    const page = await chromium.context.newPage();
    try {
      const progress: string[] = [];
      // With a progress token the call stays open until the page ends, with the link in its progress.
      const result = textOf(
        await client.callTool({ name: `connect_${server}`, arguments: {} }, undefined, {
          onprogress: (update) => void progress.push(update.message ?? ''),
        }),
      );
      expect(result).toMatch(/link for .* expired/);
      const url = LINK.exec(progress.join('\n'))?.[0] ?? '';
      expect(url).not.toBe('');
      await expect(page.goto(url)).rejects.toThrow(/ERR_CONNECTION_REFUSED/);
      expect(await secretToolSearch(server)).not.toContain('secret =');
      // connect_<server> again gives a new link.
      const next = textOf(await client.callTool({ name: `connect_${server}`, arguments: {} }));
      expect(LINK.exec(next)?.[0]).toMatch(LINK);
      expect(LINK.exec(next)?.[0]).not.toBe(url);
    } finally {
      await page.close();
      await client.close();
    }
  });
});
