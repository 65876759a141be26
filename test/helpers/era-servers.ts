import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { inheritedEnv, repoRoot, waitFor } from './proxy.js';

/** The v2 SDK fixture server of the era tests (see test/fixtures/era-server.mjs). */
export const eraFixture = join(repoRoot, 'test/fixtures/era-server.mjs');

/** A stdio config entry (or direct command) for the fixture: `dual` serves both eras, `modern` only 2026-07-28. */
export function eraStdio(era: 'dual' | 'modern'): { command: string; args: string[] } {
  return { command: process.execPath, args: [eraFixture, 'stdio', era] };
}

/** A running HTTP era fixture on 127.0.0.1 and the events it printed (e.g. `cancelled`). */
export interface EraHttpServer {
  url: string;
  origin: string;
  events: string[];
  stop(): Promise<void>;
}

/** Starts the fixture over Streamable HTTP: `dual` (createMcpHandler default) or `modern` (legacy: 'reject'). */
export async function startEraHttp(era: 'dual' | 'modern'): Promise<EraHttpServer> {
  const child = spawn(process.execPath, [eraFixture, 'http', era], { env: inheritedEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let port: number | undefined;
  const events: string[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const { event, port: listening } = JSON.parse(buffer.slice(0, newline)) as { event: string; port?: number };
      buffer = buffer.slice(newline + 1);
      if (event === 'listening') port = listening;
      else events.push(event);
    }
  });
  if (!(await waitFor(() => port !== undefined || child.exitCode !== null, 15_000)) || port === undefined) {
    child.kill('SIGKILL');
    throw new Error(`the era fixture (http ${era}) did not report its port`);
  }
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/mcp`,
    origin,
    events,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
