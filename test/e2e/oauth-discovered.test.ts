import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession, secretToolAccounts } from '../helpers/keyring.js';
import { OAuthE2e, startOAuthFixture, storedTokens, text, type OAuthFixture, type OAuthProxy } from '../helpers/oauth.js';
import { binPath, waitFor } from '../helpers/proxy.js';
import { storeSecret } from '../helpers/remote.js';

// A plain {"url": …} entry (what mcp-remote users have) whose server answers 401 with `WWW-Authenticate: Bearer …`
// is an OAuth server from then on, exactly like one configured with "auth": "oauth": against the SDK's
// mcpAuthRouter + requireBearerAuth (test/fixtures/oauth-server.mjs) and the $BROWSER fixture that follows redirects.

const id = randomBytes(4).toString('hex');
/** Each case runs CLI and proxy processes and a browser login: bound generously for a busy machine. */
const CASE_MS = 120_000;

let e2e: OAuthE2e;
let fixture: OAuthFixture;

beforeAll(async () => {
  requireKeyringSession();
  [e2e, fixture] = await Promise.all([OAuthE2e.create(), startOAuthFixture()]);
}, CASE_MS);

afterAll(async () => {
  await e2e?.close();
  await fixture?.stop();
});

/** connect_<server>, then the time until its tools are listed; the login goes through the $BROWSER fixture. */
async function connectAndWaitForTools(proxy: OAuthProxy, server: string): Promise<number> {
  expect((await proxy.client.listTools()).tools.map((tool) => tool.name)).toEqual([`connect_${server}`]);
  const started = performance.now();
  const result = await proxy.client.callTool({ name: `connect_${server}`, arguments: {} });
  expect(result.isError).toBeFalsy();
  expect(text(result)).toContain(`${fixture.origin}/authorize?`);
  expect(await waitFor(() => proxy.listChanged() > 0, 20_000)).toBe(true);
  expect(await waitFor(async () => (await proxy.client.listTools()).tools.some((tool) => tool.name === 'echo'), 20_000)).toBe(true);
  return performance.now() - started;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

describe('a url-only entry logs in on the server 401 challenge', () => {
  const server = `e2e-oauth-plain-${id}`;
  let config: string;

  it(
    'run <server> lists connect_<server>; calling it logs in through the browser, the tools arrive (list_changed), a call works',
    async () => {
      config = await e2e.writeConfig({ [server]: { url: fixture.mcpUrl, confirm: false } });
      const opens = (await e2e.browserOpens()).length;
      const proxy = await e2e.startProxy(config, server);
      expect(proxy.client.getServerVersion()?.name).toBe(`mcp-keyproxy/${server}`);
      await connectAndWaitForTools(proxy, server);
      expect((await e2e.browserOpens()).length).toBe(opens + 1);
      expect(text(await proxy.client.callTool({ name: 'echo', arguments: { message: 'discovered' } }))).toBe('echo: discovered');
      // Stored exactly as for a configured OAuth server.
      expect((await secretToolAccounts(server, `mcp-keyproxy-oauth/${server}`)).sort()).toEqual(['client', 'discovery', 'tokens']);
      const tokens = await storedTokens(server);
      expect(proxy.stderr()).not.toContain(tokens.access_token);
      expect(proxy.stderr()).not.toContain('rejected');
      await proxy.close();
    },
    CASE_MS,
  );

  it(
    'the next start uses the stored tokens: the tools at once, no browser, no 401 first',
    async () => {
      const opens = (await e2e.browserOpens()).length;
      const unauthorized = fixture.count('mcp', (event) => event.status === 401);
      const proxy = await e2e.startProxy(config, server);
      expect(proxy.client.getServerVersion()?.name).toBe('oauth-fixture');
      expect((await proxy.client.listTools()).tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo']));
      expect(text(await proxy.client.callTool({ name: 'echo', arguments: { message: 'again' } }))).toBe('echo: again');
      expect((await e2e.browserOpens()).length).toBe(opens);
      expect(fixture.count('mcp', (event) => event.status === 401)).toBe(unauthorized);
      await proxy.close();
    },
    CASE_MS,
  );

  it(
    'tokens stored for another URL under the same name are not sent: the new server challenges, connect_<server> is offered',
    async () => {
      const other = await startOAuthFixture();
      try {
        const moved = await e2e.writeConfig({ [server]: { url: other.mcpUrl, confirm: false } });
        const proxy = await e2e.startProxy(moved, server);
        expect((await proxy.client.listTools()).tools.map((tool) => tool.name)).toEqual([`connect_${server}`]);
        // Its one request carried no token: the old one was never offered to the other server.
        expect(other.count('mcp', (event) => event.status === 200)).toBe(0);
        await proxy.close();
      } finally {
        await other.stop();
      }
    },
    CASE_MS,
  );

  it(
    'headless without a login: the client is told `mcp-keyproxy auth login <server>`, exit 78',
    async () => {
      const fresh = `e2e-oauth-plain-headless-${id}`;
      const headlessConfig = await e2e.writeConfig({ [fresh]: { url: fixture.mcpUrl, confirm: false } });
      const child = spawn(process.execPath, [binPath, 'run', fresh, '--config', headlessConfig, '--headless'], {
        env: e2e.env(),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // 'close', not 'exit': the last lines on its stdout and stderr may still be on their way when it has exited.
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const opens = (await e2e.browserOpens()).length;
      child.stdin.write(
        `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'headless-e2e', version: '1' } } })}\n`,
      );
      const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 20_000))]);
      if (code === 'timeout') child.kill();
      expect(code).toBe(78);
      const answer = JSON.parse(stdout.trim().split('\n')[0]!) as { id: number; error?: { message: string } };
      expect(answer.id).toBe(1);
      expect(answer.error?.message).toContain(`mcp-keyproxy auth login ${fresh}`);
      expect(stderr).toContain(`mcp-keyproxy auth login ${fresh}`);
      expect((await e2e.browserOpens()).length).toBe(opens);
    },
    CASE_MS,
  );
});

describe('auth login and the aggregate for url-only entries', () => {
  it(
    '`auth login <server>` logs in from the 401 challenge; `auth status` lists it; the proxy then serves the tools',
    async () => {
      const server = `e2e-oauth-plain-cli-${id}`;
      const config = await e2e.writeConfig({ [server]: { url: fixture.mcpUrl, confirm: false } });
      const login = await e2e.cli(['auth', 'login', server, '--config', config]);
      expect(login.stderr).toContain('/authorize?');
      expect(login.code).toBe(0);
      expect(login.stdout).toContain(`Logged in to ${server}`);
      const status = await e2e.cli(['auth', 'status', '--config', config, '--json']);
      expect(JSON.parse(status.stdout)).toMatchObject([{ server, loggedIn: true }]);
      const proxy = await e2e.startProxy(config, server);
      expect(text(await proxy.client.callTool({ name: 'echo', arguments: { message: 'cli' } }))).toBe('echo: cli');
      await proxy.close();
      const logout = await e2e.cli(['auth', 'logout', server, '--config', config]);
      expect(logout.code).toBe(0);
      expect(logout.stdout).toContain('revoked');
    },
    CASE_MS,
  );

  it(
    'behind one endpoint (run with no server): the member answering with a challenge becomes connect_<server>, then its tools',
    async () => {
      const server = `e2e-oauth-plain-agg-${id}`;
      const config = await e2e.writeConfig({ [server]: { url: fixture.mcpUrl, confirm: false } });
      const proxy = await e2e.startProxy(config, '');
      const listed = async (): Promise<string[]> => (await proxy.client.listTools()).tools.map((tool) => tool.name);
      expect(await waitFor(async () => (await listed()).includes(`connect_${server}`), 20_000)).toBe(true);
      const before = proxy.listChanged();
      const result = await proxy.client.callTool({ name: `connect_${server}`, arguments: {} });
      expect(text(result)).toContain(`${fixture.origin}/authorize?`);
      expect(await waitFor(async () => (await listed()).some((name) => name.endsWith('echo')), 20_000)).toBe(true);
      expect(proxy.listChanged()).toBeGreaterThan(before);
      const echo = (await listed()).find((name) => name.endsWith('echo'))!;
      expect(text(await proxy.client.callTool({ name: echo, arguments: { message: 'aggregate' } }))).toBe('echo: aggregate');
      await proxy.close();
    },
    CASE_MS,
  );
});

describe('a server with a credential of its own', () => {
  it(
    'a secret Authorization header refused with 401 (and a Bearer challenge) keeps the rejected-key message naming secrets set; no browser',
    async () => {
      const server = `e2e-oauth-keyed-${id}`;
      const config = await e2e.writeConfig({
        [server]: {
          url: fixture.mcpUrl,
          confirm: false,
          headers: { Authorization: 'Bearer ${secret:TOKEN}' },
          secrets: { TOKEN: { label: 'API token' } },
        },
      });
      const wrong = `wrong-${randomBytes(12).toString('hex')}`;
      await storeSecret(config, server, 'TOKEN', wrong);
      const opens = (await e2e.browserOpens()).length;
      const refused = fixture.count('mcp', (event) => event.status === 401);
      const error = await e2e.startProxy(config, server).then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      expect(error).toBeInstanceOf(McpError);
      const message = (error as McpError).message;
      expect(message).toContain(`mcp-keyproxy secrets set ${server} TOKEN`);
      expect(message).not.toContain('auth login');
      expect(message).not.toContain(wrong);
      // The server did refuse it with its Bearer challenge (requireBearerAuth: invalid_token).
      expect(fixture.count('mcp', (event) => event.status === 401)).toBeGreaterThan(refused);
      expect((await e2e.browserOpens()).length).toBe(opens);
      expect(await secretToolAccounts(server, `mcp-keyproxy-oauth/${server}`)).toEqual([]);
      await e2e.cli(['secrets', 'clear', server, '--yes', '--config', config]);
    },
    CASE_MS,
  );
});

describe('connect_<server> to tools available: url-only entry against "auth": "oauth"', () => {
  it(
    'a few runs of each, taking turns; medians printed',
    async () => {
      const runs = 3;
      const times = { plain: [] as number[], configured: [] as number[] };
      for (let round = 0; round < runs; round += 1) {
        for (const kind of ['configured', 'plain'] as const) {
          const server = `e2e-oauth-time-${kind}-${round}-${id}`;
          const entry = kind === 'plain' ? { url: fixture.mcpUrl, confirm: false } : { url: fixture.mcpUrl, auth: 'oauth', confirm: false };
          const proxy = await e2e.startProxy(await e2e.writeConfig({ [server]: entry }), server);
          times[kind].push(await connectAndWaitForTools(proxy, server));
          await proxy.close();
        }
      }
      const line = (kind: 'plain' | 'configured'): string =>
        `${median(times[kind]).toFixed(0)} ms (runs: ${times[kind].map((ms) => ms.toFixed(0)).join(', ')})`;
      process.stderr.write(
        `oauth-discovered e2e: connect_<server> to tools, url-only ${line('plain')}; "auth": "oauth" ${line('configured')}\n`,
      );
      expect(times.plain).toHaveLength(runs);
    },
    CASE_MS * 2,
  );
});
