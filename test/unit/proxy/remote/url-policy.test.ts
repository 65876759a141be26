import { describe, expect, it } from 'vitest';
import { assertUrlAllowed, describeUrl, isLoopbackHost } from '../../../../src/proxy/remote/url-policy.js';

describe('url policy', () => {
  it('knows the loopback hosts', () => {
    for (const host of ['localhost', 'api.localhost', '127.0.0.1', '127.1.2.3', '[::1]'])
      expect(isLoopbackHost(new URL(`http://${host}/`).hostname)).toBe(true);
    for (const host of ['example.com', '10.0.0.1', '128.0.0.1', 'localhost.example.com', '[::2]'])
      expect(isLoopbackHost(new URL(`http://${host}/`).hostname)).toBe(false);
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
