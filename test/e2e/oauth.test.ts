import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ElicitationCompleteNotificationSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession, secretToolAccounts } from '../helpers/keyring.js';
import { OAuthE2e, startOAuthFixture, storedTokens, text, type OAuthFixture, type OAuthProxy } from '../helpers/oauth.js';
import { runBin, waitFor } from '../helpers/proxy.js';
import { storeSecret } from '../helpers/remote.js';

// OAuth for remote servers against a real authorization server built from the SDK's server auth parts
// (test/fixtures/oauth-server.mjs) and a real MCP server behind requireBearerAuth. The "browser" is
// test/fixtures/browser/follow-redirects.mjs, started by xdg-open through $BROWSER (the `open` package); the parts
// are in test/helpers/oauth.ts.

const id = randomBytes(4).toString('hex');
const SHORT_TTL = 8;
/** Each case runs several CLI and proxy processes (and waits out a token's life): bound generously for a busy machine. */
const CASE_MS = 120_000;

let e2e: OAuthE2e;
const env = (extra: Record<string, string> = {}): Record<string, string> => e2e.env(extra);
const browserOpens = (): Promise<string[]> => e2e.browserOpens();
const writeOAuthConfig = (servers: Record<string, unknown>): Promise<string> => e2e.writeConfig(servers);
const cli = (args: string[], extra: Record<string, string> = {}): ReturnType<typeof runBin> => e2e.cli(args, extra);
const startProxy = (...args: Parameters<OAuthE2e['startProxy']>): Promise<OAuthProxy> => e2e.startProxy(...args);

/** Every regular file under `dir` whose bytes contain one of `needles`. */
async function filesContaining(dir: string, needles: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true })) {
    const path = join(dir, entry);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    const text = await readFile(path, 'latin1');
    if (needles.some((needle) => text.includes(needle))) found.push(path);
  }
  return found;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let fixture: OAuthFixture;
let shortLived: OAuthFixture;

beforeAll(async () => {
  requireKeyringSession();
  e2e = await OAuthE2e.create();
  [fixture, shortLived] = await Promise.all([startOAuthFixture(), startOAuthFixture({ FIXTURE_TOKEN_TTL: String(SHORT_TTL) })]);
}, CASE_MS);

afterAll(async () => {
  await e2e?.close();
  await Promise.all([fixture?.stop(), shortLived?.stop()]);
});

describe('auth login / status / logout through the CLI', () => {
  const server = `e2e-oauth-cli-${id}`;
  let config: string;

  it(
    'logs in through the browser; the tokens are only in the keychain; the proxy then serves the tools',
    async () => {
      config = await writeOAuthConfig({ [server]: { url: fixture.mcpUrl, auth: 'oauth', confirm: false } });
      const opensBefore = (await browserOpens()).length;
      const login = await cli(['auth', 'login', server, '--config', config]);
      expect(login.stderr).toContain('/authorize?');
      expect(login.code).toBe(0);
      expect(login.stdout).toContain(`Logged in to ${server}`);
      const opens = await browserOpens();
      expect(opens.length).toBe(opensBefore + 1);
      // PKCE S256, the resource indicator and a state travel in the authorization request.
      const authorize = new URL(opens.at(-1)!.slice('open '.length));
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorize.searchParams.get('resource')).toBe(fixture.mcpUrl);
      expect(authorize.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
      expect(fixture.count('register')).toBeGreaterThanOrEqual(1);
      expect(fixture.count('token', (event) => event.grant === 'authorization_code' && event.ok === true)).toBeGreaterThanOrEqual(1);

      expect((await secretToolAccounts(server, `mcp-keyproxy-oauth/${server}`)).sort()).toEqual(['client', 'discovery', 'tokens']);
      const tokens = await storedTokens(server);
      expect(tokens.refresh_token).toBeDefined();
      const secrets = [tokens.access_token, tokens.refresh_token!];
      expect(await filesContaining(e2e.home, secrets)).toEqual([]);

      const status = await cli(['auth', 'status', server, '--config', config, '--json']);
      expect(status.code).toBe(0);
      const [row] = JSON.parse(status.stdout) as Array<{ loggedIn: boolean; scopes: string[]; canRefresh: boolean }>;
      expect(row).toMatchObject({ loggedIn: true, scopes: ['mcp:tools'], canRefresh: true });
      for (const secret of secrets) expect(status.stdout + status.stderr + login.stdout + login.stderr).not.toContain(secret);

      const proxy = await startProxy(config, server);
      expect((await proxy.client.listTools()).tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo']));
      expect(text(await proxy.client.callTool({ name: 'echo', arguments: { message: 'with a token' } }))).toBe('echo: with a token');
      await proxy.close();
      for (const secret of secrets) expect(proxy.stderr()).not.toContain(secret);
      expect(await filesContaining(e2e.home, secrets)).toEqual([]);
    },
    CASE_MS,
  );

  it(
    'logout revokes the tokens at the server (RFC 7009) and deletes them from the keychain',
    async () => {
      const tokens = await storedTokens(server);
      const revokesBefore = fixture.count('revoke');
      const logout = await cli(['auth', 'logout', server, '--config', config]);
      expect(logout.code).toBe(0);
      expect(logout.stdout).toContain('revoked');
      expect(fixture.count('revoke')).toBe(revokesBefore + 2);
      expect(await secretToolAccounts(server, `mcp-keyproxy-oauth/${server}`)).not.toContain('tokens');
      const status = await cli(['auth', 'status', server, '--config', config, '--json']);
      expect(JSON.parse(status.stdout)).toMatchObject([{ loggedIn: false }]);
      expect(logout.stdout + logout.stderr).not.toContain(tokens.access_token);
    },
    CASE_MS,
  );

  it(
    'headless without a login: an error naming `mcp-keyproxy auth login <server>`, exit 78, nothing on stdout',
    async () => {
      const run = await cli(['run', server, '--config', config, '--headless']);
      expect(run.code).toBe(78);
      expect(run.stderr).toContain(`mcp-keyproxy auth login ${server}`);
      expect(run.stdout).toBe('');
    },
    CASE_MS,
  );
});

describe('tokens expire: renewed without a browser, once for two proxies', () => {
  const server = `e2e-oauth-expiry-${id}`;
  let config: string;

  beforeAll(async () => {
    config = await writeOAuthConfig({ [server]: { url: shortLived.mcpUrl, auth: 'oauth', confirm: false } });
    const login = await cli(['auth', 'login', server, '--config', config]);
    expect(login.code).toBe(0);
  }, CASE_MS);

  async function waitPastExpiry(): Promise<void> {
    const { expires_at: expiresAt } = await storedTokens(server);
    expect(expiresAt).toBeDefined();
    expect(await waitFor(() => Date.now() > expiresAt! + 200, (SHORT_TTL + 5) * 1000)).toBe(true);
  }

  it(
    'an expired access token is refreshed with the refresh token; no browser opens',
    async () => {
      const opens = (await browserOpens()).length;
      const proxy = await startProxy(config, server);
      expect(text(await proxy.client.callTool({ name: 'echo', arguments: { message: 'one' } }))).toBe('echo: one');
      const before = (await storedTokens(server)).access_token;
      await waitPastExpiry();
      const refreshes = shortLived.count('token', (event) => event.grant === 'refresh_token');
      expect(text(await proxy.client.callTool({ name: 'echo', arguments: { message: 'two' } }))).toBe('echo: two');
      expect(shortLived.count('token', (event) => event.grant === 'refresh_token' && event.ok === true)).toBe(refreshes + 1);
      expect((await storedTokens(server)).access_token).not.toBe(before);
      expect((await browserOpens()).length).toBe(opens);
      await proxy.close();
    },
    CASE_MS,
  );

  it(
    'two proxies at expiry: one refresh (the rotating refresh token is spent once), both keep working',
    async () => {
      const [a, b] = await Promise.all([startProxy(config, server), startProxy(config, server)]);
      expect(text(await a.client.callTool({ name: 'echo', arguments: { message: 'a' } }))).toBe('echo: a');
      expect(text(await b.client.callTool({ name: 'echo', arguments: { message: 'b' } }))).toBe('echo: b');
      await waitPastExpiry();
      const refreshes = shortLived.count('token', (event) => event.grant === 'refresh_token');
      const [ra, rb] = await Promise.all([
        a.client.callTool({ name: 'echo', arguments: { message: 'a2' } }),
        b.client.callTool({ name: 'echo', arguments: { message: 'b2' } }),
      ]);
      expect([text(ra), text(rb)]).toEqual(['echo: a2', 'echo: b2']);
      expect(shortLived.count('token', (event) => event.grant === 'refresh_token')).toBe(refreshes + 1);
      expect(shortLived.count('token', (event) => event.ok === false)).toBe(0);
      await Promise.all([a.close(), b.close()]);
    },
    CASE_MS,
  );
});

describe('inside MCP: connect_<server> logs in, the tools arrive with list_changed', () => {
  it(
    'without URL elicitation: the URL is in the tool result, the browser opens, the tools follow',
    async () => {
      const server = `e2e-oauth-connect-${id}`;
      const config = await writeOAuthConfig({ [server]: { url: fixture.mcpUrl, auth: 'oauth', confirm: false } });
      const proxy = await startProxy(config, server);
      expect((await proxy.client.listTools()).tools.map((tool) => tool.name)).toEqual([`connect_${server}`]);
      const started = performance.now();
      const result = await proxy.client.callTool({ name: `connect_${server}`, arguments: {} });
      expect(result.isError, text(result)).toBeFalsy();
      expect(text(result)).toContain(`${fixture.origin}/authorize?`);
      expect(await waitFor(() => proxy.listChanged() > 0, 20_000)).toBe(true);
      expect(await waitFor(async () => (await proxy.client.listTools()).tools.some((tool) => tool.name === 'echo'), 20_000)).toBe(true);
      const elapsed = performance.now() - started;
      process.stderr.write(`oauth e2e: connect_${server} to tools available: ${elapsed.toFixed(0)} ms\n`);
      expect(text(await proxy.client.callTool({ name: 'echo', arguments: { message: 'after login' } }))).toBe('echo: after login');
      const tokens = await storedTokens(server);
      expect(proxy.stderr()).not.toContain(tokens.access_token);
      await proxy.close();
    },
    CASE_MS,
  );

  it(
    'with URL elicitation: elicitation/create mode "url", then notifications/elicitation/complete, then the tools',
    async () => {
      const server = `e2e-oauth-elicit-${id}`;
      const config = await writeOAuthConfig({ [server]: { url: fixture.mcpUrl, auth: 'oauth', confirm: false } });
      const opens = (await browserOpens()).length;
      const elicited: Array<{ mode?: string; url?: string; elicitationId?: string }> = [];
      let completed: string | undefined;
      const proxy = await startProxy(config, server, {
        capabilities: { elicitation: { url: {} } },
        setup: (client) => {
          client.setRequestHandler(ElicitRequestSchema, (request) => {
            const params = request.params as { mode?: string; url?: string; elicitationId?: string };
            elicited.push(params);
            // The client's own "browser": follows the authorization server's redirects to the loopback callback.
            void fetch(params.url!, { redirect: 'follow' }).then((response) => response.text());
            return { action: 'accept' };
          });
          client.setNotificationHandler(ElicitationCompleteNotificationSchema, (notification) => {
            completed = notification.params.elicitationId;
          });
        },
      });
      const result = await proxy.client.callTool({ name: `connect_${server}`, arguments: {} });
      expect(text(result)).toContain(`Connected to ${server}`);
      expect(elicited).toHaveLength(1);
      expect(elicited[0]?.mode).toBe('url');
      expect(elicited[0]?.url).toContain(`${fixture.origin}/authorize?`);
      expect(await waitFor(() => completed !== undefined, 5000)).toBe(true);
      expect(completed).toBe(elicited[0]?.elicitationId);
      expect((await proxy.client.listTools()).tools.map((tool) => tool.name)).toContain('echo');
      // The client opened the URL: the proxy did not open a second tab.
      expect((await browserOpens()).length).toBe(opens);
      await proxy.close();
    },
    CASE_MS,
  );

  it(
    'step-up: a 403 insufficient_scope opens the browser for the named scopes, then the call succeeds',
    async () => {
      const server = `e2e-oauth-stepup-${id}`;
      const config = await writeOAuthConfig({ [server]: { url: fixture.mcpUrl, auth: 'oauth', confirm: false } });
      expect((await cli(['auth', 'login', server, '--config', config])).code).toBe(0);
      expect((await storedTokens(server)).scope).toBe('mcp:tools');
      const proxy = await startProxy(config, server);
      const opens = (await browserOpens()).length;
      const forbidden = fixture.count('mcp', (event) => event.status === 403);
      const result = await proxy.client.callTool({ name: 'admin-action', arguments: {} });
      expect(text(result)).toBe('admin done');
      expect(fixture.count('mcp', (event) => event.status === 403)).toBe(forbidden + 1);
      const reopened = await browserOpens();
      expect(reopened.length).toBe(opens + 1);
      expect(new URL(reopened.at(-1)!.slice('open '.length)).searchParams.get('scope')?.split(' ').sort()).toEqual(['admin', 'mcp:tools']);
      expect((await storedTokens(server)).scope?.split(' ').sort()).toEqual(['admin', 'mcp:tools']);
      await proxy.close();
    },
    CASE_MS,
  );
});

describe('clients registered beforehand (no dynamic registration)', () => {
  let strict: OAuthFixture;
  let callbackPort: number;
  const clientSecret = `pre-secret-${randomBytes(12).toString('hex')}`;
  const machineSecret = `machine-secret-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    callbackPort = await freePort();
    strict = await startOAuthFixture({
      FIXTURE_DCR: '0',
      FIXTURE_CLIENTS: JSON.stringify([
        {
          client_id: 'pre-registered',
          client_secret: clientSecret,
          redirect_uris: [`http://127.0.0.1:${callbackPort}/callback`],
          grant_types: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_method: 'client_secret_post',
        },
        { client_id: 'machine', client_secret: machineSecret, redirect_uris: [], grant_types: ['client_credentials'] },
      ]),
    });
  }, CASE_MS);

  afterAll(async () => {
    await strict?.stop();
  }, CASE_MS);

  it(
    'a pre-registered client_id with its secret from the keychain and a fixed callback port logs in',
    async () => {
      const server = `e2e-oauth-pre-${id}`;
      const config = await writeOAuthConfig({
        [server]: {
          url: strict.mcpUrl,
          confirm: false,
          auth: { client_id: 'pre-registered', client_secret: '${secret:CLIENT_SECRET}', callback_port: callbackPort },
        },
      });
      await storeSecret(config, server, 'CLIENT_SECRET', clientSecret);
      const login = await cli(['auth', 'login', server, '--config', config]);
      expect(login.code).toBe(0);
      expect(login.stderr).toContain('client_id=pre-registered');
      expect(strict.count('register')).toBe(0);
      expect(strict.count('token', (event) => event.grant === 'authorization_code' && event.ok === true)).toBe(1);
      // The registration lives in the config: nothing but tokens and discovery in the keychain.
      expect((await secretToolAccounts(server, `mcp-keyproxy-oauth/${server}`)).sort()).toEqual(['discovery', 'tokens']);
      const proxy = await startProxy(config, server);
      expect(text(await proxy.client.callTool({ name: 'echo', arguments: { message: 'pre' } }))).toBe('echo: pre');
      expect(proxy.stderr()).not.toContain(clientSecret);
      expect(login.stderr + login.stdout).not.toContain(clientSecret);
      await proxy.close();
      await runBin(['secrets', 'clear', server, '--yes'], { env: env() });
    },
    CASE_MS,
  );

  it(
    'client_credentials: a headless proxy gets its tokens with no browser at all',
    async () => {
      const server = `e2e-oauth-machine-${id}`;
      const config = await writeOAuthConfig({
        [server]: {
          url: strict.mcpUrl,
          confirm: false,
          auth: { grant: 'client_credentials', client_id: 'machine', client_secret: '${secret:CLIENT_SECRET}' },
        },
      });
      await storeSecret(config, server, 'CLIENT_SECRET', machineSecret);
      const opens = (await browserOpens()).length;
      const proxy = await startProxy(config, server, { args: ['--headless'] });
      expect(text(await proxy.client.callTool({ name: 'echo', arguments: { message: 'machine' } }))).toBe('echo: machine');
      expect(strict.count('token', (event) => event.grant === 'client_credentials' && event.ok === true)).toBe(1);
      expect((await browserOpens()).length).toBe(opens);
      expect(proxy.stderr()).not.toContain(machineSecret);
      expect((await storedTokens(server)).refresh_token).toBeUndefined();
      await proxy.close();
      await runBin(['secrets', 'clear', server, '--yes'], { env: env() });
    },
    CASE_MS,
  );

  it(
    'auth login reads the client secret in the credential profile the environment names, as run does',
    async () => {
      const server = `e2e-oauth-profile-${id}`;
      const config = await writeOAuthConfig({
        [server]: {
          url: strict.mcpUrl,
          confirm: false,
          auth: { grant: 'client_credentials', client_id: 'machine', client_secret: '${secret:CLIENT_SECRET}' },
        },
      });
      const stored = await runBin(['secrets', 'set', server, 'CLIENT_SECRET', '--config', config, '--profile', 'work'], {
        env: env(),
        input: `${machineSecret}\n`,
      });
      expect(stored.code).toBe(0);
      // The default profile holds no secret for it: the error names the command for the profile it looked in.
      const missing = await cli(['auth', 'login', server, '--config', config]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain(`mcp-keyproxy secrets set ${server} CLIENT_SECRET\n`);
      const granted = () => strict.count('token', (event) => event.grant === 'client_credentials' && event.ok === true);
      const before = granted();
      const login = await cli(['auth', 'login', server, '--config', config], { MCP_KEYPROXY_PROFILE: 'work' });
      expect(login.code).toBe(0);
      expect(granted()).toBe(before + 1);
      expect(login.stderr + login.stdout).not.toContain(machineSecret);
      await runBin(['secrets', 'clear', server, '--yes', '--profile', 'work'], { env: env() });
      await cli(['auth', 'logout', server, '--config', config], { MCP_KEYPROXY_PROFILE: 'work' });
    },
    CASE_MS,
  );
});
