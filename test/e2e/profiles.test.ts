import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession, secretToolAccounts, uniqueServer } from '../helpers/keyring.js';
import { connectThroughProxy, descendantsOf, everythingEntry, everythingServer, procText, runBin, writeConfig } from '../helpers/proxy.js';

requireKeyringSession();

const server = uniqueServer('e2e-profile');
const values = { default: `default-${randomBytes(12).toString('hex')}`, work: `work-${randomBytes(12).toString('hex')}` };
let config: string;
let stateDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  config = await writeConfig({ [server]: everythingServer({ API_TOKEN: '${secret:TOKEN}' }, { TOKEN: {} }) });
  stateDir = await mkdtemp(join(tmpdir(), 'keyproxy-profiles-state-'));
  env = { MCP_KEYPROXY_STATE_DIR: stateDir };
  const childEnv = { ...process.env, ...env };
  expect(await runBin(['secrets', 'set', server, 'TOKEN', '--config', config], { input: values.default, env: childEnv })).toMatchObject({
    code: 0,
  });
  const work = await runBin(['secrets', 'set', server, 'TOKEN', '--config', config, '--profile', 'work'], {
    input: values.work,
    env: childEnv,
  });
  expect([work.code, work.stdout]).toEqual([0, expect.stringContaining(`Stored TOKEN for ${server} (profile work)`)]);
}, 60_000);

/** The API_TOKEN in the environment of the server-everything child of a proxy started with `extraArgs`. */
async function injected(extraArgs: string[], extraEnv: Record<string, string> = {}): Promise<{ token: string | undefined; seen: string }> {
  const { client, proxyPid } = await connectThroughProxy({ config, server, env: { ...env, ...extraEnv }, extraArgs });
  try {
    const result = await client.callTool({ name: 'get-env', arguments: {} });
    let environ = '';
    for (const pid of await descendantsOf(proxyPid)) {
      if ((await procText(pid, 'cmdline')).includes(everythingEntry)) environ = await procText(pid, 'environ');
    }
    return { token: /(?:^| )API_TOKEN=(\S+)/.exec(environ)?.[1], seen: JSON.stringify(result.content) };
  } finally {
    await client.close();
  }
}

describe('credential profiles through the built proxy and the real keychain', () => {
  it('keeps the default profile under the old keychain name and another profile under its own', async () => {
    expect(await secretToolAccounts(server)).toEqual(['TOKEN']);
    expect(await secretToolAccounts(server, `mcp-keyproxy@work/${server}`)).toEqual(['TOKEN']);
  });

  it('injects the value of the profile run is given (--profile, MCP_KEYPROXY_PROFILE, MCP_CREDENTIAL_PROFILE), the default one otherwise', async () => {
    const plain = await injected([]);
    expect(plain.token).toBe(values.default);
    const flagged = await injected(['--profile', 'work']);
    expect(flagged.token).toBe(values.work);
    expect(flagged.seen).not.toContain(values.work);
    expect((await injected([], { MCP_KEYPROXY_PROFILE: 'work' })).token).toBe(values.work);
    expect((await injected([], { MCP_CREDENTIAL_PROFILE: 'work' })).token).toBe(values.work);

    const audit = (await readFile(join(stateDir, 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; server?: string; profile?: string });
    const injections = audit.filter((event) => event.event === 'injection' && event.server === server);
    expect(injections.map((event) => event.profile ?? 'default')).toEqual(['default', 'work', 'work', 'work']);
    // Four proxies start one after the other.
  }, 90_000);

  it('shows the profile in keyproxy__status, lists and deletes per profile', async () => {
    const { client } = await connectThroughProxy({ config, env, extraArgs: ['--profile', 'work'] });
    try {
      const status = (await client.callTool({ name: 'keyproxy__status', arguments: {} })) as { content: Array<{ text: string }> };
      expect(status.content[0]?.text).toMatch(/^profile: work\n/);
    } finally {
      await client.close();
    }
    const childEnv = { ...process.env, ...env };
    const listed = await runBin(['secrets', 'list', server, '--json', '--config', config, '--profile', 'work'], { env: childEnv });
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: 'TOKEN', stored: true, profile: 'work' })]);
    const other = await runBin(['secrets', 'list', server, '--json', '--config', config, '--profile', 'staging'], { env: childEnv });
    expect(JSON.parse(other.stdout)).toEqual([expect.objectContaining({ name: 'TOKEN', stored: false })]);
    expect(await runBin(['secrets', 'delete', server, 'TOKEN', '--profile', 'work'], { env: childEnv })).toMatchObject({ code: 0 });
    expect(await secretToolAccounts(server, `mcp-keyproxy@work/${server}`)).toEqual([]);
    expect(await secretToolAccounts(server)).toEqual(['TOKEN']);
  });

  it('names the profile in the fix for a missing secret, and refuses an invalid profile name', async () => {
    const missing = await runBin(['run', server, '--config', config, '--headless', '--profile', 'staging'], {
      env: { ...process.env, ...env },
    });
    expect(missing.code).toBe(78);
    expect(missing.stderr).toContain(`mcp-keyproxy secrets set ${server} TOKEN --profile staging`);
    expect(missing.stdout).toBe('');
    const invalid = await runBin(['run', server, '--config', config, '--profile', 'no/slash'], { env: { ...process.env, ...env } });
    expect([invalid.code, invalid.stderr]).toEqual([2, expect.stringContaining('is not a valid profile name')]);
    const fromEnv = await runBin(['secrets', 'list', server], { env: { ...process.env, ...env, MCP_CREDENTIAL_PROFILE: 'a b' } });
    expect([fromEnv.code, fromEnv.stderr]).toEqual([2, expect.stringContaining('from MCP_CREDENTIAL_PROFILE')]);
  });
});
