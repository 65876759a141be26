import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession } from '../helpers/keyring.js';
import { binPath, descendantsOf, everythingEntry, inheritedEnv, procText, runBin } from '../helpers/proxy.js';
import { startRemoteFixture, type HttpServerProcess } from '../helpers/remote.js';

const local = `e2e-inline-${randomBytes(4).toString('hex')}`;
const remote = `e2e-inline-remote-${randomBytes(4).toString('hex')}`;
const token = `canary-${randomBytes(16).toString('hex')}`;
const apiKey = `apikey-${randomBytes(16).toString('hex')}`;
/** A working directory with no proxy.config.json, in a HOME with none either (scripts/with-keyring.sh). */
let cwd: string;
let fixture: HttpServerProcess;

/** An SDK client that launches `mcp-keyproxy <args>` as a client would, from a directory with no config. */
async function connect(args: string[]): Promise<{ client: Client; pid: number; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [binPath, ...args],
    env: inheritedEnv(),
    cwd,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'e2e-inline', version: '1.0.0' });
  await client.connect(transport);
  return { client, pid: transport.pid ?? -1, stderr: () => stderr };
}

beforeAll(async () => {
  requireKeyringSession();
  cwd = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-inline-'));
  fixture = await startRemoteFixture({ token: apiKey });
});

afterAll(async () => {
  await fixture.stop();
  await runBin(['secrets', 'clear', local, '--yes'], { cwd });
  await runBin(['secrets', 'clear', remote, '--yes'], { cwd });
});

describe('inline mode: no config file', () => {
  it('secrets set stores a key for a server no config names, without a warning', async () => {
    const set = await runBin(['secrets', 'set', local, 'GITHUB_TOKEN'], { input: token, cwd });
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
  });

  it('run <name> --secret VAR -- <command> gives the server its key, redacted to the client', async () => {
    const { client, pid, stderr } = await connect([
      'run',
      local,
      '--secret',
      'GITHUB_TOKEN',
      '--headless',
      '--',
      process.execPath,
      everythingEntry,
      'stdio',
    ]);
    try {
      const text = JSON.stringify((await client.callTool({ name: 'get-env', arguments: {} })).content);
      expect(text).toContain(`[REDACTED:${local}/GITHUB_TOKEN]`);
      expect(text).not.toContain(token);
      const [child] = await descendantsOf(pid);
      expect(await procText(child!, 'environ')).toContain(`GITHUB_TOKEN=${token}`);
      for (const each of [pid, child!]) expect(await procText(each, 'cmdline')).not.toContain(token);
    } finally {
      await client.close();
    }
    expect(stderr()).not.toContain(token);
  });

  it('run <name> --url … --header "Authorization: Bearer ${secret:key}" reaches a remote server with the header', async () => {
    const set = await runBin(['secrets', 'set', remote, 'api_key'], { input: apiKey, cwd });
    expect(set.code).toBe(0);
    const url = `${fixture.origin}/mcp`;
    const { client } = await connect(['run', remote, '--url', url, '--header', 'Authorization: Bearer ${secret:api_key}', '--headless']);
    try {
      const result = await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
      expect(JSON.stringify(result.content)).toContain('echo: hi');
    } finally {
      await client.close();
    }
    const requests = fixture.events.filter((event) => event.event === 'request');
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((event) => event.auth === 'ok')).toBe(true);
  });

  it('headless, a missing key is exit 78 naming the secrets set command; nothing on stdout', async () => {
    const result = await runBin(['run', local, '--secret', 'OTHER_KEY', '--headless', '--', process.execPath, everythingEntry, 'stdio'], {
      cwd,
    });
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`mcp-keyproxy secrets set ${local} OTHER_KEY`);
  });

  it('refuses unclear command lines with a usage error (exit 2)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['run', local, '--secret', 'TOKEN'], /add "-- <command>/],
      [['run', local, '--secret', 'BAD-NAME', '--', 'node'], /environment variable name/],
      [['run', local, '--url', 'https://x.example/mcp', '--', 'node'], /not both/],
      [['run', local, '--header', 'Authorization: x', '--', 'node'], /--header is for a remote server/],
      [['run', local, '--url', 'https://x.example/mcp', '--header', 'no colon'], /"Name: value"/],
    ];
    for (const [args, message] of cases) {
      const result = await runBin(args, { cwd });
      expect(result.stderr).toMatch(message);
      expect(result.code).toBe(2);
    }
  });
});
