import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession } from '../helpers/keyring.js';
import { connectThroughProxy, descendantsOf, everythingEntry, procText, runBin } from '../helpers/proxy.js';

const server = `e2e-client-${randomBytes(4).toString('hex')}`;
const token = `canary-${randomBytes(16).toString('hex')}`;
let file: string;

beforeAll(async () => {
  requireKeyringSession();
  // A Claude Desktop file as the app writes it, used as the proxy's config: settings beside mcpServers, and an
  // entry with the keys clients add (type, disabled, autoApprove), in JSONC as VS Code would allow.
  const dir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-client-file-'));
  file = join(dir, 'claude_desktop_config.json');
  const entry = {
    type: 'stdio',
    command: process.execPath,
    args: [everythingEntry, 'stdio'],
    env: { API_TOKEN: '${secret:API_TOKEN}' },
    secrets: { API_TOKEN: {} },
    confirm: false,
    disabled: false,
    autoApprove: ['echo'],
  };
  const body = JSON.stringify({ globalShortcut: 'Ctrl+Space', mcpServers: { [server]: entry } }, null, 2);
  await writeFile(file, `// written by hand\n${body.replace(/\n}$/, ',\n}')}\n`);
  const set = await runBin(['secrets', 'set', server, 'API_TOKEN', '--config', file], { input: token });
  expect(set.code).toBe(0);
});

afterAll(async () => {
  await runBin(['secrets', 'clear', server, '--yes']);
});

describe("a client's own file as the config", () => {
  it('serves the entry with its key, and warns once about what it ignores', async () => {
    const { client, proxyPid, stderr } = await connectThroughProxy({ config: file, server });
    try {
      const result = JSON.stringify((await client.callTool({ name: 'get-env', arguments: {} })).content);
      expect(result).toContain(`[REDACTED:${server}/API_TOKEN]`);
      expect(result).not.toContain(token);
      const [child] = await descendantsOf(proxyPid);
      expect(await procText(child!, 'environ')).toContain(`API_TOKEN=${token}`);
    } finally {
      await client.close();
    }
    const log = stderr();
    expect(log.match(/ignored \\"globalShortcut\\"/g)).toHaveLength(1);
    expect(log.match(/ignored \\"disabled\\", \\"autoApprove\\"/g)).toHaveLength(1);
    expect(log).not.toContain(token);
  });
});
