import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { binPath, waitFor } from '../helpers/proxy.js';
import { cli, expectParseable, keychainHolds, machine, read, useRemoteFixture } from '../helpers/migrate-machine.js';

/**
 * Crash safety of migrate: killed after each of its steps, it leaves every file parseable and every key in its file
 * or in the keychain, and a second run finishes the job. Forty migrate runs and as many kills, each writing to the
 * keychain: a file of its own in the serial group, so that it does not run beside other keychain-heavy files (on a
 * loaded machine, a paired CI run saw its second migrate wait more than the keychain's 5 s timeout).
 */

useRemoteFixture();

describe('SIGKILL at every step of migrate', () => {
  it('leaves every file parseable and every key in its file or in the keychain, and a second run finishes the job', async () => {
    let step = 1;
    for (; step < 40; step++) {
      const m = await machine();
      const child = spawn(process.execPath, [binPath, 'migrate', '--yes'], {
        env: { ...m.env, MCP_KEYPROXY_TEST_PAUSE_AT_STEP: String(step) },
        cwd: m.project,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      await waitFor(() => stderr.includes('paused after step') || child.exitCode !== null, 20_000);
      const paused = stderr.includes('paused after step');
      child.kill('SIGKILL');
      await waitFor(() => child.exitCode !== null || child.signalCode !== null, 5000);
      await expectParseable(m);
      const files = (await Promise.all(Object.keys(m.files).map((file) => read(m, file)))).join('\n');
      for (const [name, key] of Object.entries(m.keys)) {
        if (files.includes(key)) continue;
        const service = (/"?((?:github|openai|search|slack|stripe|linear|notion)-[0-9a-f]{8})/.exec(files.slice(0)) ?? [])[1]?.replace(
          /^[a-z]+/,
          name,
        );
        expect(await keychainHolds(key, service as string), `step ${step}: ${name}`).toBe(true);
      }
      const again = await cli(m, ['migrate', '--yes']);
      expect(again.code, `step ${step}: ${again.stderr}`).toBe(0);
      const after = (await Promise.all(Object.keys(m.files).map((file) => read(m, file)))).join('\n');
      for (const key of Object.values(m.keys)) expect(after, `step ${step}`).not.toContain(key);
      if (!paused) break;
    }
    // Seven keys, the record, the proxy config, and a backup and a write for each of six files.
    expect(step).toBeGreaterThanOrEqual(21);
  }, 600_000);
});
