import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../../log/logger.js';
import { requestSignal } from './signal-fanout.js';
import { assertUrlAllowed, describeUrl } from '../../config/url-policy.js';

/** What the guarded fetch needs to know about the server it talks to. */
export interface GuardedFetchOptions {
  serverName: string;
  /** The configured URL's origin: the only one credentials are sent to. */
  origin: string;
  /** Lower-case names of the configured headers that carry a secret. */
  secretHeaders: ReadonlySet<string>;
  allowHttp: boolean;
  logger: Logger;
  /** The underlying fetch (tests pass their own). */
  fetch?: FetchLike;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** Credential headers withheld from another origin even when the config does not mark them as secret. */
const ALWAYS_SENSITIVE = ['authorization', 'proxy-authorization', 'cookie'];

/**
 * A fetch that follows redirects itself (`redirect: 'manual'`) so it can decide, hop by hop, what travels: a hop
 * to another origin gets no secret-bearing header (and is logged), a hop to a URL the policy refuses (plain http
 * to a non-loopback host) is not made. The SDK is told to leave redirects to this fetch (`redirectPolicy:
 * 'follow'`); its own same-origin policy would refuse cross-origin redirects outright. Each request gets a signal
 * of its own that follows the one the SDK shares between requests (see `SignalFanout`).
 */
export function createGuardedFetch(options: GuardedFetchOptions): FetchLike {
  const base = options.fetch ?? fetch;
  const sensitive = new Set([...ALWAYS_SENSITIVE, ...options.secretHeaders]);
  return async (input, init) => {
    let url = new URL(input);
    const method = (init?.method ?? 'GET').toUpperCase();
    const original = new Headers(init?.headers);
    const signal = init?.signal ? requestSignal(init.signal) : undefined;
    for (let hop = 0; ; hop += 1) {
      const headers = url.origin === options.origin ? original : withoutSensitive(original, sensitive);
      const response = await base(url, { ...init, headers, signal, redirect: 'manual' });
      const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get('location') : null;
      // 301, 302 and 303 turn a POST into a GET without body: meaningless for JSON-RPC, so the SDK gets the
      // redirect response and reports it as an error instead.
      const keepsMethod = response.status === 307 || response.status === 308 || method === 'GET' || method === 'HEAD';
      if (location === null || !keepsMethod || hop === MAX_REDIRECTS) return response;
      const target = new URL(location, url);
      await response.body?.cancel();
      assertUrlAllowed(target, { serverName: options.serverName, allowHttp: options.allowHttp });
      if (target.origin !== options.origin && target.origin !== url.origin) {
        const withheld = [...original.keys()].filter((name) => sensitive.has(name));
        options.logger.warn(
          { server: options.serverName, from: describeUrl(url), to: describeUrl(target), withheld },
          `server "${options.serverName}" redirected to another origin (${target.origin}); its credentials are not sent there`,
        );
      }
      url = target;
    }
  };
}

function withoutSensitive(headers: Headers, sensitive: ReadonlySet<string>): Headers {
  const copy = new Headers(headers);
  for (const name of sensitive) copy.delete(name);
  return copy;
}
