import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyproxyError } from '../../../../src/errors.js';
import { readPlan } from '../../../../src/proxy/downstream/read-plan.js';
import { serveServer } from '../../../../src/proxy/serve.js';
import { MemoryStore } from '../../../../src/secrets/memory-store.js';
import { connectClient, inMemoryDeps, serveOptions, useTempRuntimeDir } from '../helpers/in-memory-proxy.js';

const opDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/op');
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A store whose every call fails as if no Secret Service answered, recording that it was touched. */
function noSecretService(): MemoryStore {
  return new MemoryStore({ fail: () => new KeyproxyError('KEYCHAIN_UNAVAILABLE', 'No Secret Service answers on D-Bus.') });
}

async function secretFile(content: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'keyproxy-plan-'));
  dirs.push(dir);
  const file = path.join(dir, 'token');
  await writeFile(file, content);
  await chmod(file, 0o600);
  return file;
}

describe('a server start with secret sources', () => {
  it('reads env and file sources without touching the keychain, audited by kind with names only', async () => {
    const file = await secretFile('file-value-123\n');
    const store = noSecretService();
    const proxy = inMemoryDeps({ store });
    proxy.deps.sourceEnv = { CI_TOKEN: 'env-value-456' };
    const { server } = serveOptions('srv', {
      command: 'x',
      env: { A: '${secret:A}' },
      secrets: { A: { from: 'env:CI_TOKEN' }, B: { from: `file:${file}` } },
    });
    // B is injected under its own name: the loader adds that env entry; here it is written out.
    const withB = { ...server, env: { ...('env' in server ? server.env : {}), B: '${secret:B}' } };
    const { plan, fromKeychain } = await readPlan(proxy.deps, 'srv', withB);
    expect(plan.values).toEqual(
      new Map([
        ['A', 'env-value-456'],
        ['B', 'file-value-123'],
      ]),
    );
    expect(plan.missing).toEqual([]);
    expect(fromKeychain.size).toBe(0);
    expect(store.calls).toEqual([]);
    const reads = proxy.auditSink.events.filter((event) => event.event === 'secret_read');
    expect(reads).toMatchObject([
      { server: 'srv', names: ['A'], source: 'env' },
      { server: 'srv', names: ['B'], source: 'file' },
    ]);
    expect(JSON.stringify(proxy.auditSink.events)).not.toContain('value-');
  });

  it('waits for consent before it gives a sourced value to a server, like a keychain value', async () => {
    const proxy = inMemoryDeps({ store: noSecretService() });
    proxy.deps.sourceEnv = { CI_TOKEN: 'env-value-789' };
    const options = serveOptions('srv', { command: 'x', env: { A: '${secret:A}' }, secrets: { A: 'env:CI_TOKEN' } });
    const { plan, guarded } = await readPlan(proxy.deps, 'srv', options.server);
    expect([...guarded]).toEqual(['A']);
    expect(plan.values.get('A')).toBe('env-value-789');
    const running = await serveServer(options, proxy.deps);
    expect(proxy.launcher.launches).toEqual([]);
    await running.stop();
  });

  it('starts such a server headless with no consent prompt and no Secret Service, the values scrubbed and only in its own launch', async () => {
    const store = noSecretService();
    const proxy = inMemoryDeps({ store });
    proxy.deps.sourceEnv = { CI_TOKEN: 'env-value-789' };
    const options = serveOptions('srv', { command: 'x', env: { A: '${secret:A}' }, secrets: { A: 'env:CI_TOKEN' } }, { headless: true });
    const running = await serveServer(options, proxy.deps);
    expect(proxy.launcher.launches.map((launch) => [launch.serverName, launch.values.get('A')])).toEqual([['srv', 'env-value-789']]);
    expect([...proxy.dialog.collects, ...proxy.dialog.confirms]).toEqual([]);
    expect(store.calls).toEqual([]);
    expect(proxy.deps.scrubber.scrub('leak env-value-789')).toBe('leak [REDACTED:srv/A]');
    await running.stop();
  });

  it('fails a start whose source gives nothing with an error naming the source, and opens no dialog', async () => {
    const proxy = inMemoryDeps();
    proxy.deps.sourceEnv = {};
    const { server } = serveOptions('srv', { command: 'x', env: { A: '${secret:A}' }, secrets: { A: { from: 'env:MISSING_VAR' } } });
    const error = await readPlan(proxy.deps, 'srv', server).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyproxyError);
    expect((error as KeyproxyError).code).toBe('SOURCE_FAILED');
    expect((error as KeyproxyError).message).toContain('env:MISSING_VAR');
    expect([...proxy.dialog.collects, ...proxy.dialog.confirms]).toEqual([]);
  });

  it('says which secrets need the keychain when a server mixes sources and keychain secrets and none answers', async () => {
    const proxy = inMemoryDeps({ store: noSecretService() });
    proxy.deps.sourceEnv = { CI_TOKEN: 'env-value-000' };
    const { server } = serveOptions('srv', {
      command: 'x',
      env: { A: '${secret:A}', K: '${secret:K}' },
      secrets: { A: 'env:CI_TOKEN', K: {} },
    });
    const error = (await readPlan(proxy.deps, 'srv', server).catch((caught: unknown) => caught)) as KeyproxyError;
    expect(error.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(error.message).toContain('Server "srv" keeps K in the keychain');
  });

  it('takes the 1Password service-account token from the keychain only for op://, and scrubs it', async () => {
    const store = new MemoryStore({ initial: { 'op-service-account': { OP_SERVICE_ACCOUNT_TOKEN: 'ops_keychain_token_1' } } });
    const proxy = inMemoryDeps({ store });
    proxy.deps.sourceEnv = {
      PATH: `${opDir}:${process.env.PATH ?? ''}`,
      OP_FIXTURE_TOKEN: 'ops_keychain_token_1',
      OP_FIXTURE_ITEMS: JSON.stringify({ 'op://Developer/Stitch/api-key': 'stitch-value-1' }),
    };
    const { server } = serveOptions('srv', { command: 'x', env: { S: '${secret:S}' }, secrets: { S: 'op://Developer/Stitch/api-key' } });
    const { plan } = await readPlan(proxy.deps, 'srv', server);
    expect(plan.values.get('S')).toBe('stitch-value-1');
    expect(store.calls).toEqual(['get op-service-account/OP_SERVICE_ACCOUNT_TOKEN']);
    expect(proxy.deps.scrubber.scrub('t=ops_keychain_token_1')).toBe('t=[REDACTED:op-service-account/OP_SERVICE_ACCOUNT_TOKEN]');
    expect(proxy.auditSink.events.filter((event) => event.event === 'secret_read')).toMatchObject([
      { server: 'op-service-account', names: ['OP_SERVICE_ACCOUNT_TOKEN'], source: 'keychain' },
      { server: 'srv', names: ['S'], source: 'op' },
    ]);
  });
});

describe('a gated server that also has sourced secrets', () => {
  it('asks in the dialog only for the keychain secrets, and injects both', async () => {
    const restore = await useTempRuntimeDir();
    const proxy = inMemoryDeps();
    proxy.deps.sourceEnv = { CI_TOKEN: 'env-value-gated-1' };
    proxy.dialog.onCollect = () => ({ K: 'typed-in-value-12345' });
    const options = serveOptions('gh', {
      command: 'x',
      env: { A: '${secret:A}', K: '${secret:K}', O: '${secret:O}' },
      secrets: { A: 'env:CI_TOKEN', K: {}, O: { from: 'env:CI_TOKEN', required: false } },
    });
    const running = await serveServer(options, proxy.deps);
    const client = await connectClient(proxy.clientTransport, {});
    try {
      await client.client.callTool({ name: 'connect_gh', arguments: {} });
      await vi.waitFor(() => expect(proxy.launcher.launches).toHaveLength(1), { timeout: 5000, interval: 5 });
      expect(proxy.dialog.collects.map((call) => call.names)).toEqual([['K']]);
      expect(proxy.launcher.launches[0]!.values).toEqual(
        new Map([
          ['A', 'env-value-gated-1'],
          ['K', 'typed-in-value-12345'],
          ['O', 'env-value-gated-1'],
        ]),
      );
    } finally {
      await client.close();
      await running.stop();
      await restore();
    }
  });
});
