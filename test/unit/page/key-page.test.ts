import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { credentialTemplate, type FormValues } from '../../../src/dialog/template.js';
import { openKeyPage, PAGE_TTL_MS, type KeyPage } from '../../../src/page/key-page.js';

const template = credentialTemplate('svc', { TOKEN: { label: 'Token' } }, ['TOKEN'], 'KX7P-M4QZ');

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw HTTP request with exactly the headers given (a browser would add Host and Origin itself). */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function post(page: KeyPage, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  return raw(page.url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(page.url).origin, ...headers },
  });
}

const csrfOf = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

const pages: KeyPage[] = [];
async function open(
  options: { accept?: (values: FormValues) => Promise<string | undefined>; now?: () => number; ttlMs?: number; signal?: AbortSignal } = {},
) {
  const stored: FormValues[] = [];
  const refused: string[] = [];
  const page = await openKeyPage({
    template,
    accept: options.accept ?? (async (values) => void stored.push(values)),
    now: options.now,
    ttlMs: options.ttlMs,
    signal: options.signal,
    onRefused: (reason) => refused.push(reason),
  });
  pages.push(page);
  return { page, stored, refused };
}

afterEach(async () => {
  await Promise.all(pages.splice(0).map((page) => page.close()));
});

describe('openKeyPage', () => {
  it('listens on 127.0.0.1 at a random port under a 256-bit path', async () => {
    const { page } = await open();
    const { page: other } = await open();
    const url = new URL(page.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.pathname).toMatch(/^\/[A-Za-z0-9_-]{43}$/);
    expect(url.search).toBe('');
    expect(new URL(other.url).pathname).not.toBe(url.pathname);
  });

  it('serves the form once with strict headers; a second GET is refused', async () => {
    const { page, refused } = await open();
    const first = await raw(page.url);
    expect(first.status).toBe(200);
    expect(first.body).toContain('KX7P-M4QZ');
    expect(first.headers['content-security-policy']).toMatch(/^default-src 'none'/);
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.headers['x-frame-options']).toBe('DENY');
    expect(first.headers['referrer-policy']).toBe('same-origin');
    const second = await raw(page.url);
    expect(second.status).toBe(410);
    expect(second.body).not.toContain('KX7P-M4QZ');
    expect(refused).toContain('the link was opened already');
  });

  it('answers nothing but its own path', async () => {
    const { page } = await open();
    expect((await raw(`${new URL(page.url).origin}/`)).status).toBe(404);
    expect((await raw(`${page.url}x`)).status).toBe(404);
    // Not used up by the wrong paths.
    expect((await raw(page.url)).status).toBe(200);
  });

  it('stores a valid submit and ends "submitted"; the server is gone after', async () => {
    const { page, stored } = await open();
    const csrf = csrfOf((await raw(page.url)).body);
    const answer = await post(page, new URLSearchParams({ csrf, action: 'save', TOKEN: 'a-long-enough-token' }).toString());
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('Stored in your OS keychain');
    expect(answer.body).not.toContain('a-long-enough-token');
    expect(await page.ended).toBe('submitted');
    expect(stored).toEqual([{ TOKEN: 'a-long-enough-token' }]);
    await expect(raw(page.url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses a foreign Origin, a missing or wrong CSRF token, and a foreign Host, storing nothing and staying open', async () => {
    const { page, stored, refused } = await open();
    const csrf = csrfOf((await raw(page.url)).body);
    const body = (token?: string) => new URLSearchParams({ ...(token ? { csrf: token } : {}), TOKEN: 'a-long-enough-token' }).toString();
    expect((await post(page, body(csrf), { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post(page, body())).status).toBe(403);
    // One character changed (ending in "A" already, 1 time in 64, it was no change at all).
    expect((await post(page, body(`${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`))).status).toBe(403);
    expect((await post(page, body(csrf), { host: `localhost:${new URL(page.url).port}` })).status).toBe(403);
    expect(stored).toEqual([]);
    expect(refused).toEqual(
      expect.arrayContaining([
        'the form was not sent from this page',
        'a missing or wrong CSRF token',
        expect.stringMatching(/127\.0\.0\.1/),
      ]),
    );
    expect((await post(page, body(csrf))).status).toBe(200);
    expect(stored).toHaveLength(1);
  });

  it('refuses a POST before the form was served (no one can hold its token)', async () => {
    const { page, stored } = await open();
    expect((await post(page, 'csrf=guess&TOKEN=a-long-enough-token')).status).toBe(403);
    expect(stored).toEqual([]);
  });

  it('re-shows the form with the problem when a value breaks a rule, and with the keychain error when storing fails', async () => {
    let fail = true;
    const { page } = await open({ accept: async () => (fail ? 'the keychain is locked' : undefined) });
    const csrf = csrfOf((await raw(page.url)).body);
    const short = await post(page, new URLSearchParams({ csrf, TOKEN: 'short' }).toString());
    expect(short.status).toBe(422);
    expect(short.body).toMatch(/at least 8 characters/);
    expect(short.body).not.toContain('value="short"');
    const locked = await post(page, new URLSearchParams({ csrf, TOKEN: 'a-long-enough-token' }).toString());
    expect(locked.status).toBe(500);
    expect(locked.body).toContain('Nothing was stored: the keychain is locked');
    fail = false;
    expect((await post(page, new URLSearchParams({ csrf, TOKEN: 'a-long-enough-token' }).toString())).status).toBe(200);
    expect(await page.ended).toBe('submitted');
  });

  it('ends "cancelled" on Cancel, without values', async () => {
    const { page, stored } = await open();
    const csrf = csrfOf((await raw(page.url)).body);
    expect((await post(page, `csrf=${csrf}&action=cancel`)).body).toContain('Nothing was stored');
    expect(await page.ended).toBe('cancelled');
    expect(stored).toEqual([]);
  });

  it('expires: past its time every request is refused, and the timer ends it "expired"', async () => {
    let clock = 1_000_000;
    const { page } = await open({ now: () => clock, ttlMs: 60_000 });
    clock += 60_000;
    const late = await raw(page.url);
    expect(late.status).toBe(410);
    expect(late.body).toContain('expired');
    const { page: quick } = await open({ ttlMs: 20 });
    expect(await quick.ended).toBe('expired');
  });

  it('never lives longer than ten minutes, whatever it is asked', async () => {
    let clock = 0;
    const { page } = await open({ now: () => clock, ttlMs: PAGE_TTL_MS * 6 });
    clock = PAGE_TTL_MS;
    expect((await raw(page.url)).status).toBe(410);
  });

  it('closes when its signal aborts', async () => {
    const abort = new AbortController();
    const { page } = await open({ signal: abort.signal });
    abort.abort();
    expect(await page.ended).toBe('closed');
    await expect(raw(page.url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses other methods and bodies that are not a form', async () => {
    const { page } = await open();
    expect((await raw(page.url, { method: 'PUT', headers: { origin: new URL(page.url).origin } })).status).toBe(405);
    expect((await post(page, '{}', { 'content-type': 'application/json' })).status).toBe(415);
  });
});
