import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import type { RemoteServerConfig } from '../../../src/config/schema.js';
import { discoveryCovers, isBearerChallenge, oauthDiscoverable } from '../../../src/oauth/discovered.js';
import { OAuthSessions } from '../../../src/oauth/sessions.js';
import { OAuthStateStore } from '../../../src/oauth/state.js';
import { isLoginRequiredAnswer } from '../../../src/proxy/downstream/login-answer.js';
import { AUTH_REJECTED_CODE, failureResponse } from '../../../src/proxy/remote/failure-response.js';
import { challengeWatch } from '../../../src/proxy/remote/oauth-fetch.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';

function remote(extra: Partial<RemoteServerConfig> = {}): RemoteServerConfig {
  return {
    url: 'https://mcp.example.com/mcp',
    headers: {},
    secrets: {},
    transport: 'auto',
    allow_http: false,
    ...extra,
  } as RemoteServerConfig;
}

describe('oauthDiscoverable: a 401 can only mean "log in"', () => {
  it('for a plain url entry', () => {
    expect(oauthDiscoverable(remote())).toBe(true);
    expect(oauthDiscoverable(remote({ headers: { 'X-Client': 'mcp-keyproxy' } }))).toBe(true);
  });

  it('never for an entry with auth, a secret in its headers or url, or an Authorization header of any kind', () => {
    expect(oauthDiscoverable(remote({ auth: 'oauth' }))).toBe(false);
    expect(oauthDiscoverable(remote({ headers: { 'X-Api-Key': '${secret:KEY}' } }))).toBe(false);
    expect(oauthDiscoverable(remote({ url: 'https://mcp.example.com/mcp?key=${secret:KEY}' }))).toBe(false);
    expect(oauthDiscoverable(remote({ headers: { authorization: 'Bearer ${env:TOKEN}' } }))).toBe(false);
    expect(oauthDiscoverable(remote({ headers: { Authorization: 'Bearer literal' } }))).toBe(false);
  });
});

describe('isBearerChallenge', () => {
  it('finds the Bearer scheme, alone, with parameters, or among other challenges, in any case', () => {
    expect(isBearerChallenge('Bearer')).toBe(true);
    expect(isBearerChallenge('Bearer resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp"')).toBe(true);
    expect(isBearerChallenge('bearer realm="x"')).toBe(true);
    expect(isBearerChallenge('Basic realm="x", Bearer scope="read"')).toBe(true);
  });

  it('not in another scheme, a parameter value, or no header', () => {
    expect(isBearerChallenge('Basic realm="x"')).toBe(false);
    expect(isBearerChallenge('Digest realm="Bearer"')).toBe(false);
    expect(isBearerChallenge('BearerToken')).toBe(false);
    expect(isBearerChallenge(null)).toBe(false);
    expect(isBearerChallenge(undefined)).toBe(false);
  });
});

describe('discoveryCovers: stored discovery results made for this URL', () => {
  const url = 'https://mcp.example.com/mcp';
  const resource = (value: string) => ({ authorizationServerUrl: 'https://auth.example.com', resourceMetadata: { resource: value } });

  it('the protected resource is the URL, or a path prefix of it on the same origin', () => {
    expect(discoveryCovers(resource('https://mcp.example.com/mcp'), url)).toBe(true);
    expect(discoveryCovers(resource('https://mcp.example.com/'), url)).toBe(true);
    expect(discoveryCovers(resource('https://mcp.example.com'), `${url}/v2`)).toBe(true);
  });

  it('not another origin, a sibling path, or nothing stored', () => {
    expect(discoveryCovers(resource('https://other.example.com/mcp'), url)).toBe(false);
    expect(discoveryCovers(resource('https://mcp.example.com/mc'), url)).toBe(false);
    expect(discoveryCovers(resource('https://mcp.example.com/other'), url)).toBe(false);
    expect(discoveryCovers(resource('not a url'), url)).toBe(false);
    expect(discoveryCovers(undefined, url)).toBe(false);
  });

  it('without resource metadata: the authorization server the SDK assumed, the URL origin', () => {
    expect(discoveryCovers({ authorizationServerUrl: 'https://mcp.example.com/' }, url)).toBe(true);
    expect(discoveryCovers({ authorizationServerUrl: 'https://elsewhere.example.com/' }, url)).toBe(false);
  });
});

describe('OAuthSessions for servers without auth', () => {
  const tokens = JSON.stringify({ access_token: 'a'.repeat(24), token_type: 'bearer', obtained_at: 1 });
  const discovery = JSON.stringify({
    authorizationServerUrl: 'https://auth.example.com',
    resourceMetadata: { resource: 'https://mcp.example.com/mcp' },
  });

  function sessions(initial: Record<string, Record<string, string>> = {}): { sessions: OAuthSessions; store: MemoryStore } {
    const store = new MemoryStore({ initial });
    return { sessions: new OAuthSessions(new OAuthStateStore(store), {}), store };
  }

  it('a plain entry is no OAuth server until it answers with a challenge; then it is, with that challenge kept', async () => {
    const { sessions: all } = sessions();
    expect(await all.get('plain', remote())).toBeUndefined();
    all.discover('plain', 'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="read"');
    expect(all.isDiscovered('plain')).toBe(true);
    const session = await all.get('plain', remote());
    expect(session).toBeDefined();
    expect(await session!.serverChallenge()).toEqual({
      resourceMetadataUrl: new URL('https://mcp.example.com/.well-known/oauth-protected-resource/mcp'),
      scope: 'read',
    });
  });

  it('a plain entry with a login of its own for its URL starts as an OAuth server; one made for another URL does not count', async () => {
    const { sessions: all } = sessions({ moved: { tokens, discovery }, kept: { tokens, discovery } });
    expect(await all.get('kept', remote())).toBeDefined();
    expect(await all.get('moved', remote({ url: 'https://other.example.com/mcp' }))).toBeUndefined();
  });

  it('an entry with a credential of its own never is, whatever the keychain or the server says', async () => {
    const { sessions: all, store } = sessions({ keyed: { tokens, discovery } });
    const keyed = remote({ headers: { Authorization: 'Bearer ${secret:TOKEN}' } });
    all.discover('keyed', 'Bearer');
    expect(await all.get('keyed', keyed)).toBeUndefined();
    expect(await all.get('keyed', keyed, { assume: true })).toBeUndefined();
    expect(store.calls).toEqual([]);
  });

  it('auth login names a plain entry: a session without a challenge seen yet', async () => {
    const { sessions: all } = sessions();
    expect(await all.get('cli', remote(), { assume: true })).toBeDefined();
  });
});

describe('the answer to a refused request', () => {
  const unauthorized = new StreamableHTTPError(401, 'Error POSTing to endpoint: Unauthorized');

  it('after a Bearer challenge of a plain entry: "log in", naming auth login, marked for the gate', () => {
    const answer = failureResponse(1, unauthorized, { serverName: 'plain', secretNames: [], loginRequired: () => true });
    expect(answer.error.code).toBe(AUTH_REJECTED_CODE);
    expect(answer.error.message).toContain('mcp-keyproxy auth login plain');
    expect(answer.error.message).not.toContain('rejected');
    expect(isLoginRequiredAnswer(answer.error)).toBe(true);
  });

  it('without one (or with a key of its own): the rejected-key message naming secrets set', () => {
    const keyed = failureResponse(1, unauthorized, { serverName: 'keyed', secretNames: ['TOKEN'], loginRequired: () => false });
    expect(keyed.error.message).toContain('mcp-keyproxy secrets set keyed TOKEN');
    expect(isLoginRequiredAnswer(keyed.error)).toBe(false);
    const forbidden = failureResponse(1, new StreamableHTTPError(403, 'Forbidden'), {
      serverName: 'p',
      secretNames: [],
      loginRequired: () => true,
    });
    expect(isLoginRequiredAnswer(forbidden.error)).toBe(false);
  });
});

describe('challengeWatch', () => {
  it('hands on the WWW-Authenticate of a 401 with a Bearer challenge, and only that', async () => {
    const seen: string[] = [];
    const answers = [
      new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer scope="read"' } }),
      new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="x"' } }),
      new Response(null, { status: 401 }),
      new Response('{}', { status: 200, headers: { 'www-authenticate': 'Bearer' } }),
    ];
    const fetch = challengeWatch(
      async () => answers.shift()!,
      (challenge) => seen.push(challenge),
    );
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await fetch('https://mcp.example.com/mcp')).status);
    expect(statuses).toEqual([401, 401, 401, 200]);
    expect(seen).toEqual(['Bearer scope="read"']);
  });
});
