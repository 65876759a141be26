import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectThroughProxy, inheritedEnv, isAlive, repoRoot, waitFor, writeConfig } from '../helpers/proxy.js';

/** A server that answers `cut` with half an event and then destroys the connection carrying it. */
const fixturePath = join(repoRoot, 'test/fixtures/stream-cut-server.mjs');
const stops: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

/** Starts the fixture on 127.0.0.1 and returns its origin and how many connections it cut so far. */
async function startFixture(mode: 'http' | 'sse'): Promise<{ origin: string; cuts: () => number }> {
  const child = spawn(process.execPath, [fixturePath], {
    env: { ...inheritedEnv(), FIXTURE_MODE: mode },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  stops.push(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let port: number | undefined;
  let cuts = 0;
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
      const event = JSON.parse(buffer.slice(0, newline)) as { event: string; port?: number };
      buffer = buffer.slice(newline + 1);
      if (event.event === 'listening') port = event.port;
      if (event.event === 'cut') cuts += 1;
    }
  });
  if (!(await waitFor(() => port !== undefined, 15_000))) throw new Error('the fixture did not report its port');
  return { origin: `http://127.0.0.1:${port}`, cuts: () => cuts };
}

const text = (result: Awaited<ReturnType<Awaited<ReturnType<typeof connectThroughProxy>>['client']['callTool']>>) =>
  JSON.stringify(result.content);

describe.each([
  { mode: 'http' as const, path: '/mcp', stream: 'the POST answer stream (Streamable HTTP)' },
  { mode: 'sse' as const, path: '/sse', stream: 'the event stream (SSE)' },
])('remote: $stream cut mid-event', ({ mode, path }) => {
  it('fails the call within seconds with a clear error, and the next call works', async () => {
    const fixture = await startFixture(mode);
    const config = await writeConfig({ cutter: { url: `${fixture.origin}${path}`, transport: mode, confirm: false } });
    const { client, stderr, proxyPid } = await connectThroughProxy({ config, server: 'cutter' });
    try {
      expect(text(await client.callTool({ name: 'echo', arguments: { message: 'before' } }))).toContain('echo: before');
      const started = Date.now();
      // The SDK's own limit would end the wait after 60 s; 15 s is plenty for "promptly" and keeps the test short.
      const call = client.callTool({ name: 'cut', arguments: {} }, undefined, { timeout: 15_000 });
      await expect(call).rejects.toThrow(
        /Server "cutter": the connection broke before the answer arrived \(.+\)\. The request may or may not have been carried out; retry it if that is safe\./,
      );
      const elapsed = Date.now() - started;
      expect(fixture.cuts()).toBe(1);
      expect(elapsed).toBeLessThan(5000);
      expect(text(await client.callTool({ name: 'echo', arguments: { message: 'after' } }))).toContain('echo: after');
      expect(await isAlive(proxyPid)).toBe(true);
      expect(stderr()).toContain('a stream ended before the answers it carried');
      console.info(`[${mode}] the cut call failed after ${elapsed} ms`);
    } finally {
      await client.close();
    }
  });
});
