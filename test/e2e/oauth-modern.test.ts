import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession } from '../helpers/keyring.js';
import { browserPath, OAuthE2e, startOAuthFixture, storedTokens, type OAuthFixture } from '../helpers/oauth.js';
import { binPath } from '../helpers/proxy.js';

// OAuth from inside MCP for a client that speaks 2026-07-28 (the v2 SDK client pinned to it): no initialize, and no
// server->client requests, so connect_<server>'s URL-mode elicitation reaches the client as an input_required
// result that it answers by retrying. The client "opens" the URL with the $BROWSER fixture, which follows the
// authorization server's redirects (test/fixtures/oauth-server.mjs: the SDK's mcpAuthRouter + requireBearerAuth)
// to the proxy's loopback callback.

const run = promisify(execFile);
const id = randomBytes(4).toString('hex');
const POLL = { timeout: 30_000 };

let e2e: OAuthE2e;
let fixture: OAuthFixture;

beforeAll(async () => {
  requireKeyringSession();
  [e2e, fixture] = await Promise.all([OAuthE2e.create(), startOAuthFixture()]);
}, 120_000);

afterAll(async () => {
  await e2e?.close();
  await fixture?.stop();
});

interface ElicitParams {
  mode?: string;
  message: string;
  url?: string;
}

describe('OAuth login for a 2026-07-28 client', () => {
  it('connect_<server> asks through input_required with the authorization URL; the login lands in the keychain and the tools arrive over subscriptions/listen', async () => {
    const server = `e2e-oauth-modern-${id}`;
    const config = await e2e.writeConfig({ [server]: { url: fixture.mcpUrl, auth: 'oauth', confirm: false } });
    const client = new Client(
      { name: 'oauth-modern-e2e', version: '1.0.0' },
      { capabilities: { elicitation: { form: {}, url: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    const asked: ElicitParams[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      const params = request.params as ElicitParams;
      asked.push(params);
      // As a client does once the user agrees: the URL opens in the browser.
      if (params.mode === 'url' && params.url) await run(process.execPath, [browserPath, params.url], { env: e2e.env() });
      return { action: 'accept' } as never;
    });
    let changed = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => void changed++);
    let stderr = '';
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [binPath, 'run', server, '--config', config],
      env: e2e.env(),
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await client.connect(transport);
    try {
      await client.listen({ toolsListChanged: true });
      const tools = async () => (await client.listTools()).tools.map((tool) => tool.name);
      expect(await tools()).toEqual([`connect_${server}`]);
      const result = (await client.callTool({ name: `connect_${server}`, arguments: {} })) as { isError?: boolean };
      expect(result.isError).toBeFalsy();
      expect(asked).toHaveLength(1);
      expect(asked[0]?.mode).toBe('url');
      expect(asked[0]?.url).toContain(`${fixture.origin}/authorize?`);
      await expect.poll(() => changed, POLL).toBeGreaterThan(0);
      await expect.poll(tools, POLL).toContain('echo');
      const echo = (await client.callTool({ name: 'echo', arguments: { message: 'modern' } })) as { content?: Array<{ text?: string }> };
      expect(echo.content?.[0]?.text).toBe('echo: modern');
      const tokens = await storedTokens(server);
      expect(stderr).not.toContain(tokens.access_token);
      expect(fixture.count('token', (event) => event.grant === 'authorization_code' && event.ok === true)).toBeGreaterThanOrEqual(1);
    } finally {
      await client.close();
      await e2e.cli(['auth', 'logout', server, '--config', config]);
    }
  }, 120_000);
});
