import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyproxyError } from '../errors.js';

/** How long a login waits for the browser to come back, by default. */
export const CALLBACK_TIMEOUT_MS = 5 * 60_000;

/** A running loopback callback: where the authorization server sends the browser back, and the code it brings. */
export interface CallbackServer {
  /** `http://127.0.0.1:<port>/callback`. */
  readonly redirectUrl: string;
  /**
   * Resolves with the authorization code of the first request that carries `state` (single use: the server closes
   * then); rejects on an `error` answer, on timeout or when `signal` aborts. Requests with another state get 400.
   */
  waitForCode(state: () => string | undefined, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<string>;
  close(): Promise<void>;
}

const PAGE = (title: string, text: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;

function answer(res: ServerResponse, status: number, title: string, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'",
    'referrer-policy': 'no-referrer',
  });
  res.end(PAGE(title, text));
}

/** Starts the loopback callback on 127.0.0.1 (`port` 0 or absent: a free port). */
export async function startCallbackServer(port = 0): Promise<CallbackServer> {
  let deliver: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== '/callback' || !deliver) {
      answer(res, 404, 'Not found', 'This page is not part of a login under way.');
      return;
    }
    deliver(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new KeyproxyError(
          'USAGE',
          `Cannot listen on 127.0.0.1:${port} for the OAuth callback (${error.code ?? error.message}). ` +
            (port ? 'Another program uses that port: free it, or change "callback_port".' : ''),
          { cause: error },
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    redirectUrl: `http://127.0.0.1:${bound}/callback`,
    close,
    waitForCode: (state, options = {}) =>
      new Promise<string>((resolve, reject) => {
        const timeoutMs = options.timeoutMs ?? CALLBACK_TIMEOUT_MS;
        const finish = (outcome: () => void): void => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          deliver = undefined;
          outcome();
          void close();
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new KeyproxyError('INTERRUPTED', `No login arrived within ${Math.round(timeoutMs / 1000)} s; start it again.`)),
            ),
          timeoutMs,
        );
        timer.unref();
        const onAbort = (): void => finish(() => reject(options.signal?.reason ?? new Error('login cancelled')));
        if (options.signal?.aborted) return onAbort();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        deliver = (req, res) => {
          const params = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams;
          const expected = state();
          // A request without the flow's state is not the authorization server's answer (another page, a forgery).
          if (!expected || params.get('state') !== expected) {
            answer(res, 400, 'Login not recognised', 'This answer does not belong to the login under way.');
            return;
          }
          const error = params.get('error');
          const code = params.get('code');
          if (error || !code) {
            answer(res, 400, 'Login failed', 'The authorization server did not grant access. You can close this tab.');
            const reason = (params.get('error_description') ?? error ?? 'no code').replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
            finish(() => reject(new KeyproxyError('DOWNSTREAM_FAILED', `The authorization server refused the login: ${reason}.`)));
            return;
          }
          answer(res, 200, 'Logged in', 'mcp-keyproxy has the login. You can close this tab.');
          finish(() => resolve(code));
        };
      }),
  };
}
