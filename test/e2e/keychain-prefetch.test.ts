// The keychain read of a client's start, begun before the CLI loads (src/secrets/keychain-prefetch.ts), through the
// built proxy and the real Secret Service: only once a start of that server has read the keychain, with the values
// as stored when the start began, and never for a server whose secrets all come from elsewhere.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession, uniqueServer } from '../helpers/keyring.js';
import { connectThroughProxy, descendantsOf, everythingEntry, everythingServer, procText, runBin, writeConfig } from '../helpers/proxy.js';

requireKeyringSession();

const server = uniqueServer('e2e-prefetch');
const envOnly = uniqueServer('e2e-prefetch-env');
let config: string;
let stateDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  config = await writeConfig({
    [server]: everythingServer({ API_TOKEN: '${secret:TOKEN}' }, { TOKEN: {} }),
    [envOnly]: everythingServer({ API_TOKEN: '${secret:TOKEN}' }, { TOKEN: { from: 'env:PREFETCH_E2E_TOKEN' } }),
  });
  stateDir = await mkdtemp(join(tmpdir(), 'keyproxy-prefetch-state-'));
  env = { MCP_KEYPROXY_STATE_DIR: stateDir, MCP_KEYPROXY_TRACE_STARTUP: '1', PREFETCH_E2E_TOKEN: `env-${randomBytes(8).toString('hex')}` };
}, 60_000);

const hint = (name: string) => join(stateDir, 'keychain-prefetch', 'default', name);

async function store(value: string): Promise<void> {
  const set = await runBin(['secrets', 'set', server, 'TOKEN', '--config', config], { input: value, env: { ...process.env, ...env } });
  expect(set.code, set.stderr).toBe(0);
}

/** Starts the proxy for `name`: the API_TOKEN its server got, and whether the keychain read was begun early. */
async function start(name: string): Promise<{ token: string | undefined; prefetched: boolean }> {
  const { client, proxyPid, stderr } = await connectThroughProxy({ config, server: name, env });
  try {
    await client.callTool({ name: 'get-env', arguments: {} });
    let environ = '';
    for (const pid of await descendantsOf(proxyPid)) {
      if ((await procText(pid, 'cmdline')).includes(everythingEntry)) environ = await procText(pid, 'environ');
    }
    const trace = stderr()
      .split('\n')
      .find((line) => line.startsWith('{"startupTrace"'));
    expect(trace, 'MCP_KEYPROXY_TRACE_STARTUP=1 prints the trace once the first byte has gone out').toBeDefined();
    const marks = (JSON.parse(trace!) as { startupTrace: Record<string, number> }).startupTrace;
    return { token: /(?:^| )API_TOKEN=(\S+)/.exec(environ)?.[1], prefetched: marks.keychainPrefetch !== undefined };
  } finally {
    await client.close();
  }
}

describe('the keychain read begun before the CLI loads', () => {
  it('begins only after a start of the server read the keychain, and hands the value stored when it began', async () => {
    const first = `first-${randomBytes(12).toString('hex')}`;
    await store(first);
    expect(existsSync(hint(server))).toBe(false);
    expect(await start(server)).toEqual({ token: first, prefetched: false });
    expect(existsSync(hint(server)), 'the start that read the keychain leaves the hint').toBe(true);
    expect(await start(server)).toEqual({ token: first, prefetched: true });

    // A value changed between two starts: the next start reads it (nothing kept across processes).
    const second = `second-${randomBytes(12).toString('hex')}`;
    await store(second);
    expect(await start(server)).toEqual({ token: second, prefetched: true });
  }, 120_000);

  it('does not begin for a server whose secrets come from elsewhere; a hint left from before is used once, then removed', async () => {
    expect(await start(envOnly)).toEqual({ token: env.PREFETCH_E2E_TOKEN, prefetched: false });
    expect(existsSync(hint(envOnly))).toBe(false);
    // A hint left from when the server kept its key in the keychain: used once, then removed.
    await mkdir(join(stateDir, 'keychain-prefetch', 'default'), { recursive: true });
    await writeFile(hint(envOnly), '', { mode: 0o600 });
    expect(await start(envOnly)).toEqual({ token: env.PREFETCH_E2E_TOKEN, prefetched: true });
    expect(existsSync(hint(envOnly))).toBe(false);
    expect(await start(envOnly)).toEqual({ token: env.PREFETCH_E2E_TOKEN, prefetched: false });
  }, 120_000);
});
