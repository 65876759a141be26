import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';

/** Repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The built CLI, as a user runs it. */
export const binPath = join(repoRoot, 'bin/mcp-keyproxy.js');
/** The entry script of @modelcontextprotocol/server-everything. */
export const everythingEntry = join(
  dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist/index.js',
);

/** Runs the built CLI to completion with `input` on stdin. */
export function runBin(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      process.execPath,
      [binPath, ...args],
      { env: options.env ?? process.env, cwd: options.cwd ?? repoRoot, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error && typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : error ? 1 : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** Writes a proxy config into a fresh temp dir and returns its path. */
export async function writeConfig(servers: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-test-'));
  const path = join(dir, 'proxy.config.json');
  await writeFile(path, JSON.stringify({ servers }, null, 2));
  return path;
}

/** A server-everything entry for the config, with `env` as given. */
export function everythingServer(env: Record<string, string>, secrets: Record<string, unknown> = {}): Record<string, unknown> {
  return { command: process.execPath, args: [everythingEntry, 'stdio'], env, secrets, confirm: false };
}

/** A client connected through the proxy, the proxy's stderr so far, and its pid. */
export interface ProxyConnection {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
  proxyPid: number;
}

/** An SDK client connected to `mcp-keyproxy run <server>` (every enabled server without one), stderr collected. */
export async function connectThroughProxy(options: {
  config: string;
  server?: string;
  capabilities?: ClientCapabilities;
  env?: Record<string, string>;
  extraArgs?: string[];
  /** Runs before connecting, e.g. to register request handlers the proxy may call right after initialize. */
  beforeConnect?: (client: Client) => void;
}): Promise<ProxyConnection> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [binPath, 'run', ...(options.server ? [options.server] : []), '--config', options.config, ...(options.extraArgs ?? [])],
    env: { ...inheritedEnv(), ...options.env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'e2e-client', version: '1.0.0' }, { capabilities: options.capabilities ?? {} });
  options.beforeConnect?.(client);
  await client.connect(transport);
  return { client, transport, stderr: () => stderr, proxyPid: transport.pid ?? -1 };
}

/** The environment the test processes get: the keyring session's variables must pass. */
export function inheritedEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** Pids of every descendant of `pid`, from /proc. */
export async function descendantsOf(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** True while a process with this pid exists (and is not a zombie). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls until `check` is true or `ms` pass. */
export async function waitFor(check: () => Promise<boolean> | boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/** Waits for the proxy (pid) to show a native dialog and returns the dialog's pid. */
export async function dialogOf(proxyPid: number): Promise<number> {
  let found: number | undefined;
  await waitFor(async () => {
    for (const pid of await descendantsOf(proxyPid)) {
      if ((await procText(pid, 'cmdline')).includes('keyproxy-dialog')) found = pid;
    }
    return found !== undefined;
  }, 10_000);
  if (found === undefined) throw new Error('the proxy showed no dialog');
  return found;
}

/** `/proc/<pid>/<file>` as text with NULs turned into spaces ('' when unreadable). */
export async function procText(pid: number, file: 'cmdline' | 'environ'): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/${file}`)).toString('utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}
