import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { referencedSecretNames } from '../../../src/config/references.js';
import { expectKeyproxyError } from './helpers.js';

const FILE = '/config/proxy.config.json';

/** A config of one remote server with these OAuth settings. */
const withAuth = (auth: unknown): string => JSON.stringify({ servers: { api: { url: 'https://mcp.example.com/mcp', auth } } });

const parse = (auth: unknown) => parseConfig(withAuth(auth), FILE);
const refused = (auth: unknown) => expectKeyproxyError(() => parse(auth), 'CONFIG_INVALID');

const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
const pemBody = pem.split('\n')[1]!;

describe('OAuth settings: private_key (private_key_jwt client authentication)', () => {
  it('takes client_credentials with client_id and a private key in the keychain, which the server then references', () => {
    const config = parse({ grant: 'client_credentials', client_id: 'agent', private_key: '${secret:AGENT_KEY}', private_key_alg: 'ES256' });
    const server = config.servers.api!;
    expect(server).toMatchObject({ auth: { grant: 'client_credentials', private_key: '${secret:AGENT_KEY}', private_key_alg: 'ES256' } });
    expect(referencedSecretNames(server)).toEqual(['AGENT_KEY']);
  });

  it('takes a private key for the authorization_code grant of a pre-registered client too', () => {
    expect(parse({ client_id: 'web', private_key: '${secret:KEY}' }).servers.api).toMatchObject({ auth: { grant: 'authorization_code' } });
  });

  it('refuses a literal key with the same kind of message as a literal client secret, quoting no part of it', async () => {
    const error = await refused({ grant: 'client_credentials', client_id: 'agent', private_key: pem });
    expect(error.message).toContain('servers.api.auth.private_key: use a keychain reference "${secret:NAME}", never the key itself');
    expect(error.message).not.toContain(pemBody);
    expect(error.message).not.toContain('BEGIN PRIVATE KEY');
    const secret = await refused({ client_id: 'agent', client_secret: 'literal-client-secret' });
    expect(secret.message).toContain('servers.api.auth.client_secret: use a keychain reference "${secret:NAME}", never the secret itself');
  });

  it('refuses a client secret and a private key together', async () => {
    const error = await refused({
      grant: 'client_credentials',
      client_id: 'agent',
      client_secret: '${secret:S}',
      private_key: '${secret:K}',
    });
    expect(error.message).toContain('give "client_secret" or "private_key", not both');
  });

  it('refuses a private key without client_id', async () => {
    expect((await refused({ private_key: '${secret:K}' })).message).toContain('"private_key" needs "client_id"');
    expect((await refused({ grant: 'client_credentials', private_key: '${secret:K}' })).message).toContain(
      '"grant": "client_credentials" needs "client_id" and "client_secret" or "private_key"',
    );
  });

  it('refuses client_credentials with neither a client secret nor a private key', async () => {
    expect((await refused({ grant: 'client_credentials', client_id: 'agent' })).message).toContain(
      '"grant": "client_credentials" needs "client_id" and "client_secret" or "private_key"',
    );
  });

  it('refuses private_key_alg without a private key, and a symmetric or unknown algorithm', async () => {
    expect((await refused({ client_id: 'a', client_secret: '${secret:S}', private_key_alg: 'RS256' })).message).toContain(
      '"private_key_alg" needs "private_key"',
    );
    for (const alg of ['HS256', 'none', 'EdDSA']) {
      expect((await refused({ client_id: 'a', private_key: '${secret:K}', private_key_alg: alg })).message).toContain(
        'servers.api.auth.private_key_alg',
      );
    }
  });
});

describe('OAuth settings: errors', () => {
  it('names the setting that is wrong inside an "auth" object, not the server', async () => {
    expect((await refused({ grant: 'implicit' })).message).toContain('servers.api.auth.grant: Invalid option');
    expect((await refused('oauth2')).message).toContain('servers.api.auth: use "oauth" or an object of OAuth settings');
  });
});
