import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { buildJsonSchema } from '../../../src/config/write-json-schema.js';
import { expectKeyproxyError } from './helpers.js';

const local = (server: Record<string, unknown>) => JSON.stringify({ servers: { s: { command: 'node', ...server } } });

describe('secret sources in the config', () => {
  it('takes every kind of "from"', () => {
    const config = parseConfig(
      local({
        env: { A: '${secret:A}', B: '${secret:B}', C: '${secret:C}', D: '${secret:D}', E: '${secret:E}', F: '${secret:F}' },
        secrets: {
          A: { from: 'env:CI_TOKEN' },
          B: { from: 'file:/run/secrets/b' },
          C: { from: 'credential:c_token' },
          D: { from: { command: ['pass', 'show', 'mcp/d'], first_line: true } },
          E: { from: 'op://Dev/Item/field' },
          F: { from: 'op://Dev/Item/section/field' },
        },
      }),
      'p.json',
    );
    const secrets = config.servers.s!.secrets;
    expect(secrets.A!.from).toBe('env:CI_TOKEN');
    expect(secrets.D!.from).toEqual({ command: ['pass', 'show', 'mcp/d'], first_line: true });
    expect(secrets.F!.from).toBe('op://Dev/Item/section/field');
  });

  it('reads the shorthand "NAME": "op://…" as a declaration injected as the variable of the same name', () => {
    const config = parseConfig(local({ secrets: { STITCH_API_KEY: 'op://Developer/Stitch/api-key' } }), 'p.json');
    const server = config.servers.s!;
    expect(server.secrets.STITCH_API_KEY).toMatchObject({ from: 'op://Developer/Stitch/api-key', required: true });
    expect('env' in server && server.env).toEqual({ STITCH_API_KEY: '${secret:STITCH_API_KEY}' });
    expect(config.warnings).toEqual([]);
  });

  it('leaves an env entry that already uses or names a sourced secret as written', () => {
    const config = parseConfig(
      local({ env: { TOKEN: 'Bearer ${secret:T}', U: 'literal' }, secrets: { T: 'env:X', U: 'env:Y' } }),
      'p.json',
    );
    expect('env' in config.servers.s! && config.servers.s.env).toEqual({ TOKEN: 'Bearer ${secret:T}', U: 'literal' });
  });

  it('refuses an unknown source kind and a short op:// reference, saying what is accepted', async () => {
    const bad = await expectKeyproxyError(() => parseConfig(local({ secrets: { A: { from: 'vault:x' } } }), 'p.json'), 'CONFIG_INVALID');
    expect(bad.message).toContain('"env:VAR", "file:/path"');
    const short = await expectKeyproxyError(() => parseConfig(local({ secrets: { A: 'op://Vault/field' } }), 'p.json'), 'CONFIG_INVALID');
    expect(short.message).toContain('op://Vault/Item/field');
    await expectKeyproxyError(() => parseConfig(local({ secrets: { A: { from: { command: [] } } } }), 'p.json'), 'CONFIG_INVALID');
  });

  it('puts "from" and the shorthand in the JSON Schema', () => {
    const text = JSON.stringify(buildJsonSchema());
    expect(text).toContain('credential:NAME');
    expect(text).toContain('first_line');
  });
});
