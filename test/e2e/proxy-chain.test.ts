import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binPath, connectThroughProxy, descendantsOf, everythingEntry, everythingServer, inheritedEnv, waitFor } from '../helpers/proxy.js';

/** Starts `mcp-keyproxy <args>` as a client would, sends initialize, and waits (bounded) for it to end. */
async function runUntilExit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; leftover: number[] }> {
  const proxy = spawn(process.execPath, [binPath, ...args], { env: inheritedEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proxy.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proxy.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const initialize = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'e2e', version: '1' } };
  proxy.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: initialize })}\n`);
  const ended = await waitFor(() => proxy.exitCode !== null || proxy.signalCode !== null, 25_000);
  const leftover = await descendantsOf(proxy.pid ?? -1);
  if (!ended) proxy.kill('SIGKILL');
  expect(ended).toBe(true);
  return { code: proxy.exitCode, stdout, stderr, leftover };
}

describe('self-recursion guard', () => {
  it('an entry that runs mcp-keyproxy on its own config fails once, with a clear message, and starts nothing more', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-loop-'));
    const config = join(dir, 'proxy.config.json');
    const count = join(dir, 'starts');
    // Each start of the entry appends a line, then becomes mcp-keyproxy on the same config and server.
    const entry = {
      command: '/bin/sh',
      args: ['-c', 'echo start >> "$STARTS"; exec "$0" "$@"', process.execPath, binPath, 'run', 'loop', '--config', config, '--headless'],
      env: { STARTS: count },
    };
    await writeFile(config, JSON.stringify({ servers: { loop: entry } }));
    const result = await runUntilExit(['run', 'loop', '--config', config, '--headless']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('would run itself again');
    // The chain is quoted from the inner proxy's last output, whose tail is bounded: the second path may be cut short.
    expect(result.stderr).toContain(`${config}#loop → `);
    expect((await readFile(count, 'utf8')).trim().split('\n')).toEqual(['start']);
    expect(result.leftover).toEqual([]);
  });

  it('an inline server whose command is the same inline server is refused the same way', async () => {
    const inner = [process.execPath, binPath, 'run', 'same', '--headless', '--', process.execPath, everythingEntry, 'stdio'];
    const result = await runUntilExit(['run', 'same', '--headless', '--', ...inner]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('inline#same → inline#same');
  });

  it('behind one endpoint, a member that runs the same aggregate is refused each start and given up on, while the others serve', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-loop-'));
    const config = join(dir, 'proxy.config.json');
    const count = join(dir, 'starts');
    const loop = {
      command: '/bin/sh',
      args: ['-c', 'echo start >> "$STARTS"; exec "$0" "$@"', process.execPath, binPath, 'run', '--config', config, '--headless'],
      env: { STARTS: count },
    };
    await writeFile(config, JSON.stringify({ servers: { loop, ok: everythingServer({}) } }));
    const { client } = await connectThroughProxy({ config, extraArgs: ['--headless'] });
    try {
      const status = async (): Promise<string> =>
        JSON.stringify((await client.callTool({ name: 'keyproxy__status', arguments: {} })).content);
      // Restarts back off (1 s, 2 s, 4 s, 8 s) and stop after five failed starts: wait for the member to be given up on.
      expect(await waitFor(async () => /loop \(local\): failed/.test(await status()), 60_000)).toBe(true);
      const starts = (await readFile(count, 'utf8')).trim().split('\n').length;
      expect(starts).toBeLessThanOrEqual(5);
      expect(await status()).toContain('would run itself again');
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('ok__echo');
    } finally {
      await client.close();
    }
  }, 90_000);
});
