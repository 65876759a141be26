import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession, secretToolSearch } from '../helpers/keyring.js';
import { passthroughSuite } from '../helpers/passthrough.js';
import {
  binPath,
  connectThroughProxy,
  descendantsOf,
  everythingServer,
  inheritedEnv,
  isAlive,
  procText,
  repoRoot,
  runBin,
  waitFor,
  writeConfig,
} from '../helpers/proxy.js';

const server = `e2e-${randomBytes(4).toString('hex')}`;
const token = `canary-${randomBytes(16).toString('hex')}`;
let config: string;

beforeAll(async () => {
  requireKeyringSession();
  config = await writeConfig({
    [server]: everythingServer(
      { API_TOKEN: '${secret:API_TOKEN}', PLAIN: 'visible' },
      { API_TOKEN: { label: 'API token', field_type: 'password' } },
    ),
  });
  const set = await runBin(['secrets', 'set', server, 'API_TOKEN', '--config', config], { input: `${token}\n` });
  expect(set.stderr).toBe('');
  expect(set.code).toBe(0);
});

afterAll(async () => {
  await runBin(['secrets', 'clear', server, '--yes']);
});

describe('secrets set', () => {
  it('stores the value read from stdin under mcp-keyproxy/<server>, as secret-tool shows', async () => {
    const found = await secretToolSearch(server);
    expect(found).toContain(`mcp-keyproxy/${server}`);
    expect(found).toContain('API_TOKEN');
    // The trailing newline that `echo` adds is not part of the secret.
    expect(found).toContain(`secret = ${token}\n`);
  });

  it('lists names and where they are declared, never values', async () => {
    const list = await runBin(['secrets', 'list', '--config', config, '--json']);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(token);
    const rows = JSON.parse(list.stdout) as Array<{ server: string; name: string; stored: boolean; declaredIn: string }>;
    expect(rows).toContainEqual(expect.objectContaining({ server, name: 'API_TOKEN', stored: true, declaredIn: config }));
  });
});

describe('run: injection', () => {
  it('injects the secret into the child environment only, never on any argv, and scrubs it from results', async () => {
    const { client, proxyPid, stderr } = await connectThroughProxy({ config, server, extraArgs: ['--log-level', 'debug'] });
    try {
      const result = await client.callTool({ name: 'get-env', arguments: {} });
      const text = JSON.stringify(result.content);
      expect(text).toContain('API_TOKEN');
      expect(text).toContain(`[REDACTED:${server}/API_TOKEN]`);
      expect(text).toContain('visible');
      expect(text).not.toContain(token);

      const [childPid] = await descendantsOf(proxyPid);
      expect(childPid).toBeDefined();
      expect(await procText(childPid!, 'environ')).toContain(`API_TOKEN=${token}`);
      // Only allowlisted parent variables pass: the keyring session address does not.
      expect(await procText(childPid!, 'environ')).not.toContain('DBUS_SESSION_BUS_ADDRESS');
      for (const pid of [proxyPid, childPid!]) expect(await procText(pid, 'cmdline')).not.toContain(token);
      expect(stderr()).not.toContain(token);
    } finally {
      await client.close();
    }
  });
});

describe('run: passthrough', () => {
  passthroughSuite(
    (capabilities) => connectThroughProxy({ config, server, capabilities }),
    () => token,
  );
});

describe('run: headless and errors', () => {
  it('exits 78 before speaking when a secret is missing, naming the fix', async () => {
    const missingConfig = await writeConfig({
      [`${server}-missing`]: everythingServer({ KEY: '${secret:OTHER_KEY}' }, { OTHER_KEY: {} }),
    });
    const result = await runBin(['run', `${server}-missing`, '--config', missingConfig, '--headless']);
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`mcp-keyproxy secrets set ${server}-missing OTHER_KEY`);
  });

  it('reports a missing Secret Service as a clear error', async () => {
    const env = { ...inheritedEnv(), DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' };
    const result = await runBin(['run', server, '--config', config, '--headless'], { env });
    expect(result.code).toBe(69);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/Secret Service|D-Bus/i);
    expect(result.stderr).not.toContain(token);
  });

  it('writes nothing but JSON-RPC to stdout', async () => {
    const proxy = spawn(process.execPath, [binPath, 'run', server, '--config', config, '--log-level', 'trace'], {
      env: inheritedEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    proxy.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const send = (message: object): boolean => proxy.stdin.write(`${JSON.stringify(message)}\n`);
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    expect(await waitFor(() => stdout.includes('"id":1'), 10_000)).toBe(true);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hello' } } });
    expect(await waitFor(() => stdout.includes('"id":2'), 10_000)).toBe(true);
    proxy.stdin.end();
    await new Promise((r) => proxy.once('close', r));
    const lines = stdout.split('\n').filter((line) => line.length > 0);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
  });
});

describe('doctor', () => {
  it('checks the keychain, each command and each secret, warns about values too short to scrub, and fails on what is broken', async () => {
    const doctorServer = `${server}-doctor`;
    const doctorConfig = await writeConfig({
      [doctorServer]: everythingServer({ SHORT: '${secret:SHORT}', MISSING: '${secret:MISSING}' }, { SHORT: {}, MISSING: {} }),
      [`${server}-nocmd`]: { command: 'no-such-command-mcp-keyproxy-test', args: [] },
    });
    try {
      // `secrets set` refuses a value this short now; one stored before that rule came in is still found by doctor.
      expect((await runBin(['secrets', 'set', doctorServer, 'SHORT', '--config', doctorConfig], { input: 'abc12' })).code).toBe(2);
      execFileSync('secret-tool', ['store', '--label', 'short', 'service', `mcp-keyproxy/${doctorServer}`, 'username', 'SHORT'], {
        input: 'abc12',
      });
      const result = await runBin(['doctor', '--config', doctorConfig]);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/OK +keychain: secret-service reachable and unlocked/);
      expect(result.stdout).toMatch(/WARN +.*secret SHORT is shorter than 8 characters; .*secrets set .*-doctor SHORT/);
      expect(result.stdout).toMatch(/FAIL +.*secret MISSING is missing; run `mcp-keyproxy secrets set .*-doctor MISSING`/);
      expect(result.stdout).toMatch(/FAIL +.*command "no-such-command-mcp-keyproxy-test" not found on PATH/);
      expect(result.stdout).not.toContain('abc12');
    } finally {
      await runBin(['secrets', 'clear', doctorServer, '--yes']);
    }
  });
});

describe('run: lifecycle', () => {
  for (const how of ['stdin closed', 'SIGTERM', 'SIGINT'] as const) {
    it(`leaves no process behind when ${how}`, async () => {
      const { client, transport, proxyPid } = await connectThroughProxy({ config, server });
      await client.listTools();
      const tree = await descendantsOf(proxyPid);
      expect(tree.length).toBeGreaterThan(0);
      if (how === 'stdin closed') await transport.close();
      else process.kill(proxyPid, how);
      expect(await waitFor(async () => !(await isAlive(proxyPid)), 8000)).toBe(true);
      // The reaper (a child of the proxy) exits once it reads the end of its stdin: a moment after the proxy.
      expect(await waitFor(async () => (await Promise.all(tree.map(isAlive))).every((alive) => !alive), 5000)).toBe(true);
      await client.close();
    });
  }

  it('stops a server that ignores the end of its stdin even when the proxy is killed with SIGKILL', async () => {
    const stubborn = `${server}-stubborn`;
    const stubbornConfig = await writeConfig({
      [stubborn]: { command: process.execPath, args: [join(repoRoot, 'test/fixtures/stubborn-server.mjs')], confirm: false },
    });
    const { client, proxyPid } = await connectThroughProxy({ config: stubbornConfig, server: stubborn });
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['ping']);
      const tree = await descendantsOf(proxyPid);
      expect(tree.length).toBeGreaterThan(0);
      process.kill(proxyPid, 'SIGKILL');
      expect(await waitFor(async () => !(await isAlive(proxyPid)), 5000)).toBe(true);
      // stdin closed at once; the reaper's SIGTERM follows.
      expect(await waitFor(async () => (await Promise.all(tree.map(isAlive))).every((alive) => !alive), 5000)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('says why a server died at start-up, to the client and on stderr at the default level: exit code and last output', async () => {
    const dying = `${server}-dying`;
    const dyingConfig = await writeConfig({
      [dying]: {
        command: process.execPath,
        args: ['-e', "console.error('npm error 404 Not Found - GET https://registry.npmjs.org/@example%2fnope'); process.exit(1)"],
        confirm: false,
      },
    });
    const proxy = spawn(process.execPath, [binPath, 'run', dying, '--config', dyingConfig], { env: inheritedEnv() });
    let stdout = '';
    let stderr = '';
    proxy.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proxy.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // 'close', not 'exit': the last lines on its stdout and stderr may still be on their way when it has exited.
    const exited = new Promise<number | null>((resolve) => proxy.once('close', resolve));
    proxy.stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n`,
    );
    expect(await exited).toBe(1);
    const reply = JSON.parse(stdout.trim().split('\n')[0] ?? '{}') as { error?: { message: string } };
    expect(reply.error?.message).toMatch(/stopped before answering \(exit code 1; its last output: npm error 404 Not Found/);
    expect(stderr).toMatch(/ended unexpectedly \(exit code 1; its last output: npm error 404 Not Found/);
  });

  it('exits non-zero and says so on stderr when the server dies', async () => {
    const { client, proxyPid, stderr, transport } = await connectThroughProxy({ config, server });
    const exited = new Promise<void>((resolve) => (transport.onclose = resolve));
    const [childPid] = await descendantsOf(proxyPid);
    process.kill(childPid!, 'SIGKILL');
    await exited;
    expect(stderr()).toMatch(/ended unexpectedly \(killed by SIGKILL/);
    expect(await waitFor(async () => !(await isAlive(proxyPid)), 5000)).toBe(true);
    await client.close();
  });
});
