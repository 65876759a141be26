import { describe, expect, it } from 'vitest';
import {
  findReferences,
  parseTemplate,
  referencedSecretNames,
  resolveRemoteServer,
  resolveServerCommand,
  resolveServerEnv,
  resolveTemplate,
} from '../../../src/config/references.js';
import { localServerSchema, remoteServerSchema } from '../../../src/config/schema.js';
import { expectKeyproxyError } from './helpers.js';

const lookup = (secrets: Record<string, string>, env: Record<string, string>) => ({
  secret: (name: string) => secrets[name],
  env: (name: string) => env[name],
});

describe('parseTemplate', () => {
  it('splits literals and references', () => {
    expect(parseTemplate('Bearer ${secret:TOKEN} for ${env:USER}!')).toEqual([
      { kind: 'literal', text: 'Bearer ' },
      { kind: 'secret', name: 'TOKEN' },
      { kind: 'literal', text: ' for ' },
      { kind: 'env', name: 'USER' },
      { kind: 'literal', text: '!' },
    ]);
  });

  it('treats $${ as a literal ${ and other dollars as text', () => {
    expect(parseTemplate('$${secret:X} costs $5 $$')).toEqual([{ kind: 'literal', text: '${secret:X} costs $5 $$' }]);
    expect(findReferences('$${env:A}${env:B}')).toEqual([{ kind: 'env', name: 'B' }]);
  });

  it.each([
    ['${secret:}', /has no name/],
    ['${foo:bar}', /unknown kind "foo"/],
    ['${TOKEN}', /without a kind/],
    ['abc ${secret:X', /without a closing/],
    ['${env:1BAD}', /invalid env name/],
    ['${secret:has space}', /invalid secret name/],
  ])('refuses the malformed reference %s', async (template, message) => {
    const error = await expectKeyproxyError(() => parseTemplate(template), 'CONFIG_INVALID');
    expect(error.message).toMatch(message);
  });
});

describe('resolveTemplate', () => {
  it('substitutes secrets and env variables', () => {
    expect(resolveTemplate('a=${secret:S};b=${env:E};c=$${env:E}', lookup({ S: 's3cr3t' }, { E: 'e' }))).toBe('a=s3cr3t;b=e;c=${env:E}');
  });

  it('keeps an empty env variable but refuses an unset one, naming it', async () => {
    expect(resolveTemplate('[${env:EMPTY}]', lookup({}, { EMPTY: '' }))).toBe('[]');
    const error = await expectKeyproxyError(() => resolveTemplate('${env:NOPE_VAR}', lookup({}, {})), 'CONFIG_INVALID');
    expect(error.message).toContain('NOPE_VAR');
  });

  it('throws SECRET_MISSING naming a secret without value', async () => {
    const error = await expectKeyproxyError(() => resolveTemplate('${secret:API_KEY}', lookup({}, {})), 'SECRET_MISSING');
    expect(error.message).toContain('API_KEY');
    expect(error.message).toContain('mcp-keyproxy secrets set');
  });
});

describe('server helpers', () => {
  const local = localServerSchema.parse({
    command: '${env:NODE_BIN}',
    args: ['--home', '${env:HOME_DIR}/x'],
    env: { TOKEN: '${secret:TOKEN}', URL: 'https://${env:HOST}/?k=${secret:OTHER}', PLAIN: 'v' },
    secrets: { TOKEN: {}, OTHER: {} },
  });
  const remote = remoteServerSchema.parse({
    url: 'https://api.example/mcp?key=${secret:Q}',
    headers: { Authorization: 'Bearer ${secret:H}', 'X-Env': '${env:E}' },
    secrets: { Q: {}, H: {} },
  });

  it('lists referenced secret names: env for local, headers and url for remote', () => {
    expect(referencedSecretNames(local)).toEqual(['TOKEN', 'OTHER']);
    expect(referencedSecretNames(remote).sort()).toEqual(['H', 'Q']);
  });

  it('resolves a local server env', () => {
    const env = resolveServerEnv(
      local,
      new Map([
        ['TOKEN', 't'],
        ['OTHER', 'o'],
      ]),
      { HOST: 'h.example' },
    );
    expect(env).toEqual({ TOKEN: 't', URL: 'https://h.example/?k=o', PLAIN: 'v' });
  });

  it('names the env key when a variable is missing', async () => {
    const error = await expectKeyproxyError(
      () =>
        resolveServerEnv(
          local,
          new Map([
            ['TOKEN', 't'],
            ['OTHER', 'o'],
          ]),
          {},
        ),
      'CONFIG_INVALID',
    );
    expect(error.message).toMatch(/^env\.URL: .*HOST/);
  });

  it('resolves env variables in command and args', () => {
    expect(resolveServerCommand(local, { NODE_BIN: '/usr/bin/node', HOME_DIR: '/h' })).toEqual({
      command: '/usr/bin/node',
      args: ['--home', '/h/x'],
      cwd: undefined,
    });
  });

  it('expands a leading ~ of cwd to the HOME of the environment, after resolving references', () => {
    const withCwd = (cwd: string) => localServerSchema.parse({ command: 'srv', cwd });
    expect(resolveServerCommand(withCwd('~/work/${env:PROJECT}'), { HOME: '/home/ann', PROJECT: 'p1' }).cwd).toBe('/home/ann/work/p1');
    expect(resolveServerCommand(withCwd('~'), { HOME: '/home/ann' }).cwd).toBe('/home/ann');
    expect(resolveServerCommand(withCwd('/srv/~/x'), { HOME: '/home/ann' }).cwd).toBe('/srv/~/x');
  });

  it('resolves a remote server, percent-encoding secrets in the URL only', () => {
    const resolved = resolveRemoteServer(
      remote,
      new Map([
        ['Q', 'a&b#c'],
        ['H', 'x&y'],
      ]),
      { E: 'e' },
    );
    expect(resolved).toEqual({ url: 'https://api.example/mcp?key=a%26b%23c', headers: { Authorization: 'Bearer x&y', 'X-Env': 'e' } });
  });
});
