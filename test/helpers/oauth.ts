import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema, type CallToolResult, type ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { binPath, inheritedEnv, repoRoot, runBin } from './proxy.js';
import { startListening, type FixtureEvent, type HttpServerProcess } from './remote.js';

// The parts of the OAuth e2e tests: a real authorization server built from the SDK's server auth parts
// (test/fixtures/oauth-server.mjs) with a real MCP server behind requireBearerAuth, and a "browser"
// (test/fixtures/browser/follow-redirects.mjs) that xdg-open starts through $BROWSER (the `open` package).

const fixturePath = join(repoRoot, 'test/fixtures/oauth-server.mjs');
/** The $BROWSER fixture: follows the authorization server's redirects to the proxy's callback. */
export const browserPath = join(repoRoot, 'test/fixtures/browser/follow-redirects.mjs');
const run = promisify(execFile);

/** The OAuth fixture: its MCP endpoint and a count of the events it reported. */
export interface OAuthFixture extends HttpServerProcess {
  mcpUrl: string;
  count(event: string, match?: (event: FixtureEvent & Record<string, unknown>) => boolean): number;
}

/** Starts test/fixtures/oauth-server.mjs (environment: see the fixture). */
export function startOAuthFixture(env: Record<string, string> = {}): Promise<OAuthFixture> {
  const child = spawn(process.execPath, [fixturePath], { env: { ...inheritedEnv(), ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return startListening(child, 'stdout', []).then((server) => ({
    ...server,
    mcpUrl: `${server.origin}/mcp`,
    count: (event, match = () => true) =>
      server.events.filter((seen) => seen.event === event && match(seen as FixtureEvent & Record<string, unknown>)).length,
  }));
}

/** A proxy started by an MCP client over stdio. */
export interface OAuthProxy {
  client: Client;
  stderr: () => string;
  listChanged: () => number;
  close: () => Promise<void>;
}

/** The tokens the keychain holds for a server (read with secret-tool, as a person would check). */
export async function storedTokens(
  server: string,
): Promise<{ access_token: string; refresh_token?: string; expires_at?: number; scope?: string }> {
  const { stdout } = await run('secret-tool', ['lookup', 'service', `mcp-keyproxy-oauth/${server}`, 'username', 'tokens']);
  if (!stdout) throw new Error(`no tokens stored for ${server}`);
  return JSON.parse(stdout) as { access_token: string; refresh_token?: string; expires_at?: number; scope?: string };
}

/** The text parts of a tool result. */
export function text(result: unknown): string {
  return ((result as CallToolResult).content ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('\n');
}

/**
 * One test file's surroundings: a fresh HOME, the $BROWSER fixture with its log, and no display (xdg-open then uses
 * $BROWSER); the configs it writes and the proxies it starts, closed by `close`.
 */
export class OAuthE2e {
  private readonly cleanups: Array<() => Promise<unknown>> = [];

  private constructor(
    readonly home: string,
    readonly browserLog: string,
  ) {}

  static async create(): Promise<OAuthE2e> {
    const home = await mkdtemp(join(tmpdir(), 'keyproxy-oauth-home-'));
    const browserLog = join(await mkdtemp(join(tmpdir(), 'keyproxy-oauth-browser-')), 'browser.log');
    return new OAuthE2e(home, browserLog);
  }

  /** The environment of every mcp-keyproxy process here. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    const base = inheritedEnv();
    for (const name of [
      'DISPLAY',
      'WAYLAND_DISPLAY',
      'XDG_CURRENT_DESKTOP',
      'DESKTOP_SESSION',
      'KDE_FULL_SESSION',
      'MCP_KEYPROXY_HEADLESS',
    ]) {
      delete base[name];
    }
    return { ...base, HOME: this.home, BROWSER: browserPath, FIXTURE_BROWSER_LOG: this.browserLog, ...extra };
  }

  /** The URLs the $BROWSER fixture was started with, as "open <url>" lines. */
  async browserOpens(): Promise<string[]> {
    const text = await readFile(this.browserLog, 'utf8').catch(() => '');
    return text.split('\n').filter((line) => line.startsWith('open '));
  }

  /** Writes a config with these servers; resolves with its path. */
  async writeConfig(servers: Record<string, unknown>): Promise<string> {
    const path = join(this.home, `proxy-${randomBytes(3).toString('hex')}.config.json`);
    await writeFile(path, JSON.stringify({ servers }, null, 2));
    return path;
  }

  /** Runs the CLI. */
  cli(args: string[], extra: Record<string, string> = {}): ReturnType<typeof runBin> {
    return runBin(args, { env: this.env(extra) });
  }

  /** Starts `mcp-keyproxy run <server>` under an SDK client, counting `tools/list_changed`. */
  async startProxy(
    config: string,
    server: string,
    options: { capabilities?: ClientCapabilities; args?: string[]; setup?: (client: Client) => void } = {},
  ): Promise<OAuthProxy> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [binPath, 'run', ...(server ? [server] : []), '--config', config, ...(options.args ?? [])],
      env: this.env(),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'oauth-e2e', version: '1.0.0' }, { capabilities: options.capabilities ?? {} });
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed += 1;
    });
    options.setup?.(client);
    await client.connect(transport);
    const close = (): Promise<void> => client.close();
    this.cleanups.push(close);
    return { client, stderr: () => stderr, listChanged: () => changed, close };
  }

  /** Closes the proxies still open and deletes HOME. */
  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0)) await cleanup().catch(() => undefined);
    await rm(this.home, { recursive: true, force: true });
  }
}
