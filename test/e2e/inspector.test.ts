import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession } from '../helpers/keyring.js';
import { binPath, everythingServer, inheritedEnv, repoRoot, runBin, writeConfig } from '../helpers/proxy.js';

/** The MCP Inspector's CLI, a third-party client, pointed at `mcp-keyproxy run …`. */
async function inspector(config: string, proxyArgs: string[], method: string[]): Promise<string> {
  const cli = join(repoRoot, 'node_modules/.bin/mcp-inspector');
  const { stdout } = await promisify(execFile)(
    cli,
    [
      '--cli',
      '-e',
      `MCP_KEYPROXY_CONFIG=${config}`,
      // The Inspector starts servers with a minimal environment; the test keyring's bus is not at the standard
      // place the proxy falls back to ($XDG_RUNTIME_DIR/bus), so it is named.
      '-e',
      `DBUS_SESSION_BUS_ADDRESS=${process.env.DBUS_SESSION_BUS_ADDRESS ?? ''}`,
      process.execPath,
      binPath,
      'run',
      ...proxyArgs,
      ...method,
    ],
    { env: inheritedEnv(), timeout: 60_000 },
  );
  return stdout;
}

const server = `e2e-inspector-${randomBytes(3).toString('hex')}`;
const token = `inspector-canary-${randomBytes(12).toString('hex')}`;
let config: string;

beforeAll(async () => {
  requireKeyringSession();
  config = await writeConfig({
    [server]: everythingServer({ API_TOKEN: '${secret:API_TOKEN}' }, { API_TOKEN: {} }),
    [`${server}-plain`]: everythingServer({}),
  });
  expect(await runBin(['secrets', 'set', server, 'API_TOKEN', '--config', config], { input: token })).toMatchObject({ code: 0 });
});

afterAll(async () => {
  await runBin(['secrets', 'clear', server, '--yes']);
});

describe('the MCP Inspector CLI as the client', () => {
  it('calls a tool of one server through the proxy; the key is injected and shown redacted', async () => {
    const output = await inspector(config, [server], ['--method', 'tools/call', '--tool-name', 'get-env']);
    expect(output).toContain(`[REDACTED:${server}/API_TOKEN]`);
    expect(output).not.toContain(token);
  });

  it('lists the prefixed tools of every server behind one entry', async () => {
    const tools = (JSON.parse(await inspector(config, [], ['--method', 'tools/list'])) as { tools: Array<{ name: string }> }).tools;
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining([`${server}__get-env`, `${server}-plain__echo`]));
  });
});
