import { KeyproxyError } from '../../errors.js';

/** True for hosts that never leave the machine: `localhost` (and `*.localhost`), 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) ||
    hostname === '[::1]' ||
    hostname === '::1'
  );
}

/** The URL as safe to log: origin and path only (a query may carry a secret, e.g. `?api_key=`). */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * Refuses a URL the credentials must not travel to: anything but http(s), and plain http to a non-loopback host
 * unless `allowHttp`. The config loader checks the configured URL already; this runs again at connect time and for
 * every redirect target, which the loader never sees.
 */
export function assertUrlAllowed(url: URL, options: { serverName: string; allowHttp: boolean }): void {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KeyproxyError('CONFIG_INVALID', `Server "${options.serverName}": ${url.protocol} URLs are not supported; use https://.`);
  }
  if (url.protocol === 'http:' && !options.allowHttp && !isLoopbackHost(url.hostname)) {
    throw new KeyproxyError(
      'CONFIG_INVALID',
      `Server "${options.serverName}": plain http:// to ${url.host} would send its credentials in clear text; use https://, or set "allow_http": true in its config if you accept that.`,
    );
  }
}

/** True when the URL goes over plain http to a host that is not loopback (allowed only with `allow_http`). */
export function isCleartextRemote(url: URL): boolean {
  return url.protocol === 'http:' && !isLoopbackHost(url.hostname);
}
