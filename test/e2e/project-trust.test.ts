import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { untilReady } from '../helpers/aggregate-client.js';
import { requireKeyringSession, uniqueServer } from '../helpers/keyring.js';
import { binPath, everythingServer, inheritedEnv, runBin } from '../helpers/proxy.js';

requireKeyringSession();

/**
 * A user config with one server whose key is in the real keychain, and a working directory as a cloned repository
 * would leave it: a proxy.config.json that redefines that server, and a project file. Neither may take effect
 * before `mcp-keyproxy trust`; each is reported, and an edit makes it untrusted again.
 */
const server = uniqueServer('e2e-trust');
const extra = uniqueServer('e2e-projsrv');
const token = `tok-${randomBytes(12).toString('hex')}`;
let root: string;
let env: Record<string, string>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'keyproxy-trust-e2e-'));
  env = { ...inheritedEnv(), XDG_CONFIG_HOME: join(root, 'xdg'), MCP_KEYPROXY_STATE_DIR: join(root, 'state') };
  delete env.MCP_KEYPROXY_CONFIG;
  await mkdir(join(root, 'xdg', 'mcp-keyproxy'), { recursive: true });
  await writeFile(
    join(root, 'xdg', 'mcp-keyproxy', 'proxy.config.json'),
    JSON.stringify({ servers: { [server]: everythingServer({ API_TOKEN: '${secret:TOKEN}' }, { TOKEN: {} }) } }),
  );
  const set = await runBin(['secrets', 'set', server, 'TOKEN'], { input: token, env, cwd: root });
  expect([set.code, set.stderr]).toEqual([0, '']);
});

/** An SDK client on `mcp-keyproxy run [server]` started in `cwd` with no --config, as a client in a project starts it. */
async function connectIn(cwd: string, serverName?: string) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [binPath, 'run', ...(serverName ? [serverName] : [])],
    env,
    cwd,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'e2e-trust', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

const textOf = (result: unknown): string =>
  ((result as { content: Array<{ type: string; text?: string }> }).content ?? []).map((part) => part.text ?? '').join('\n');

/** What server-everything's get-env shows (the proxy redacts the injected key) and the proxy's stderr. */
async function envSeen(cwd: string): Promise<{ seen: string; stderr: string }> {
  const { client, stderr } = await connectIn(cwd, server);
  try {
    return { seen: textOf(await client.callTool({ name: 'get-env', arguments: {} })), stderr: stderr() };
  } finally {
    await client.close();
  }
}

describe('files found in the working directory take effect only once trusted', () => {
  it('a cloned proxy.config.json that redefines a server cannot get its keys until trusted; edited, it is untrusted again', async () => {
    const clone = join(root, 'clone');
    await mkdir(clone);
    const evil = (mark: string) =>
      JSON.stringify({
        servers: {
          [server]: everythingServer({ API_TOKEN: '${secret:TOKEN}', CLONE_MARK: mark }, { TOKEN: {} }),
        },
      });
    const file = join(clone, 'proxy.config.json');
    await writeFile(file, evil('cloned'));

    const before = await envSeen(clone);
    // The user's own server ran, with the user's key, and the clone's definition did not.
    expect(before.seen).toContain('API_TOKEN');
    expect(before.seen).not.toContain('CLONE_MARK');
    expect(before.seen).not.toContain(token);
    expect(before.stderr).toContain(`${file} (a config in the working directory) is not trusted, so it is not used`);
    expect(before.stderr).toContain(`mcp-keyproxy trust ${file}`);

    const trusted = await runBin(['trust'], { env, cwd: clone });
    expect([trusted.code, trusted.stdout]).toEqual([0, expect.stringContaining(`Trusted ${file}`)]);
    expect(trusted.stdout).toContain(`${server}: runs ${process.execPath}`);
    const after = await envSeen(clone);
    expect(after.seen).toContain('CLONE_MARK');
    expect(after.stderr).not.toContain('not trusted');

    await writeFile(file, evil('changed'));
    const edited = await envSeen(clone);
    expect(edited.seen).not.toContain('CLONE_MARK');
    expect(edited.stderr).toContain('has changed since you trusted it');
  }, 90_000);

  it('a project file is reported in keyproxy__status and not applied until trusted; enable/disable keep it trusted', async () => {
    const repo = join(root, 'repo');
    const sub = join(repo, 'packages', 'app');
    await mkdir(sub, { recursive: true });
    const file = join(repo, '.mcp-keyproxy.json');
    await writeFile(
      file,
      JSON.stringify({ servers: { [server]: { env: { PROJECT_MODE: 'on' } }, [extra]: everythingServer({ PROJECT_SERVER: 'yes' }) } }),
    );
    /** The aggregate answers before slow members are up, so this waits (bounded) for the servers it expects. */
    const status = async (expected: string[] = [server]): Promise<{ status: string; tools: string[]; env: string }> => {
      const { client } = await connectIn(sub);
      try {
        await untilReady(client, expected);
        const text = textOf(await client.callTool({ name: 'keyproxy__status', arguments: {} }));
        const tools = (await client.listTools()).tools.map((tool) => tool.name);
        const seen = textOf(await client.callTool({ name: `${server}__get-env`, arguments: {} }));
        return { status: text, tools, env: seen };
      } finally {
        await client.close();
      }
    };

    const untrusted = await status();
    expect(untrusted.status).toContain(`The project file ${file} is not trusted, so it is not used`);
    expect(untrusted.status).not.toContain(extra);
    expect(untrusted.env).not.toContain('PROJECT_MODE');

    const listed = await runBin(['servers', '--json'], { env, cwd: sub });
    expect(JSON.parse(listed.stdout)).toMatchObject({ project: null, untrusted: [{ path: file, kind: 'project', state: 'untrusted' }] });

    expect(await runBin(['trust'], { env, cwd: sub })).toMatchObject({ code: 0 });
    const applied = await status([server, extra]);
    expect(applied.status).not.toContain('not trusted');
    expect(applied.status).toContain(`${extra} (local)`);
    expect(applied.tools).toContain(`${extra}__get-env`);
    expect(applied.env).toContain('PROJECT_MODE');

    const disabled = await runBin(['disable', extra], { env, cwd: sub });
    expect([disabled.code, disabled.stdout]).toEqual([0, expect.stringContaining(`Disabled ${extra} for this project in ${file}`)]);
    const servers = JSON.parse((await runBin(['servers', '--json'], { env, cwd: sub })).stdout) as {
      servers: Array<{ name: string; enabled: boolean; definedIn: string }>;
    };
    expect(servers.servers).toContainEqual(expect.objectContaining({ name: extra, enabled: false, definedIn: file }));
    const afterDisable = await status();
    expect(afterDisable.status).not.toContain('not trusted');
    expect(afterDisable.status).not.toContain(extra);

    await writeFile(file, JSON.stringify({ servers: { [server]: { env: { PROJECT_MODE: 'edited' } } } }));
    const edited = await status();
    expect(edited.status).toContain('has changed since you trusted it');
    expect(edited.env).not.toContain('PROJECT_MODE');
  }, 120_000);
});
