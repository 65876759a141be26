import { describe, expect, it } from 'vitest';
import { describeCredentialLike } from '../../../src/config/credential-lint.js';
import { parseConfig } from '../../../src/config/parse.js';

// Built at run time so secret scanners do not flag the fixtures.
const ghToken = 'ghp_' + 'aB3dE5gH7jK9mN1pQ3rS5tU7vW9xY1zA2bC4'.slice(0, 36);
const randomKey = 'Zq8' + 'x7Kp2Lm9Rt4Vw6Ny1Bc3Hd5Jf0Gs'.repeat(2);

describe('describeCredentialLike', () => {
  it.each([
    ['sk-' + 'proj' + '-abcdefghijklmnopqrstuvwxyz12', /sk-/],
    ['sk_' + 'live_' + 'abcdefghijklmn0123', /Stripe/],
    [ghToken, /GitHub token/],
    ['github_' + 'pat_' + '11ABCDEFG0abcdefghijklmnop', /GitHub/],
    ['xox' + 'b-1234567890-abcdefghij', /Slack/],
    ['AKIA' + 'IOSFODNN7EXAMPLE', /AWS/],
    ['glpat-' + 'abcdefghij0123456789', /GitLab/],
    ['AIza' + 'SyA1234567890abcdefghijklmnopqrstu', /Google/],
    ['eyJ' + 'hbGciOiJIUzI1NiJ9.eyJ' + 'zdWIiOiIxMjM0In0.sig', /JWT/],
    [randomKey, /random/],
    ['Bearer ' + ghToken, /GitHub/],
    ['--api-key=' + randomKey, /random/],
  ])('flags %s', (value, description) => {
    expect(describeCredentialLike(value)).toMatch(description);
  });

  it.each([
    'mcp-server-everything',
    '--allow-dangerous-operations-everywhere-please',
    '/usr/local/lib/node_modules/some-package/dist/index.js',
    'https://api.example.com/v1/some/long/path?x=Zq8x7Kp2Lm9Rt4Vw6Ny1',
    '@modelcontextprotocol/server-filesystem',
    'sk-',
    'a sentence with many different words in it, long enough',
    // Long, mixed case and digits, but repetitive: too little entropy for a key.
    'aB1'.repeat(12),
  ])('leaves %s alone', (value) => {
    expect(describeCredentialLike(value)).toBeUndefined();
  });
});

describe('credential warnings from the loader', () => {
  it('warns about literal credentials in env, args and headers without quoting them', () => {
    const text = JSON.stringify({
      servers: {
        gh: { command: 'x', args: ['--token', ghToken], env: { GITHUB_TOKEN: ghToken, SAFE: '${secret:T}' }, secrets: { T: {} } },
        api: { url: 'https://api.example/mcp', headers: { 'X-Api-Key': randomKey } },
      },
    });
    const { warnings } = parseConfig(text, 'proxy.config.json');
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^proxy\.config\.json: servers\.gh\.args\[1\]: .*GitHub token.*not in "args"/);
    expect(warnings[1]).toMatch(/^proxy\.config\.json: servers\.gh\.env\.GITHUB_TOKEN: /);
    expect(warnings[1]).toContain('`mcp-keyproxy secrets set gh GITHUB_TOKEN`');
    expect(warnings[1]).toContain('"${secret:GITHUB_TOKEN}"');
    expect(warnings[2]).toContain('servers.api.headers.X-Api-Key:');
    expect(warnings[2]).toContain('secrets set api X_API_KEY');
    for (const warning of warnings) {
      expect(warning).not.toContain(ghToken);
      expect(warning).not.toContain(randomKey);
      expect(warning).not.toContain(ghToken.slice(4, 16));
    }
  });

  it('does not warn about references or their literal frame', () => {
    const text = JSON.stringify({
      servers: { s: { url: 'https://a.example/mcp', headers: { Authorization: 'Bearer ${secret:T}' }, secrets: { T: {} } } },
    });
    expect(parseConfig(text, 'c.json').warnings).toEqual([]);
  });
});
