import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { expectKeyproxyError } from './helpers.js';

const file = '/cfg/proxy.config.json';
const load = (servers: Record<string, unknown>) => parseConfig(JSON.stringify({ servers }), file);
const invalid = async (servers: Record<string, unknown>) => (await expectKeyproxyError(() => load(servers), 'CONFIG_INVALID')).message;

describe('load-time reference checks', () => {
  it('refuses a ${secret:…} not declared in the server secrets, naming file and JSON path', async () => {
    const message = await invalid({ gh: { command: 'x', env: { TOKEN: '${secret:TOKN}' }, secrets: { TOKEN: {} } } });
    expect(message).toContain(`${file}: servers.gh.env.TOKEN: \${secret:TOKN} is not declared`);
    expect(message).toContain('declared: TOKEN');
  });

  it('refuses a secret in args, command or cwd and explains why', async () => {
    const secrets = { K: {} };
    const inArgs = await invalid({ s: { command: 'x', args: ['--key', '${secret:K}'], env: { K: '${secret:K}' }, secrets } });
    expect(inArgs).toContain(`${file}: servers.s.args[1]: `);
    expect(inArgs).toMatch(/visible to every local user/);
    expect(inArgs).toMatch(/"env"/);
    expect(await invalid({ s: { command: '${secret:K}', env: { K: '${secret:K}' }, secrets } })).toContain('servers.s.command:');
    expect(await invalid({ s: { command: 'x', cwd: '/d/${secret:K}', env: { K: '${secret:K}' }, secrets } })).toContain('servers.s.cwd:');
  });

  it('allows ${env:…} and escaped $${secret:…} in args', () => {
    expect(() => load({ s: { command: 'x', args: ['${env:HOME}', '$${secret:K}'] } })).not.toThrow();
  });

  it('reports malformed references with their path', async () => {
    expect(await invalid({ s: { command: 'x', env: { A: '${foo:bar}' } } })).toContain(
      `${file}: servers.s.env.A: malformed reference: unknown kind "foo"`,
    );
    expect(await invalid({ s: { url: 'https://e.example/mcp', headers: { 'X-Key': '${secret:}' } } })).toContain(
      'servers.s.headers.X-Key: malformed reference',
    );
  });

  it('warns about a secret in a remote url but accepts it', () => {
    const config = load({ r: { url: 'https://e.example/mcp?key=${secret:KEY}', secrets: { KEY: {} } } });
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]).toMatch(/^\/cfg\/proxy\.config\.json: servers\.r\.url: a secret in the URL is allowed/);
  });

  it('refuses plain http to a non-loopback host unless allow_http', async () => {
    expect(await invalid({ r: { url: 'http://e.example/mcp' } })).toContain('servers.r.url: plain http://');
    expect(() => load({ r: { url: 'http://127.0.0.1:3000/mcp' } })).not.toThrow();
    expect(() => load({ r: { url: 'http://localhost/mcp' } })).not.toThrow();
    expect(() => load({ r: { url: 'http://e.example/mcp', allow_http: true } })).not.toThrow();
  });

  it('refuses a default on a password field and warns about unused declarations', async () => {
    expect(await invalid({ s: { command: 'x', secrets: { P: { default: 'x' } } } })).toContain(
      'servers.s.secrets.P.default: a password field cannot have a default',
    );
    const config = load({ s: { command: 'x', secrets: { UNUSED: { field_type: 'text' } } } });
    expect(config.warnings).toEqual([
      `${file}: servers.s.secrets.UNUSED: secret "UNUSED" is declared but not referenced in "env"; it would be collected but never injected`,
    ]);
  });

  it('reports every error of the file at once', async () => {
    const message = await invalid({ a: { command: 'x', env: { A: '${secret:NOPE}' } }, b: { command: 'x', args: ['${env:}'] } });
    expect(message).toContain('servers.a.env.A:');
    expect(message).toContain('servers.b.args[0]:');
  });
});
