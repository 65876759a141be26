// README's exit-code table, each code from a real invocation of the built bin against the real keychain.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyringStore } from '../../src/secrets/keyring-store.js';
import { requireKeyringSession, startBareBus, uniqueServer } from '../helpers/keyring.js';
import { binPath, everythingServer, runBin, waitFor, writeConfig } from '../helpers/proxy.js';
import { keys, startOnPty } from '../helpers/pty.js';

requireKeyringSession();

const store = new KeyringStore();
const used: string[] = [];
function server(): string {
  const name = uniqueServer('e2e-cli-codes');
  used.push(name);
  return name;
}
afterAll(async () => {
  for (const name of used) for (const secret of await store.list(name)) await store.delete(name, secret);
});

const STACK_LINE = /\n\s+at /;

describe('exit codes', () => {
  it('0: success', async () => {
    const name = server();
    const result = await runBin(['secrets', 'set', '--new-server', name, 'TOKEN'], { input: 'a-long-enough-value\n' });
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(await runBin(['secrets', 'delete', name, 'TOKEN'])).toMatchObject({ code: 0 });
  });

  it('1: the command ran and failed (a doctor check)', async () => {
    const config = await writeConfig({ broken: { command: 'no-such-command-mcp-keyproxy-codes', confirm: false } });
    const result = await runBin(['doctor', '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL .*no-such-command-mcp-keyproxy-codes/);
  });

  it('2: bad input: an unknown option, a secret that is not stored, a server the config does not have', async () => {
    expect((await runBin(['secrets', 'list', '--bogus'])).code).toBe(2);

    const missing = await runBin(['secrets', 'delete', server(), 'NOT_STORED']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No secret "NOT_STORED" is stored');

    const name = server();
    const config = await writeConfig({ [name]: everythingServer({ T: '${secret:TOKEN}' }, { TOKEN: {} }) });
    const typo = await runBin(['secrets', 'set', `${name}x`, 'TOKEN', '--config', config], { input: 'a-long-enough-value\n' });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(`has no server "${name}x", so nothing was stored. A typo? Did you mean "${name}"?`);
    expect(typo.stderr).not.toContain('warning');
    expect(await store.list(`${name}x`)).toEqual([]);
    expect(typo.stderr + missing.stderr).not.toMatch(STACK_LINE);
  });

  it('69: the keychain cannot be reached', async () => {
    const bus = await startBareBus();
    try {
      const result = await runBin(['secrets', 'list', server()], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus.address } });
      expect(result.code).toBe(69);
      expect(result.stderr).toContain('No Secret Service is running');
      expect(result.stderr).not.toMatch(STACK_LINE);
    } finally {
      await bus.stop();
    }
  });

  it('78: a config error, such as an unknown server in run (with the closest name)', async () => {
    const config = await writeConfig({ 'github-tools': everythingServer({}) });
    const result = await runBin(['run', 'github-tool', '--config', config, '--headless']);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('no server "github-tool"');
    expect(result.stderr).toContain('Did you mean "github-tools"?');
    expect(result.stdout).toBe('');
  });

  it('130: Ctrl-C while running (SIGINT)', async () => {
    const config = await writeConfig({ plain: everythingServer({}) });
    const child = spawn(process.execPath, [binPath, 'run', 'plain', '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.resume();
    // An answer shows the proxy serving, its signal handlers set.
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })}\n`);
    expect(await waitFor(() => stdout.includes('"id":1'), 20_000)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
  });

  it('130: Ctrl-C at the confirmation of secrets clear; nothing is deleted', async () => {
    const name = server();
    await store.set(name, 'A_KEY', 'a-long-enough-value');
    const session = startOnPty(['secrets', 'clear', name]);
    await session.waitFor(/Delete 1 secret\(s\)/);
    await session.type(keys.ctrlC);
    expect(await session.exited).toBe(130);
    expect(session.screen()).toContain('Cancelled (Ctrl-C); nothing was deleted.');
    expect(await store.list(name)).toEqual(['A_KEY']);
  });
});

describe('~ in paths', () => {
  it('is expanded in --config and MCP_KEYPROXY_CONFIG, which a client passes unexpanded', async () => {
    const home = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-home-'));
    await mkdir(join(home, 'cfg'));
    const name = server();
    await writeFile(
      join(home, 'cfg', 'proxy.json'),
      JSON.stringify({ servers: { [name]: everythingServer({ T: '${secret:TOKEN}' }, { TOKEN: {} }) } }),
    );
    const env = { ...process.env, HOME: home };
    const viaFlag = await runBin(['secrets', 'list', '--json', '--config', '~/cfg/proxy.json'], { env });
    expect(viaFlag.code).toBe(0);
    expect(JSON.parse(viaFlag.stdout)).toEqual([
      expect.objectContaining({ server: name, name: 'TOKEN', declaredIn: join(home, 'cfg', 'proxy.json') }),
    ]);
    const viaEnv = await runBin(['secrets', 'list', '--json'], { env: { ...env, MCP_KEYPROXY_CONFIG: '~/cfg/proxy.json' } });
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toEqual([expect.objectContaining({ declaredIn: join(home, 'cfg', 'proxy.json') })]);
  });
});
