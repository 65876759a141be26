import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The throwaway password scripts/with-keyring.sh gives the test keyring. */
export const TEST_KEYRING_PASSWORD = 'test-keyring-password';

/** Fails the calling suite loudly unless it runs inside scripts/with-keyring.sh (never skips silently). */
export function requireKeyringSession(): void {
  if (process.env.MCP_KEYPROXY_IN_KEYRING_SESSION !== '1' || !process.env.DBUS_SESSION_BUS_ADDRESS) {
    throw new Error(
      'This e2e suite needs the private gnome-keyring sandbox and must not touch your own keychain. Run it with ' +
        '`npm run test:all`, or `scripts/with-keyring.sh npx vitest run --project e2e <file>`.',
    );
  }
}

/** A server name no other test uses, so tests never see each other's keychain items. */
export function uniqueServer(prefix = 'e2e-store'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** What `secret-tool search --all service mcp-keyproxy/<server>` prints (items on stdout, attributes on stderr). */
export async function secretToolSearch(server: string, service = `mcp-keyproxy/${server}`): Promise<string> {
  const { stdout, stderr } = await run('secret-tool', ['search', '--all', 'service', service]);
  return `${stdout}\n${stderr}`;
}

/** The accounts (secret-tool's `username` attribute) of every item stored for a server, sorted. */
export async function secretToolAccounts(server: string, service?: string): Promise<string[]> {
  const shown = await secretToolSearch(server, service);
  return [...shown.matchAll(/^attribute\.username = (.*)$/gm)].map((m) => m[1] ?? '').sort();
}

/**
 * Compiles src/secrets/keyring-store.ts (and what it imports) to plain JS for child processes, which need their
 * own process because the keyring library keeps its D-Bus connection for the life of a process. Returns the
 * file URL of the compiled module.
 */
export async function compileKeyringStoreForChild(): Promise<string> {
  // Inside node_modules so the compiled code still resolves @napi-rs/keyring from this project.
  const outDir = join(process.cwd(), 'node_modules', '.cache', `mcp-keyproxy-e2e-${randomBytes(4).toString('hex')}`);
  await run(process.execPath, [
    join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc'),
    '--outDir',
    outDir,
    '--rootDir',
    'src',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
    '--types',
    'node',
    '--skipLibCheck',
    '--strict',
    'src/secrets/keyring-store.ts',
  ]);
  return pathToFileURL(join(outDir, 'secrets', 'keyring-store.js')).href;
}

/** Runs one KeyringStore call in a child process with the given environment; returns its value or its error. */
export async function keyringCallInChild(
  moduleUrl: string,
  env: NodeJS.ProcessEnv,
  call: 'get' | 'list' | 'probe',
): Promise<{ ok: boolean; value?: unknown; code?: string; message?: string }> {
  const script = `
    const { KeyringStore } = await import(${JSON.stringify(moduleUrl)});
    const store = new KeyringStore({ timeoutMs: 3000 });
    const calls = { get: () => store.get('e2e-child', 'X'), list: () => store.list('e2e-child'), probe: () => store.probe() };
    try { process.stdout.write(JSON.stringify({ ok: true, value: await calls[${JSON.stringify(call)}]() })); }
    catch (e) { process.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message })); }
    process.exit(0);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env, timeout: 15_000 });
  return JSON.parse(stdout) as { ok: boolean; value?: unknown; code?: string; message?: string };
}

/** Locks the default "login" collection through the Secret Service D-Bus API. */
export async function lockLoginCollection(): Promise<void> {
  await run('dbus-send', [
    '--session',
    '--print-reply',
    '--dest=org.freedesktop.secrets',
    '/org/freedesktop/secrets',
    'org.freedesktop.Secret.Service.Lock',
    'array:objpath:/org/freedesktop/secrets/collection/login',
  ]);
}

/** Whether the "login" collection is locked now (its `Locked` property over D-Bus). */
export async function loginCollectionLocked(): Promise<boolean> {
  const { stdout } = await run('dbus-send', [
    '--session',
    '--print-reply',
    '--dest=org.freedesktop.secrets',
    '/org/freedesktop/secrets/collection/login',
    'org.freedesktop.DBus.Properties.Get',
    'string:org.freedesktop.Secret.Collection',
    'string:Locked',
  ]);
  return /boolean true/.test(stdout);
}

/** Asks the bus daemon one question about a name (GetNameOwner's answer, NameHasOwner, the owner's pid). */
async function busCall(method: string, arg: string): Promise<string> {
  const { stdout } = await run('dbus-send', [
    '--session',
    '--print-reply',
    '--dest=org.freedesktop.DBus',
    '/org/freedesktop/DBus',
    `org.freedesktop.DBus.${method}`,
    `string:${arg}`,
  ]);
  return stdout;
}

async function secretServiceRunning(): Promise<boolean> {
  return /boolean true/.test(await busCall('NameHasOwner', 'org.freedesktop.secrets'));
}

/** Polls `check` every 100 ms until it holds or `ms` pass; says which. */
async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await check().catch(() => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/**
 * Unlocks "login" again: stops the keyring daemon that owns the Secret Service (by its pid, from the bus) and starts
 * one with the test password, which opens the same on-disk keyring unlocked; then waits (bounded) until the
 * collection reads as unlocked. Unlocking over D-Bus would need a prompt. `gnome-keyring-daemon --replace` was used
 * before and raced: between the old daemon letting the name go and the new one taking it, any call on the bus
 * activated a third daemon, and a daemon busy with an unanswered unlock prompt could keep the name, which left every
 * later suite facing a locked keychain. Only bus calls that do not activate the service are made while it is down.
 * Throws when the collection stays locked, so the suite that locked it fails here.
 */
export async function unlockLoginCollection(): Promise<void> {
  if (await secretServiceRunning()) {
    const pid = Number(/uint32 (\d+)/.exec(await busCall('GetConnectionUnixProcessID', 'org.freedesktop.secrets'))?.[1]);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error('cannot tell which process owns org.freedesktop.secrets');
    process.kill(pid, 'SIGTERM');
    if (!(await within(5_000, async () => !(await secretServiceRunning())))) {
      process.kill(pid, 'SIGKILL');
      if (!(await within(5_000, async () => !(await secretServiceRunning())))) {
        throw new Error(`the keyring daemon (pid ${pid}) still owns org.freedesktop.secrets after SIGKILL`);
      }
    }
  }
  // Started as scripts/with-keyring.sh starts it (nice -10 where allowed): it reads the password on stdin, unlocks
  // "login" and daemonises.
  const child = spawn('nice', ['-n', '-10', 'gnome-keyring-daemon', '--unlock', '--components=secrets'], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.stdin.end(TEST_KEYRING_PASSWORD);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`gnome-keyring-daemon --unlock exited with ${String(code)}`);
  if (!(await within(10_000, secretServiceRunning))) throw new Error('the new keyring daemon never took org.freedesktop.secrets');
  if (!(await within(10_000, async () => !(await loginCollectionLocked())))) {
    throw new Error('the "login" collection is still locked after the keyring daemon was started again with the password');
  }
}

/** Sets a variable in the D-Bus activation environment, which is where gcr-prompter gets its DISPLAY. */
export async function setActivationEnv(name: string, value: string): Promise<void> {
  await run('dbus-update-activation-environment', [`${name}=${value}`]);
}

/** A session bus with no service files at all: nothing can provide org.freedesktop.secrets on it. */
export async function startBareBus(): Promise<{ address: string; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-bare-bus-'));
  const config = join(dir, 'bus.conf');
  await writeFile(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir=${dir}</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>\n`,
  );
  const { stdout } = await run('dbus-daemon', [`--config-file=${config}`, '--fork', '--print-address=1', '--print-pid=1']);
  const [address = '', pid = ''] = stdout.trim().split('\n');
  return {
    address,
    stop: async () => {
      process.kill(Number(pid));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a private Xvfb (display number chosen by the server) and returns its DISPLAY and a stop function. */
export async function startXvfb(): Promise<{ display: string; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-xvfb-'));
  const displayFile = join(dir, 'display');
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(displayFile, 'w');
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '640x480x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'ignore', fd],
  });
  closeSync(fd);
  const spawnError = new Promise<never>((_, reject) => xvfb.once('error', reject));
  let number = '';
  for (let i = 0; i < 100 && !number; i++) {
    await Promise.race([new Promise((resolve) => setTimeout(resolve, 50)), spawnError]);
    number = (await readFile(displayFile, 'utf8')).trim();
  }
  if (!number) throw new Error('Xvfb did not report a display number within 5 s (apt-get install xvfb)');
  return {
    display: `:${number}`,
    stop: async () => {
      xvfb.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
