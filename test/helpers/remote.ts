import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { everythingEntry, inheritedEnv, repoRoot, runBin, waitFor } from './proxy.js';

/** The fixture remote MCP server (Streamable HTTP or SSE, optional bearer token, optional redirect). */
export const remoteFixturePath = join(repoRoot, 'test/fixtures/remote-server.mjs');
/** The preload that binds every server of a process to 127.0.0.1 and reports its port on stderr. */
export const loopbackPreloadPath = join(repoRoot, 'test/fixtures/remote-loopback.mjs');

/** One line the fixture printed. */
export interface FixtureEvent {
  event: string;
  port?: number;
  method?: string;
  path?: string;
  auth?: 'ok' | 'next' | 'missing' | 'wrong';
  headers?: string[];
  sessionId?: string | null;
  rpc?: string[];
  outcome?: string;
  /** The 2026-era header values a request came with (modern-server.mjs). */
  mcp?: Record<string, string | null>;
}

/** A running HTTP server on 127.0.0.1 and what it saw. */
export interface HttpServerProcess {
  port: number;
  /** Base URL, e.g. http://127.0.0.1:1234 */
  origin: string;
  pid: number;
  events: FixtureEvent[];
  stop(): Promise<void>;
}

/** Options of the fixture server (see test/fixtures/remote-server.mjs). */
export interface RemoteFixtureOptions {
  mode?: 'http' | 'sse';
  token?: string;
  /** A second accepted token (reported as auth "next"). */
  nextToken?: string;
  redirect?: string;
  port?: number;
}

function watchLines(stream: NodeJS.ReadableStream | null, onEvent: (event: FixtureEvent) => void): void {
  let buffer = '';
  stream?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (!line.startsWith('{"event"')) continue;
      try {
        onEvent(JSON.parse(line) as FixtureEvent);
      } catch {
        // Not one of ours.
      }
    }
  });
}

/** Waits for a spawned fixture's `listening` event on `from` and collects its other events. */
export async function startListening(child: ChildProcess, from: 'stdout' | 'stderr', events: FixtureEvent[]): Promise<HttpServerProcess> {
  let port: number | undefined;
  watchLines(child[from], (event) => {
    if (event.event === 'listening') port = event.port;
    else events.push(event);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (!(await waitFor(() => port !== undefined || child.exitCode !== null, 15_000)) || port === undefined) {
    child.kill('SIGKILL');
    throw new Error('the HTTP server did not report its port');
  }
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    events,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000).unref())]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await exited;
    },
  };
}

/** Starts test/fixtures/remote-server.mjs on 127.0.0.1. */
export function startRemoteFixture(options: RemoteFixtureOptions = {}): Promise<HttpServerProcess> {
  const env: Record<string, string> = { ...inheritedEnv(), FIXTURE_MODE: options.mode ?? 'http', FIXTURE_PORT: String(options.port ?? 0) };
  if (options.token !== undefined) env.FIXTURE_TOKEN = options.token;
  if (options.nextToken !== undefined) env.FIXTURE_NEXT_TOKEN = options.nextToken;
  if (options.redirect !== undefined) env.FIXTURE_REDIRECT = options.redirect;
  const child = spawn(process.execPath, [remoteFixturePath], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return startListening(child, 'stdout', []);
}

/** The fixture server that asks the client on the standalone GET stream (see test/fixtures/get-stream-server.mjs). */
export const getStreamFixturePath = join(repoRoot, 'test/fixtures/get-stream-server.mjs');

/** Starts test/fixtures/get-stream-server.mjs on 127.0.0.1. */
export function startGetStreamFixture(): Promise<HttpServerProcess> {
  const child = spawn(process.execPath, [getStreamFixturePath], { env: inheritedEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  return startListening(child, 'stdout', []);
}

/** Starts test/fixtures/modern-server.mjs (a 2026-07-28-only v2 SDK server) on 127.0.0.1. */
export function startModernFixture(): Promise<HttpServerProcess> {
  const child = spawn(process.execPath, [join(repoRoot, 'test/fixtures/modern-server.mjs')], {
    env: inheritedEnv(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return startListening(child, 'stdout', []);
}

/** Starts @modelcontextprotocol/server-everything in streamableHttp mode, forced onto 127.0.0.1 and a free port. */
export function startEverythingHttp(): Promise<HttpServerProcess> {
  const child = spawn(process.execPath, ['--import', loopbackPreloadPath, everythingEntry, 'streamableHttp'], {
    env: { ...inheritedEnv(), PORT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return startListening(child, 'stderr', []);
}

/** A remote server entry for the config, with the bearer token from the keychain secret `api_key`. */
export function remoteServerEntry(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    url,
    headers: { Authorization: 'Bearer ${secret:api_key}', 'X-Plain': 'visible' },
    secrets: { api_key: { label: 'API key' } },
    confirm: false,
    ...extra,
  };
}

/** Stores a secret with `mcp-keyproxy secrets set` (value on stdin), failing loudly if that fails. */
export async function storeSecret(config: string, server: string, name: string, value: string): Promise<void> {
  const result = await runBin(['secrets', 'set', server, name, '--config', config], { input: `${value}\n` });
  if (result.code !== 0) throw new Error(`secrets set failed (${result.code}): ${result.stderr}`);
}

/** Established TCP connections to `port` on 127.0.0.1, from /proc/net/tcp (both ends are listed). */
export async function establishedConnections(port: number): Promise<number> {
  const table = await readFile('/proc/net/tcp', 'utf8');
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return table
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === '01' && (fields[1]?.endsWith(`:${hexPort}`) || fields[2]?.endsWith(`:${hexPort}`))).length;
}
