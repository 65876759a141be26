import { execFileSync } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/errors.js';
import { loadConfig, MAX_CONFIG_BYTES } from '../../../src/config/load.js';
import { expectKeyproxyError, tempDir, writeConfig } from './helpers.js';

const config = { servers: { s: { command: 'node' } } };

/** Rejects if `promise` has not settled within `ms` (a hang is the failure these tests look for). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('loadConfig refuses what is not a small regular file', () => {
  it('refuses a FIFO at once (exit code 78) instead of waiting for a writer', async () => {
    const fifo = path.join(await tempDir(), 'proxy.config.json');
    execFileSync('mkfifo', [fifo]);
    const error = await expectKeyproxyError(() => within(loadConfig({ configPath: fifo }), 2000), 'CONFIG_INVALID');
    expect(error.message).toContain(`cannot read config file ${fifo}: it is not a regular file (a FIFO, socket or device)`);
    expect(error.exitCode).toBe(ExitCode.config);
  });

  it('refuses a device at once', async () => {
    for (const device of ['/dev/zero', '/dev/null']) {
      const error = await expectKeyproxyError(() => within(loadConfig({ configPath: device }), 2000), 'CONFIG_INVALID');
      expect(error.message).toContain('not a regular file');
    }
  });

  it(`refuses a config over ${MAX_CONFIG_BYTES} bytes with a clear message (exit code 78), and reads one at the limit`, async () => {
    const dir = await tempDir();
    const padded = (bytes: number): string => JSON.stringify(config).padEnd(bytes, ' ');
    const atLimit = await writeConfig(dir, 'at-limit.json', padded(MAX_CONFIG_BYTES));
    expect(Buffer.byteLength(padded(MAX_CONFIG_BYTES))).toBe(MAX_CONFIG_BYTES);
    await expect(loadConfig({ configPath: atLimit, env: { MCP_KEYPROXY_STATE_DIR: dir } })).resolves.toBeDefined();

    const big = await writeConfig(dir, 'big.json', padded(MAX_CONFIG_BYTES + 1));
    const error = await expectKeyproxyError(() => loadConfig({ configPath: big }), 'CONFIG_INVALID');
    expect(error.message).toBe(
      `cannot read config file ${big}: it is larger than 1 MiB, the most a config may be. Check the path, or shorten the file.`,
    );
    expect(error.exitCode).toBe(ExitCode.config);

    const huge = await writeConfig(dir, 'huge.json', '{');
    await appendFile(huge, Buffer.alloc(20 * 1024 * 1024, 0x20));
    const started = performance.now();
    await expectKeyproxyError(() => loadConfig({ configPath: huge }), 'CONFIG_INVALID');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
