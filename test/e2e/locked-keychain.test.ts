import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtspiDriver, buildDialog, requireDisplay } from '../helpers/display.js';
import { lockLoginCollection, requireKeyringSession, setActivationEnv, startXvfb, unlockLoginCollection } from '../helpers/keyring.js';
import { binPath, dialogOf, everythingServer, inheritedEnv, isAlive, repoRoot, runBin, waitFor, writeConfig } from '../helpers/proxy.js';

// gnome-keyring's unlock prompt really opens here: gcr-prompter is D-Bus activated with DISPLAY set to a private
// Xvfb, and nobody answers it. A keychain call waiting on it blocks a native thread that Node joins at exit; every
// command must still end within seconds (the keychain timeout is 5 s) with a clear message and no secret shown.

/** How long a command may take here: the 5 s keychain timeout plus a slow machine's start-ups. */
const EXIT_BOUND_MS = 25_000;
const suffix = randomBytes(3).toString('hex');
const stored = `e2e-locked-${suffix}`;
const fresh = `e2e-locked-new-${suffix}`;
const storedValue = `stored-${randomBytes(8).toString('hex')}`;
const env = {
  ...inheritedEnv(),
  MCP_KEYPROXY_RUNTIME_DIR: join(repoRoot, 'test-artifacts', `runtime-${suffix}`),
  MCP_KEYPROXY_STATE_DIR: join(repoRoot, 'test-artifacts', `state-${suffix}`),
};
let config = '';
let xvfb: Awaited<ReturnType<typeof startXvfb>> | undefined;

/** Runs the built CLI; kills it after EXIT_BOUND_MS and says whether it ended on its own. */
async function runBounded(args: string[], input = ''): Promise<{ ended: boolean; code?: number; output: string }> {
  const child = execa(process.execPath, [binPath, ...args], { input, env, reject: false, all: true, timeout: EXIT_BOUND_MS });
  const result = await child;
  return { ended: !result.timedOut, code: result.exitCode, output: result.all ?? '' };
}

/** The window ids of gnome-keyring's unlock prompt on the private display (none: empty). */
async function unlockPrompts(): Promise<string[]> {
  const search = await execa('xdotool', ['search', '--name', 'Unlock'], { env: { ...env, DISPLAY: xvfb?.display }, reject: false });
  return search.stdout.split('\n').filter(Boolean);
}

beforeAll(async () => {
  requireKeyringSession();
  requireDisplay();
  await buildDialog();
  config = await writeConfig({
    [stored]: everythingServer({ API_TOKEN: '${secret:API_TOKEN}' }, { API_TOKEN: { label: 'API token' } }),
    [fresh]: { ...everythingServer({ API_TOKEN: '${secret:API_TOKEN}' }, { API_TOKEN: { label: 'API token' } }), confirm: true },
  });
  expect(await runBin(['secrets', 'set', stored, 'API_TOKEN', '--config', config], { input: storedValue })).toMatchObject({ code: 0 });
  xvfb = await startXvfb();
  // gcr-prompter, which draws gnome-keyring's prompt, is started by D-Bus with the activation environment.
  await setActivationEnv('DISPLAY', xvfb.display);
  await lockLoginCollection();
}, 60_000);

afterAll(async () => {
  await unlockLoginCollection();
  await runBin(['secrets', 'clear', stored, '--yes', '--config', config]);
  await runBin(['secrets', 'clear', fresh, '--yes', '--config', config]);
  await setActivationEnv('DISPLAY', process.env.DISPLAY ?? '');
  await xvfb?.stop();
}, 60_000);

describe('a locked keychain whose unlock prompt opens and is never answered', () => {
  it('secrets set (value on stdin): the prompt opens; the command ends with "locked" and exit 69, no value shown', async () => {
    const typed = `typed-${randomBytes(8).toString('hex')}`;
    const command = runBounded(['secrets', 'set', fresh, 'API_TOKEN', '--config', config], typed);
    // The prompt really opens (a write into a locked collection asks to unlock it).
    expect(await waitFor(async () => (await unlockPrompts()).length > 0, 15_000)).toBe(true);
    const result = await command;
    expect(result.ended).toBe(true);
    expect(result.code).toBe(69);
    expect(result.output).toMatch(/keychain is locked/i);
    expect(result.output).not.toContain('ending the process');
    expect(result.output).not.toContain(typed);
  }, 60_000);

  it('secrets list: ends with "locked" and exit 69, no value shown', async () => {
    const result = await runBounded(['secrets', 'list', stored, '--config', config]);
    expect(result.ended).toBe(true);
    expect(result.code).toBe(69);
    expect(result.output).toMatch(/keychain is locked/i);
    expect(result.output).not.toContain(storedValue);
  }, 60_000);

  it('doctor: its write probe waits on the prompt; doctor ends with the keychain check failed as locked', async () => {
    const result = await runBounded(['doctor', '--config', config]);
    expect(result.ended).toBe(true);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/FAIL\s+keychain: The keychain is locked/);
    expect(result.output).not.toContain('ending the process');
    expect(result.output).not.toContain(storedValue);
  }, 60_000);

  it('run: a key typed in the dialog cannot be stored; the proxy says so, and ends once its client closes stdin', async () => {
    const driver = await AtspiDriver.start();
    const typed = `typed-${randomBytes(8).toString('hex')}`;
    const proxy = spawn(process.execPath, [binPath, 'run', fresh, '--config', config], { env, stdio: 'pipe' });
    try {
      let stdout = '';
      let stderr = '';
      proxy.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const replies = jsonRpcReplies(proxy, (line) => (stdout += `${line}\n`));
      send(proxy, {
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'e2e', version: '1' } },
      });
      await replies(1);
      send(proxy, { method: 'notifications/initialized' });
      send(proxy, { id: 2, method: 'tools/call', params: { name: `connect_${fresh}`, arguments: {} } });
      await replies(2);
      const dialog = await dialogOf(proxy.pid ?? -1);
      await driver.run({ pid: dialog }, [
        { op: 'set', name: 'API token', text: typed },
        { op: 'press', name: 'OK' },
      ]);
      // The write waits on the unlock prompt until the keychain timeout; the proxy reports it on stderr.
      expect(await waitFor(() => /keychain is locked/i.test(stderr), EXIT_BOUND_MS)).toBe(true);
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        proxy.once('exit', (code, signal) => resolve({ code, signal })),
      );
      proxy.stdin.end();
      expect(await waitFor(async () => !(await isAlive(proxy.pid ?? -1)), EXIT_BOUND_MS)).toBe(true);
      // It ended by itself (the blocked call was ended), not by the last-resort SIGKILL.
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(stderr).not.toContain('ending the process');
      expect(stdout).not.toContain(typed);
      expect(stderr).not.toContain(typed);
    } finally {
      driver.close();
      proxy.kill('SIGKILL');
    }
  }, 90_000);
});

/** Writes one JSON-RPC message to the proxy's stdin. */
function send(proxy: ChildProcessWithoutNullStreams, message: Record<string, unknown>): void {
  proxy.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
}

/** Reads the proxy's stdout by line; returns a function that waits (bounded) for the reply to a request id. */
function jsonRpcReplies(proxy: ChildProcessWithoutNullStreams, onLine: (line: string) => void): (id: number) => Promise<unknown> {
  const seen = new Map<number, unknown>();
  createInterface({ input: proxy.stdout }).on('line', (line) => {
    onLine(line);
    const message = JSON.parse(line) as { id?: unknown };
    if (typeof message.id === 'number') seen.set(message.id, message);
  });
  return async (id) => {
    if (!(await waitFor(() => seen.has(id), 15_000))) throw new Error(`no reply to request ${id}`);
    return seen.get(id);
  };
}
