import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FormTemplate, FormValues } from '../dialog/template.js';
import { CONTENT_SECURITY_POLICY, formPage, messagePage } from './page-html.js';
import { fieldProblems, parseForm, requestProblem, tokensMatch } from './page-request.js';

/** How long a link stays valid unless told otherwise. */
export const PAGE_TTL_MS = 10 * 60_000;

/** Largest form body read: every field at the value limit, URL-encoded (up to 3 bytes per byte), and then some. */
const MAX_BODY_BYTES = 1024 * 1024;

/** How the page ended: values stored, Cancel pressed, the link expired, or closed by its owner. */
export type PageEnd = 'submitted' | 'cancelled' | 'expired' | 'closed';

/** What {@link openKeyPage} needs. */
export interface KeyPageOptions {
  /** What to ask for: the same form template the native dialog gets. */
  template: FormTemplate;
  /**
   * Stores the submitted values (already checked against the fields' rules); resolves with a problem to show in the
   * page (nothing was stored, the user may try again), or undefined once they are stored. The values go nowhere else.
   */
  accept: (values: FormValues) => Promise<string | undefined>;
  /** Milliseconds until the link expires (at most {@link PAGE_TTL_MS}). */
  ttlMs?: number;
  /** Aborting closes the page (the tool call was cancelled, the proxy stops). */
  signal?: AbortSignal;
  /** The clock (tests hand in their own). */
  now?: () => number;
  /** Told why a request was refused (names only, never a value), for the log. */
  onRefused?: (reason: string) => void;
}

/** One open page. */
export interface KeyPage {
  /** `http://127.0.0.1:<port>/<token>`: the unguessable link, the only path that answers. */
  readonly url: string;
  /** Settles once the page is over; its server is closed by then. */
  readonly ended: Promise<PageEnd>;
  /** Closes the page now (`closed`), unless it has ended already. */
  close(): Promise<void>;
}

/** Headers on every answer: nothing cached, nothing framed, no sniffing, no referrer beyond this origin. */
const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function send(response: ServerResponse, status: number, html: string, after?: () => void): void {
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
  });
  response.end(html, after);
}

/** The request body as text, or undefined when it is larger than {@link MAX_BODY_BYTES}. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Serves one page on 127.0.0.1 that asks for the template's fields and hands what is submitted to `accept` (the
 * keychain). A random port and a 256-bit random path; the first GET of the link serves the form and every later
 * one is refused (the link works once); a POST needs the page's own Origin and the CSRF token of that form; the
 * link expires after `ttlMs`; no script, and a Content-Security-Policy that loads nothing from anywhere. No value
 * is ever in a URL: the form posts its body.
 */
export async function openKeyPage(options: KeyPageOptions): Promise<KeyPage> {
  const now = options.now ?? Date.now;
  const ttlMs = Math.min(options.ttlMs ?? PAGE_TTL_MS, PAGE_TTL_MS);
  const expiresAt = now() + ttlMs;
  const path = `/${randomBytes(32).toString('base64url')}`;
  const csrfToken = randomBytes(32).toString('base64url');
  const { template } = options;
  let origin = '';
  let served = false;
  let busy = false;
  let end: PageEnd | undefined;
  let resolveEnded!: (end: PageEnd) => void;
  const ended = new Promise<PageEnd>((resolve) => (resolveEnded = resolve));
  const minutes = Math.max(1, Math.round(ttlMs / 60_000));

  const server: Server = createServer((request, response) => {
    void handle(request, response).catch(() => {
      if (!response.headersSent)
        send(response, 500, messagePage('Something went wrong', 'Nothing was stored. Close this tab and ask for a new link.'));
      else response.destroy();
    });
  });

  const finish = (how: PageEnd): void => {
    if (end !== undefined) return;
    end = how;
    clearTimeout(expiry);
    server.close();
    // Keep-alive connections (the browser's) would hold the port open; the last answer has been written already.
    server.closeAllConnections();
    resolveEnded(how);
  };

  const refuse = (response: ServerResponse, status: number, reason: string, message: string): void => {
    options.onRefused?.(reason);
    send(response, status, messagePage('This request was refused', message));
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const problem = requestProblem(request.method ?? '', { host: request.headers.host, origin: request.headers.origin }, origin);
    if (problem) return refuse(response, request.method === 'POST' ? 403 : 400, problem, `Refused: ${problem}.`);
    if (request.url !== path) return refuse(response, 404, 'an unknown path', 'There is nothing here.');
    if (end !== undefined || now() >= expiresAt) {
      return refuse(response, 410, 'the link has expired', 'This link has expired. Ask your AI app for a new one (call connect_… again).');
    }
    if (request.method === 'GET') {
      if (served) {
        return refuse(
          response,
          410,
          'the link was opened already',
          'This link has been opened already, and works only once. Go back to the tab it opened in, or ask your AI app for a new one.',
        );
      }
      served = true;
      return send(response, 200, formPage(template, { action: path, csrfToken, minutes }));
    }
    if (request.method !== 'POST') {
      response.setHeader('Allow', 'GET, POST');
      return refuse(response, 405, `method ${request.method ?? ''}`, 'Only GET and POST are answered here.');
    }
    if (!(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return refuse(response, 415, 'not a form body', 'Only the form of this page is accepted.');
    }
    const body = await readBody(request);
    if (body === undefined) return refuse(response, 413, 'the form is too large', 'The form is too large; nothing was stored.');
    const form = parseForm(body, template.fields);
    if (!served || !tokensMatch(form.csrf, csrfToken)) {
      return refuse(response, 403, 'a missing or wrong CSRF token', 'Refused: the form did not come from this page. Nothing was stored.');
    }
    if (busy) return refuse(response, 409, 'a second submit while the first is stored', 'The values are being saved already.');
    if (form.action === 'cancel') {
      send(response, 200, messagePage('Cancelled', 'Nothing was stored. You can close this tab.'), () => finish('cancelled'));
      return;
    }
    const problems = fieldProblems(template.fields, form.values);
    if (Object.keys(problems).length > 0) {
      return send(response, 422, formPage(template, { action: path, csrfToken, minutes, problems }));
    }
    busy = true;
    let error: string | undefined;
    try {
      error = await options.accept(form.values);
    } catch (failure) {
      error = failure instanceof Error ? failure.message : 'the keychain did not store the values';
    } finally {
      busy = false;
    }
    if (end !== undefined) return refuse(response, 410, 'the page closed while storing', 'This page was closed meanwhile.');
    if (error !== undefined) {
      return send(response, 500, formPage(template, { action: path, csrfToken, minutes, error: `Nothing was stored: ${error}` }));
    }
    send(response, 200, messagePage('Saved', 'Stored in your OS keychain. You can close this tab and go back to your AI app.'), () =>
      finish('submitted'),
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The page must never keep the proxy alive on its own; its owner closes it (signal) when the proxy stops.
  server.unref();
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const expiry = setTimeout(() => finish('expired'), ttlMs);
  expiry.unref();
  const onAbort = (): void => finish('closed');
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  void ended.then(() => options.signal?.removeEventListener('abort', onAbort));

  return {
    url: `${origin}${path}`,
    ended,
    close: async () => {
      finish('closed');
      await ended;
    },
  };
}
