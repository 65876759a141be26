import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoCanary } from '../helpers/canary.js';
import { requireKeyringSession } from '../helpers/keyring.js';
import { binPath, inheritedEnv, repoRoot, runBin, waitFor, writeConfig } from '../helpers/proxy.js';
import { remoteServerEntry, startListening, storeSecret, type HttpServerProcess } from '../helpers/remote.js';

/**
 * The canary of canary.test.ts for the traffic the 2026-07-28 era adds: a 2026-only server
 * (test/fixtures/leaky-modern-server.mjs) puts its secret into its server/discover result, into input_required
 * results (the question and the requestState) and into a subscriptions/listen event; a 2026-era client that speaks
 * to it through the proxy, over the stdio path and the remote path, gets none of it in any encoding.
 */

const fixturePath = join(repoRoot, 'test/fixtures/leaky-modern-server.mjs');
const suffix = randomBytes(3).toString('hex');
// Quotes and a backslash make the JSON-escaped form differ from the raw one.
const stdioCanary = `canary-modern-${randomBytes(12).toString('hex')}-"q"\\`;
const remoteCanary = `canary-modern-remote-${randomBytes(12).toString('hex')}`;
const canaries = [stdioCanary, remoteCanary];
const local = `e2e-leaky-modern-${suffix}`;
const remote = `e2e-leaky-modern-remote-${suffix}`;
let stateDir: string;
let config: string;
let remoteServer: HttpServerProcess;

const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
  'io.modelcontextprotocol/clientInfo': { name: 'canary-2026', version: '1' },
};

beforeAll(async () => {
  requireKeyringSession();
  stateDir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-canary-modern-state-'));
  const child = spawn(process.execPath, [fixturePath, 'http'], { env: inheritedEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  remoteServer = await startListening(child, 'stdout', []);
  config = await writeConfig({
    [local]: {
      command: process.execPath,
      args: [fixturePath, 'stdio'],
      env: { LEAKY_KEY: '${secret:KEY}' },
      secrets: { KEY: {} },
      confirm: false,
    },
    [remote]: remoteServerEntry(`${remoteServer.origin}/mcp`),
  });
  const set = await runBin(['secrets', 'set', local, 'KEY', '--config', config], {
    input: stdioCanary,
    env: { ...process.env, MCP_KEYPROXY_STATE_DIR: stateDir },
  });
  expect(set.code).toBe(0);
  await storeSecret(config, remote, 'api_key', remoteCanary);
});

afterAll(async () => {
  await remoteServer?.stop();
  for (const server of [local, remote]) await runBin(['secrets', 'clear', server, '--yes']);
});

type Wire = JSONRPCMessage & { id?: unknown; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown> };

/**
 * One 2026-era client session through `mcp-keyproxy run <server>`, written by hand so that every message on the wire
 * is seen: server/discover, subscriptions/listen for leak://watched, a tool call answered input_required and its
 * retry with the answer and the requestState it got, and a call that makes the server send the listened-for event.
 */
async function modernSession(server: string): Promise<{ wire: Wire[]; stderr: string; results: Record<string, Record<string, unknown>> }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [binPath, 'run', server, '--config', config, '--log-level', 'trace'],
    env: { ...inheritedEnv(), MCP_KEYPROXY_STATE_DIR: stateDir },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const wire: Wire[] = [];
  transport.onmessage = (message) => void wire.push(message as Wire);
  await transport.start();
  const results: Record<string, Record<string, unknown>> = {};
  const request = async (id: number, method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> => {
    await transport.send({ jsonrpc: '2.0', id, method, params: { ...params, _meta: META } });
    const answered = () => wire.find((message) => message.id === id && message.method === undefined);
    expect(await waitFor(() => answered() !== undefined, 30_000), `no answer to ${method}\n${stderr}`).toBe(true);
    const answer = answered()!;
    expect(answer.result, JSON.stringify(answer)).toBeDefined();
    return answer.result!;
  };
  try {
    results.discover = await request(1, 'server/discover', {});
    // The listen request stays open; the server acknowledges it with a notification.
    await transport.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'subscriptions/listen',
      params: { notifications: { resourceSubscriptions: ['leak://watched'] }, _meta: META },
    });
    const acknowledged = () => wire.some((message) => message.method === 'notifications/subscriptions/acknowledged');
    expect(await waitFor(acknowledged, 30_000), stderr).toBe(true);
    results.ask = await request(3, 'tools/call', { name: 'ask', arguments: {} });
    results.answered = await request(4, 'tools/call', {
      name: 'ask',
      arguments: {},
      inputResponses: { name: { action: 'accept', content: { name: 'Ada' } } },
      requestState: results.ask.requestState,
    });
    results.touch = await request(5, 'tools/call', { name: 'touch', arguments: {} });
    const updated = () => wire.find((message) => message.method === 'notifications/resources/updated');
    expect(await waitFor(() => updated() !== undefined, 30_000), stderr).toBe(true);
    results.updated = updated()!.params!;
  } finally {
    await transport.close();
  }
  return { wire, stderr, results };
}

describe('canary, 2026-07-28 era: no secret reaches a 2026 client', { timeout: 120_000 }, () => {
  it.each([
    ['stdio path', () => local, 'KEY'],
    ['remote path', () => remote, 'api_key'],
  ] as const)(
    '%s: server/discover, input_required (question and requestState), subscriptions/listen events',
    async (_path, name, secret) => {
      const server = name();
      const { wire, stderr, results } = await modernSession(server);
      const redacted = `[REDACTED:${server}/${secret}]`;
      // Each place did carry the secret, and arrived, so its absence below means something.
      expect(results.discover!.instructions).toBe(`Use the key ${redacted}`);
      expect(results.ask).toMatchObject({
        resultType: 'input_required',
        inputRequests: { name: { method: 'elicitation/create', params: { message: `Your name? (key ${redacted})` } } },
        requestState: `state:${redacted}`,
      });
      expect(JSON.stringify(results.answered)).toContain(`with ${redacted}`);
      expect(results.updated).toMatchObject({ uri: 'leak://watched', _meta: { leaked: redacted } });
      expectNoCanary(`messages to the 2026 client (${_path})`, JSON.stringify(wire), canaries);
      expectNoCanary(`the proxy's stderr (${_path})`, stderr, canaries);
    },
  );
});
