import { createPublicKey, generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { describe, expect, it } from 'vitest';
import type { OAuthSettingsConfig } from '../../../src/config/schema.js';
import { KeyproxyError } from '../../../src/errors.js';
import { revokeTokens } from '../../../src/oauth/account.js';
import { privateKeyJwtAuth, readClientKey } from '../../../src/oauth/private-key-jwt.js';
import { KeychainOAuthProvider } from '../../../src/oauth/provider.js';
import { OAuthStateStore } from '../../../src/oauth/state.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';

const SERVER = 'https://mcp.example.com/mcp';
const ISSUER = 'https://auth.example.com';
const TOKEN_ENDPOINT = `${ISSUER}/oauth/token`;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface TokenRequest {
  body: URLSearchParams;
  headers: Headers;
}

/**
 * A protected resource and its authorization server, as fetch sees them: the two metadata documents and a token
 * endpoint that records each request and answers with a token.
 */
function authorizationServer(methods = ['private_key_jwt']): { fetch: FetchLike; requests: TokenRequest[] } {
  const requests: TokenRequest[] = [];
  const json = (value: unknown): Response => new Response(JSON.stringify(value), { headers: { 'content-type': 'application/json' } });
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    if (url.href === 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp') {
      return json({ resource: SERVER, authorization_servers: [ISSUER] });
    }
    if (url.href === `${ISSUER}/.well-known/oauth-authorization-server`) {
      return json({
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/authorize`,
        token_endpoint: TOKEN_ENDPOINT,
        response_types_supported: ['code'],
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: methods,
      });
    }
    if (url.href === TOKEN_ENDPOINT && init?.method === 'POST') {
      requests.push({ body: new URLSearchParams(String(init.body)), headers: new Headers(init.headers) });
      return json({ access_token: `machine-token-${requests.length}`, token_type: 'Bearer', expires_in: 3600 });
    }
    return new Response('not found', { status: 404 });
  };
  return { fetch, requests };
}

function provider(settings: Partial<OAuthSettingsConfig>, credential: { secret?: string; privateKey?: string }): KeychainOAuthProvider {
  const full = {
    grant: 'client_credentials',
    client_id: 'agent-7',
    private_key: '${secret:AGENT_KEY}',
    ...settings,
  } as OAuthSettingsConfig;
  return new KeychainOAuthProvider('api', full, new OAuthStateStore(new MemoryStore()), credential);
}

/** The JWT's parts, its signature checked with `publicKey` by node:crypto (not by the library that signed it). */
function verifiedJwt(jwt: string, publicKey: KeyObject): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, payload, signature] = jwt.split('.');
  const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  const parsed = { header: decode(header!), claims: decode(payload!) };
  const ec = publicKey.asymmetricKeyType === 'ec';
  const ok = verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    ec ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey,
    Buffer.from(signature!, 'base64url'),
  );
  expect(ok, 'the client assertion does not verify with the public key').toBe(true);
  return parsed;
}

describe('private_key_jwt client authentication of the client_credentials grant', () => {
  for (const [kind, keys, pemType, alg] of [
    ['P-256 EC key (PKCS#8)', generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'pkcs8', 'ES256'],
    ['RSA key (PKCS#1 "BEGIN RSA PRIVATE KEY")', generateKeyPairSync('rsa', { modulusLength: 2048 }), 'pkcs1', 'RS256'],
  ] as const) {
    it(`sends a signed assertion and no secret: ${kind}, ${alg} by default`, async () => {
      const pem = keys.privateKey.export({ format: 'pem', type: pemType }) as string;
      const server = authorizationServer();
      const oauth = provider({}, { privateKey: pem });
      expect(oauth.clientMetadata.token_endpoint_auth_method).toBe('private_key_jwt');

      const before = Math.floor(Date.now() / 1000);
      await expect(auth(oauth, { serverUrl: SERVER, fetchFn: server.fetch })).resolves.toBe('AUTHORIZED');
      expect(oauth.tokens()?.access_token).toBe('machine-token-1');

      expect(server.requests).toHaveLength(1);
      const { body, headers } = server.requests[0]!;
      expect(body.get('grant_type')).toBe('client_credentials');
      expect(body.get('client_assertion_type')).toBe(ASSERTION_TYPE);
      expect(body.get('client_id')).toBe('agent-7');
      expect(body.has('client_secret')).toBe(false);
      expect(headers.has('authorization')).toBe(false);
      expect(body.toString()).not.toContain(pem.split('\n')[1]!.slice(0, 40));

      const { header, claims } = verifiedJwt(body.get('client_assertion')!, createPublicKey(keys.privateKey));
      expect(header).toMatchObject({ alg, typ: 'JWT' });
      // RFC 7523 §3: iss and sub are the client id, aud the authorization server (its issuer), a short life, a jti.
      expect(claims).toMatchObject({ iss: 'agent-7', sub: 'agent-7', aud: ISSUER });
      expect(claims.exp as number).toBeGreaterThan(before);
      expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(300);
      expect(typeof claims.jti).toBe('string');
    });
  }

  it('signs with the configured algorithm (PS256 with an RSA key), each assertion with its own jti', async () => {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const server = authorizationServer();
    const oauth = provider(
      { private_key_alg: 'PS256' },
      { privateKey: keys.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string },
    );
    await auth(oauth, { serverUrl: SERVER, fetchFn: server.fetch });
    await oauth.invalidateCredentials('tokens');
    await auth(oauth, { serverUrl: SERVER, fetchFn: server.fetch });
    const jwts = server.requests.map((request) => request.body.get('client_assertion')!);
    expect(jwts).toHaveLength(2);
    const [first, second] = jwts.map((jwt) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string });
    expect(JSON.parse(Buffer.from(jwts[0]!.split('.')[0]!, 'base64url').toString('utf8'))).toMatchObject({ alg: 'PS256' });
    expect(first!.jti).not.toBe(second!.jti);
  });

  it('keeps client_secret_basic for a client with a secret (no assertion)', async () => {
    const server = authorizationServer(['client_secret_basic', 'private_key_jwt']);
    const oauth = provider({ private_key: undefined, client_secret: '${secret:S}' }, { secret: 'the-client-secret' });
    expect(oauth.addClientAuthentication).toBeUndefined();
    await auth(oauth, { serverUrl: SERVER, fetchFn: server.fetch });
    expect(server.requests[0]!.body.has('client_assertion')).toBe(false);
    expect(server.requests[0]!.headers.get('authorization')).toBe(`Basic ${Buffer.from('agent-7:the-client-secret').toString('base64')}`);
  });

  it('refuses a key that is no PEM key, or does not fit private_key_alg, naming the secret and nothing of the key', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const notAKey = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-not-a-key';
    const errorOf = (fn: () => unknown): KeyproxyError => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(KeyproxyError);
        return error as KeyproxyError;
      }
      throw new Error('no error');
    };
    const garbage = errorOf(() => provider({}, { privateKey: notAKey }));
    expect(garbage.code).toBe('SECRET_INVALID');
    expect(garbage.message).toContain('${secret:AGENT_KEY}');
    expect(garbage.message).not.toContain(notAKey);
    const mismatch = errorOf(() => provider({ private_key_alg: 'RS256' }, { privateKey: ec }));
    expect(mismatch.code).toBe('CONFIG_INVALID');
    expect(mismatch.message).toContain('"private_key_alg": "RS256"');
    expect(mismatch.message).not.toContain(ec.split('\n')[1]!);
  });

  it('signs the revocation of auth logout the same way (RFC 7009 with the client assertion), with no secret', async () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = readClientKey('api', 'AGENT_KEY', keys.privateKey.export({ format: 'pem', type: 'sec1' }) as string);
    expect(key.alg).toBe('ES256');
    const sent: URLSearchParams[] = [];
    const fetch: FetchLike = async (_input, init) => {
      sent.push(new URLSearchParams(String(init?.body)));
      expect(new Headers(init?.headers).has('authorization')).toBe(false);
      return new Response(null, { status: 200 });
    };
    const tokens = { access_token: 'at-1', refresh_token: 'rt-1', token_type: 'Bearer', obtained_at: Date.now() };
    await revokeTokens(tokens, `${ISSUER}/revoke`, { client_id: 'agent-7' }, fetch, ['private_key_jwt'], {
      authenticate: privateKeyJwtAuth('agent-7', key),
      metadata: {
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/authorize`,
        token_endpoint: TOKEN_ENDPOINT,
        response_types_supported: ['code'],
      },
    });
    expect(sent.map((body) => body.get('token'))).toEqual(['rt-1', 'at-1']);
    for (const body of sent) {
      expect(body.get('client_assertion_type')).toBe(ASSERTION_TYPE);
      expect(body.has('client_secret')).toBe(false);
      expect(verifiedJwt(body.get('client_assertion')!, createPublicKey(keys.privateKey)).claims).toMatchObject({
        iss: 'agent-7',
        aud: ISSUER,
      });
    }
  });
});
