import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyproxyError } from '../../../../src/errors.js';
import type { RunningProxy } from '../../../../src/proxy/core/supervise.js';
import { serveServer } from '../../../../src/proxy/serve.js';
import { connectClient, inMemoryDeps, resultText, serveOptions, useTempRuntimeDir, type TestClient } from '../helpers/in-memory-proxy.js';

const SERVER = { command: 'srv', env: { TOKEN: '${secret:token}' }, secrets: { token: {} }, confirm: false };
const WAIT = { timeout: 3000, interval: 5 };

let restoreRuntimeDir: () => Promise<void>;
let running: RunningProxy | undefined;
let client: TestClient | undefined;

beforeEach(async () => {
  restoreRuntimeDir = await useTempRuntimeDir();
});

afterEach(async () => {
  await client?.close();
  await running?.stop();
  client = undefined;
  running = undefined;
  await restoreRuntimeDir();
});

describe('values too short to scrub', () => {
  it('the dialog asks for at least 8 characters, and a shorter value typed anyway is not stored', async () => {
    const proxy = inMemoryDeps();
    running = await serveServer(serveOptions('gh', SERVER), proxy.deps);
    client = await connectClient(proxy.clientTransport);
    proxy.dialog.onCollect = () => ({ token: 'short7x' });

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} }, undefined, { onprogress: () => undefined });
    expect(result.isError).toBe(true);
    expect(resultText(result)).toContain('shorter than 8 characters');
    expect(resultText(result)).not.toContain('short7x');
    expect(await proxy.store.get('gh', 'token')).toBeNull();
    expect(proxy.launcher.launches).toHaveLength(0);
  });

  it.each([
    ['a stored value', { initial: { gh: { token: 'abc' } } }, SERVER],
    ['a declared default', {}, { ...SERVER, secrets: { token: { field_type: 'text', default: 'no' } } }],
  ])('%s under 4 characters is never injected: the error names the fix', async (_what, stores, server) => {
    const proxy = inMemoryDeps(stores);
    const served = serveServer(serveOptions('gh', server), proxy.deps);
    await expect(served).rejects.toThrow(KeyproxyError);
    await expect(served).rejects.toThrow(/shorter than 4 characters[\s\S]*mcp-keyproxy secrets set gh token/);
    expect(proxy.launcher.launches).toHaveLength(0);
  });

  it('a stored value of 4 to 7 characters (from before the rule) is injected and scrubbed', async () => {
    const proxy = inMemoryDeps({ initial: { gh: { token: 'k3y5' } } });
    running = await serveServer(serveOptions('gh', SERVER), proxy.deps);
    client = await connectClient(proxy.clientTransport);
    await vi.waitFor(() => expect(proxy.launcher.launches).toHaveLength(1), WAIT);
    const leaked = resultText(await client.client.callTool({ name: 'leak_token', arguments: {} }));
    expect(leaked).toBe('token=[REDACTED:gh/token]');
  });
});
