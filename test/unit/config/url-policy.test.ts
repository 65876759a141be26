import { describe, expect, it } from 'vitest';
import { assertUrlAllowed, describeUrl, isCleartextRemote, isLoopbackHost } from '../../../src/config/url-policy.js';
import { checkServer } from '../../../src/config/checks.js';
import { remoteServerSchema } from '../../../src/config/schema.js';

describe('url policy', () => {
  it('knows the loopback hosts', () => {
    for (const host of ['localhost', 'api.localhost', '127.0.0.1', '127.1.2.3', '[::1]'])
      expect(isLoopbackHost(new URL(`http://${host}/`).hostname)).toBe(true);
    for (const host of ['example.com', '10.0.0.1', '128.0.0.1', 'localhost.example.com', '[::2]'])
      expect(isLoopbackHost(new URL(`http://${host}/`).hostname)).toBe(false);
  });

  it('takes bare ::1 as loopback (the config check once missed it)', () => {
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('::2')).toBe(false);
  });

  it('takes 127.0.0.0/8 only with 1–3 digit octets of at most 255 (the config check once took any digits)', () => {
    for (const host of ['127.0.0.1', '127.255.255.255', '127.10.20.30']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['127.0.0.1234', '127.256.0.1', '127.0.0', '127.0.0.1.2', '127.0.0.-1', '127.0.0.1x'])
      expect(isLoopbackHost(host)).toBe(false);
  });

  it('tells plain http to a non-loopback host from the rest', () => {
    expect(isCleartextRemote(new URL('http://mcp.example.com/mcp'))).toBe(true);
    expect(isCleartextRemote(new URL('http://[::1]:8080/mcp'))).toBe(false);
    expect(isCleartextRemote(new URL('http://127.0.0.1/mcp'))).toBe(false);
    expect(isCleartextRemote(new URL('https://mcp.example.com/mcp'))).toBe(false);
  });

  it('is the policy the config check applies: loader and connector agree on every host', () => {
    const options = { serverName: 's', allowHttp: false };
    for (const url of ['http://[::1]:3000/mcp', 'http://127.1.2.3/mcp', 'http://api.localhost/mcp', 'http://mcp.example.com/mcp']) {
      const loaderRefuses = checkServer(['servers', 's'], 's', remoteServerSchema.parse({ url })).errors.length > 0;
      const connectorRefuses = (() => {
        try {
          assertUrlAllowed(new URL(url), options);
          return false;
        } catch {
          return true;
        }
      })();
      expect({ url, refused: loaderRefuses }).toEqual({ url, refused: connectorRefuses });
    }
  });

  it('refuses plain http to a non-loopback host unless allowed, and non-http schemes always', () => {
    const options = { serverName: 'linear', allowHttp: false };
    expect(() => assertUrlAllowed(new URL('https://mcp.example.com/mcp'), options)).not.toThrow();
    expect(() => assertUrlAllowed(new URL('http://127.0.0.1:8080/mcp'), options)).not.toThrow();
    expect(() => assertUrlAllowed(new URL('http://mcp.example.com/mcp'), options)).toThrow(
      /Server "linear": plain http:\/\/ to mcp\.example\.com .*"allow_http": true/,
    );
    expect(() => assertUrlAllowed(new URL('http://mcp.example.com/mcp'), { ...options, allowHttp: true })).not.toThrow();
    expect(() => assertUrlAllowed(new URL('ftp://mcp.example.com/'), { ...options, allowHttp: true })).toThrow(
      /ftp: URLs are not supported/,
    );
  });

  it('describes a URL without its query, which may carry a secret', () => {
    expect(describeUrl(new URL('https://mcp.example.com/sse?api_key=s3cret-value#x'))).toBe('https://mcp.example.com/sse');
  });
});
