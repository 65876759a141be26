// No secret in a core file (issue 16, class 9). The proxy (and so every command, server and dialog it starts)
// dumps no memory mapping; the Linux dialog, which holds typed values, allows no core file and is not dumpable.
// Linux only: everything is read from /proc.
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtspiDriver, buildDialog, DIALOG_BIN, requireDisplay } from '../helpers/display.js';
import { requireKeyringSession } from '../helpers/keyring.js';
import {
  binPath,
  connectThroughProxy,
  descendantsOf,
  dialogOf,
  everythingEntry,
  everythingServer,
  inheritedEnv,
  procText,
  repoRoot,
  runBin,
  waitFor,
  writeConfig,
} from '../helpers/proxy.js';

const suffix = randomBytes(3).toString('hex');
const env = {
  MCP_KEYPROXY_RUNTIME_DIR: join(repoRoot, 'test-artifacts', `runtime-${suffix}`),
  MCP_KEYPROXY_STATE_DIR: join(repoRoot, 'test-artifacts', `state-${suffix}`),
};
let driver: AtspiDriver;

/** A process's coredump_filter as a number (0: no mapping is dumped; the kernel's default is 0x33). */
async function filterOf(pid: number): Promise<number> {
  return parseInt(await readFile(`/proc/${pid}/coredump_filter`, 'utf8'), 16);
}

/** A process's core file size limit, soft and hard, as /proc shows them ('' when it is gone). */
async function coreLimit(pid: number): Promise<string> {
  const limits = await readFile(`/proc/${pid}/limits`, 'utf8').catch(() => '');
  const match = /^Max core file size\s+(\S+)\s+(\S+)/m.exec(limits);
  return match ? `${match[1]} ${match[2]}` : '';
}

/** The process's real uid and the owner of its /proc files: the kernel gives those of a non-dumpable one to root. */
async function owners(pid: number): Promise<{ uid: number; procOwner: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]), procOwner: (await stat(`/proc/${pid}/status`)).uid };
}

beforeAll(async () => {
  requireKeyringSession();
  requireDisplay();
  await buildDialog();
  driver = await AtspiDriver.start();
});

afterAll(() => driver?.close());

describe('core dumps', () => {
  it('the proxy, the dialog it shows and the server it starts dump no memory; the dialog allows no core file', async () => {
    const server = `e2e-core-${suffix}`;
    const entry = everythingServer({ API_TOKEN: '${secret:API_TOKEN}' }, { API_TOKEN: { label: 'API token' } });
    const config = await writeConfig({ [server]: entry });
    const { client, proxyPid } = await connectThroughProxy({ config, server, env });
    try {
      expect(await filterOf(proxyPid)).toBe(0);
      // Let the dialog inherit a core limit to lower: raise the proxy's (as root, the hard one too).
      await execa('prlimit', ['--pid', String(proxyPid), '--core=unlimited:unlimited'], { reject: false });
      await client.callTool({ name: `connect_${server}`, arguments: {} });
      const dialog = await dialogOf(proxyPid);
      await waitFor(async () => (await coreLimit(dialog)) === '0 0');
      expect(await coreLimit(dialog)).toBe('0 0');
      expect(await filterOf(dialog)).toBe(0);

      await driver.run({ pid: dialog }, [
        { op: 'set', name: 'API token', text: `tok-${randomBytes(8).toString('hex')}` },
        { op: 'press', name: 'OK' },
      ]);
      let serverPid: number | undefined;
      await waitFor(async () => {
        for (const pid of await descendantsOf(proxyPid)) {
          if ((await procText(pid, 'cmdline')).includes(everythingEntry)) serverPid = pid;
        }
        return serverPid !== undefined;
      }, 10_000);
      expect(serverPid).toBeDefined();
      expect(await filterOf(serverPid!)).toBe(0); // inherited: its environment holds the key
    } finally {
      await client.close();
      await runBin(['secrets', 'clear', server, '--yes']);
    }
  });

  it('every command dumps no memory: `secrets set` waiting for its value', async () => {
    const child = execa(process.execPath, [binPath, 'secrets', 'set', `e2e-core-set-${suffix}`, 'API_TOKEN'], {
      env: { ...inheritedEnv(), ...env },
      reject: false,
      timeout: 20_000,
    });
    try {
      const pid = child.pid!;
      await waitFor(async () => (await filterOf(pid).catch(() => -1)) === 0);
      expect(await filterOf(pid)).toBe(0);
    } finally {
      child.kill();
      await child;
    }
  });

  it('the dialog is not dumpable: the kernel gives its /proc files to root, not to the user it runs as', async () => {
    // As root every /proc file is root's anyway: run a copy (readable by anyone) as nobody. As another user, as is.
    const asRoot = process.getuid?.() === 0;
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-core-'));
    const bin = join(dir, 'keyproxy-dialog');
    await chmod(dir, 0o755);
    await copyFile(DIALOG_BIN, bin);
    await chmod(bin, 0o755);
    // stdin stays open, so the dialog waits for its template, after it has set its limits.
    const dialog = execa('/bin/sh', ['-c', 'ulimit -c unlimited 2>/dev/null; exec "$0"', bin], {
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      env: {},
      extendEnv: false,
      reject: false,
      timeout: 20_000,
    });
    try {
      const pid = dialog.pid!;
      const settled = async () => (await coreLimit(pid)) === '0 0' && (await owners(pid)).procOwner === 0;
      await waitFor(async () => (await procText(pid, 'cmdline')).startsWith(bin) && (await settled().catch(() => false)));
      expect((await procText(pid, 'cmdline')).startsWith(bin)).toBe(true);
      expect(await coreLimit(pid)).toBe('0 0');
      const { uid, procOwner } = await owners(pid);
      expect(uid).not.toBe(0);
      expect(procOwner).toBe(0);
    } finally {
      dialog.kill();
      await dialog;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
