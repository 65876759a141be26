import { request } from 'node:http';
import type { ElicitRequest, ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acquireDialogLock } from '../../../../src/dialog/lock.js';
import type { RunningProxy } from '../../../../src/proxy/core/supervise.js';
import type { ServeOptions } from '../../../../src/proxy/downstream/deps.js';
import { serveServer } from '../../../../src/proxy/serve.js';
import {
  connectClient,
  inMemoryDeps,
  resultText,
  serveOptions,
  useTempRuntimeDir,
  type InMemoryProxy,
  type TestClient,
} from '../helpers/in-memory-proxy.js';

const SERVER = { command: 'srv', env: { TOKEN: '${secret:token}' }, secrets: { token: { label: 'API token' } } };
const SECRET = 'typed-in-the-page-0123456789';
const CODE = /\b[2-9A-Z]{4}-[2-9A-Z]{4}\b/;
const LINK = /http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43}/;
// Real sockets on a shared 2-vCPU machine: bounded waits with room, never a sleep.
const WAIT = { timeout: 10_000, interval: 5 };

let restoreRuntimeDir: () => Promise<void>;
let running: RunningProxy | undefined;
let client: TestClient | undefined;

beforeEach(async () => {
  restoreRuntimeDir = await useTempRuntimeDir();
});

afterEach(async () => {
  await client?.close();
  await running?.stop();
  client = undefined;
  running = undefined;
  await restoreRuntimeDir();
});

interface Answer {
  status: number;
  body: string;
}

function http(url: string, method = 'GET', body?: string): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method,
        agent: false,
        headers: body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', origin: target.origin },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens the page like a browser and submits `fields` (or presses Cancel); returns the code it showed. */
async function submit(url: string, fields: Record<string, string> | 'cancel'): Promise<{ code: string | undefined; answer: Answer }> {
  const form = await http(url);
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
  const body = fields === 'cancel' ? { csrf, action: 'cancel' } : { csrf, action: 'save', ...fields };
  return { code: /<b>([^<]+)<\/b>/.exec(form.body)?.[1], answer: await http(url, 'POST', new URLSearchParams(body).toString()) };
}

async function start(
  options: {
    overrides?: Partial<ServeOptions>;
    server?: Record<string, unknown>;
    urlElicitation?: (params: ElicitRequest['params']) => ElicitResult | Promise<ElicitResult>;
    unavailable?: string;
    ttlMs?: number;
  } = {},
): Promise<InMemoryProxy & { client: TestClient; opened: string[] }> {
  const proxy = inMemoryDeps();
  const opened: string[] = [];
  proxy.deps.openBrowser = async (url) => void opened.push(url);
  proxy.deps.pageTtlMs = options.ttlMs;
  if (options.unavailable !== undefined) proxy.dialog.unavailable = async () => options.unavailable;
  running = await serveServer(serveOptions('gh', options.server ?? { ...SERVER, confirm: false }, options.overrides), proxy.deps);
  client = await connectClient(proxy.clientTransport, {
    elicitation: options.urlElicitation,
    capabilities: options.urlElicitation ? { elicitation: { form: {}, url: {} } } : undefined,
  });
  return { ...proxy, client, opened };
}

describe('gated server: keys typed in the browser page', { timeout: 30_000 }, () => {
  it('--collect browser without elicitation: the link and the code are in the result, the page stores the key, the tools arrive', async () => {
    const { client, store, opened, dialog, auditSink } = await start({ overrides: { collect: 'browser' } });
    const text = resultText(await client.client.callTool({ name: 'connect_gh', arguments: {} }));
    const url = LINK.exec(text)?.[0] ?? '';
    expect(url).not.toBe('');
    expect(text).toContain('has been opened for you');
    expect(opened).toEqual([url]);
    expect(dialog.collects).toHaveLength(0);
    const { code, answer } = await submit(url, { token: SECRET });
    expect(code).toBe(CODE.exec(text)?.[0]);
    expect(answer.status).toBe(200);
    await vi.waitFor(() => expect(client.notifications('notifications/tools/list_changed').length).toBeGreaterThan(0), WAIT);
    expect(await store.get('gh', 'token')).toBe(SECRET);
    expect((await client.client.listTools()).tools.map((tool) => tool.name)).toEqual(['echo', 'leak_token']);
    expect(auditSink.events.map((event) => event.event)).toEqual(
      expect.arrayContaining(['dialog_shown', 'dialog_submitted', 'secret_stored']),
    );
    expect(JSON.stringify(auditSink.events)).not.toContain(SECRET);
    expect(JSON.stringify(client.received)).not.toContain(SECRET);
  });

  it('"collect": "browser" in the config chooses the page; --collect dialog overrides it', async () => {
    const { client, dialog } = await start({ server: { ...SERVER, confirm: false, collect: 'browser' }, overrides: { collect: 'dialog' } });
    await client.client.callTool({ name: 'connect_gh', arguments: {} });
    expect(dialog.collects).toHaveLength(1);
  });

  it('auto: the dialog when it can show, the page when it cannot', async () => {
    const withDisplay = await start({ unavailable: undefined });
    await withDisplay.client.client.callTool({ name: 'connect_gh', arguments: {} });
    expect(withDisplay.dialog.collects).toHaveLength(1);
    await client?.close();
    await running?.stop();
    const without = await start({ unavailable: 'there is no display' });
    expect(resultText(await without.client.client.callTool({ name: 'connect_gh', arguments: {} }))).toMatch(LINK);
    expect(without.dialog.collects).toHaveLength(0);
  });

  it('URL-mode elicitation: mode "url" with the link and the code, then notifications/elicitation/complete; the call ends connected', async () => {
    let url = '';
    const { client, store, opened } = await start({
      overrides: { collect: 'browser' },
      urlElicitation: (params) => {
        if (params.mode === 'url') url = params.url;
        return { action: 'accept' };
      },
    });
    const call = client.client.callTool({ name: 'connect_gh', arguments: {} });
    await vi.waitFor(() => expect(url).toMatch(LINK), WAIT);
    const [params] = client.elicitations;
    expect(params).toMatchObject({ mode: 'url', url, elicitationId: expect.any(String) });
    // The client opens it: the proxy does not open a second tab.
    expect(opened).toEqual([]);
    const { code } = await submit(url, { token: SECRET });
    expect(params?.message).toContain(code);
    expect(resultText(await call)).toContain('Connected to gh');
    expect(await store.get('gh', 'token')).toBe(SECRET);
    await vi.waitFor(() => expect(client.notifications('notifications/elicitation/complete')).toHaveLength(1), WAIT);
    const [complete] = client.notifications('notifications/elicitation/complete');
    expect(complete).toMatchObject({ params: { elicitationId: (params as { elicitationId: string }).elicitationId } });
  });

  it('declining the URL elicitation closes the page; Cancel in the page ends the call and completes the elicitation', async () => {
    let url = '';
    let decline = true;
    const { client, store } = await start({
      overrides: { collect: 'browser' },
      urlElicitation: (params) => {
        if (params.mode === 'url') url = params.url;
        return { action: decline ? 'decline' : 'accept' };
      },
    });
    expect(resultText(await client.client.callTool({ name: 'connect_gh', arguments: {} }))).toContain('Cancelled');
    await expect(http(url)).rejects.toThrow(/ECONNREFUSED/);
    decline = false;
    url = '';
    const call = client.client.callTool({ name: 'connect_gh', arguments: {} });
    await vi.waitFor(() => expect(url).toMatch(LINK), WAIT);
    await submit(url, 'cancel');
    expect(resultText(await call)).toContain('Cancelled');
    await vi.waitFor(() => expect(client.notifications('notifications/elicitation/complete')).toHaveLength(2), WAIT);
    expect(await store.get('gh', 'token')).toBeNull();
  });

  it('cancelling the tool call closes the page', async () => {
    let url = '';
    const { client } = await start({
      overrides: { collect: 'browser' },
      urlElicitation: (params) => {
        if (params.mode === 'url') url = params.url;
        return { action: 'accept' };
      },
    });
    const abort = new AbortController();
    const call = client.client.callTool({ name: 'connect_gh', arguments: {} }, undefined, { signal: abort.signal });
    await vi.waitFor(() => expect(url).toMatch(LINK), WAIT);
    abort.abort();
    await expect(call).rejects.toThrow();
    await vi.waitFor(async () => expect(await http(url).catch((error: Error) => error.message)).toMatch(/ECONNREFUSED/), WAIT);
  });

  it('while another process holds the prompt lock, no page opens; it opens once the lock is free', async () => {
    const held = await acquireDialogLock('gh');
    const { client, store, opened } = await start({ overrides: { collect: 'browser' } });
    const text = resultText(await client.client.callTool({ name: 'connect_gh', arguments: {} }));
    expect(text).toContain('Another mcp-keyproxy process is already asking');
    expect(text).not.toMatch(LINK);
    expect(opened).toEqual([]);
    await held.release();
    await vi.waitFor(() => expect(opened).toHaveLength(1), WAIT);
    const [url = ''] = opened;
    expect((await submit(url, { token: SECRET })).answer.status).toBe(200);
    await vi.waitFor(async () => expect(await store.get('gh', 'token')).toBe(SECRET), WAIT);
  });

  it('an expired link ends the call saying so, and nothing is stored', async () => {
    const { client, store } = await start({
      overrides: { collect: 'browser' },
      ttlMs: 30,
      urlElicitation: () => ({ action: 'accept' }),
    });
    expect(resultText(await client.client.callTool({ name: 'connect_gh', arguments: {} }))).toMatch(/expired/);
    expect(await store.get('gh', 'token')).toBeNull();
  });

  it('a value the keychain refuses is shown in the page, which stays open for another try', async () => {
    let url = '';
    const { client, store } = await start({
      overrides: { collect: 'browser' },
      urlElicitation: (params) => {
        if (params.mode === 'url') url = params.url;
        return { action: 'accept' };
      },
    });
    const set = store.set.bind(store);
    let fail = true;
    store.set = async (...args) => {
      if (fail) throw new Error('not a KeyproxyError');
      return set(...args);
    };
    const call = client.client.callTool({ name: 'connect_gh', arguments: {} });
    await vi.waitFor(() => expect(url).toMatch(LINK), WAIT);
    const form = await http(url);
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
    const refused = await http(url, 'POST', new URLSearchParams({ csrf, token: SECRET }).toString());
    expect(refused.body).toContain('Nothing was stored: the keychain did not store the values');
    fail = false;
    expect((await http(url, 'POST', new URLSearchParams({ csrf, token: SECRET }).toString())).status).toBe(200);
    expect(resultText(await call)).toContain('Connected to gh');
  });
});
