import { KeyproxyError } from '../errors.js';

/** One octet of a dotted-quad IPv4 address: 1–3 digits, at most 255. */
function isOctet(part: string): boolean {
  return /^\d{1,3}$/.test(part) && Number(part) <= 255;
}

/** True for hosts that never leave the machine: `localhost` (and `*.localhost`), 127.0.0.0/8 and ::1 (bare or bracketed). */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (hostname === '[::1]' || hostname === '::1') return true;
  const octets = hostname.split('.');
  return octets.length === 4 && octets[0] === '127' && octets.every(isOctet);
}

/** The URL as safe to log: origin and path only (a query may carry a secret, e.g. `?api_key=`). */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** True when the URL goes over plain http to a host that is not loopback (allowed only with `allow_http`). */
export function isCleartextRemote(url: URL): boolean {
  return url.protocol === 'http:' && !isLoopbackHost(url.hostname);
}

/**
 * Refuses a URL the credentials must not travel to: anything but http(s), and plain http to a non-loopback host
 * unless `allowHttp`. The config loader checks the configured URL already; the remote connector runs this again at
 * connect time and for every redirect target, which the loader never sees.
 */
export function assertUrlAllowed(url: URL, options: { serverName: string; allowHttp: boolean }): void {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KeyproxyError('CONFIG_INVALID', `Server "${options.serverName}": ${url.protocol} URLs are not supported; use https://.`);
  }
  if (isCleartextRemote(url) && !options.allowHttp) {
    throw new KeyproxyError(
      'CONFIG_INVALID',
      `Server "${options.serverName}": plain http:// to ${url.host} would send its credentials in clear text; use https://, or set "allow_http": true in its config if you accept that.`,
    );
  }
}
