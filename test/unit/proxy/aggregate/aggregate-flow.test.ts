import { EmptyResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { consentGrant } from '../../../../src/consent/grant.js';
import { memoryConsentStore } from '../../../../src/consent/store.js';
import { KeyproxyError } from '../../../../src/errors.js';
import { MemoryStore } from '../../../../src/secrets/memory-store.js';
import { serveAggregate } from '../../../../src/proxy/aggregate/serve-aggregate.js';
import { patternGuard } from '../../../../src/proxy/core/pattern-guard.js';
import { resultText, useTempRuntimeDir } from '../helpers/in-memory-proxy.js';
import { aggregateFixture, HANGING_TOOL, startAggregateInMemory, tick, type RunningAggregate } from './harness.js';

/** Bounded polls: long enough for a loaded machine, short enough to fail fast. */
const POLL = { timeout: 3000, interval: 5 };

const local = (command: string, extra: Record<string, unknown> = {}) => ({ command, ...extra });
/** A server that needs the secret TOKEN (required, no default). */
const withToken = (command: string) => local(command, { env: { TOKEN: '${secret:TOKEN}' }, secrets: { TOKEN: { label: 'API token' } } });

let proxy: RunningAggregate | undefined;
let restoreRuntimeDir: (() => Promise<void>) | undefined;

beforeEach(async () => {
  // The credential flow takes the per-server dialog lock: keep it out of the user's runtime dir.
  restoreRuntimeDir = await useTempRuntimeDir();
});

afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
  await restoreRuntimeDir?.();
});

describe('aggregate: the merged catalog', () => {
  it('prefixes tools and prompts, adds the status tool, keeps the first server of a shared URI and hides denied tools', async () => {
    // Config order b, a: the first server in the config (not the first by name) serves a URI both list.
    const fixture = aggregateFixture(
      [
        ['b', local('fake-b')],
        ['a', local('fake-a')],
        ['x', local('fake-x', { tools: { deny: ['*delete*'] } })],
      ],
      {
        specs: {
          a: { tools: ['echo'], prompts: ['greet'], resources: ['mem://shared', 'mem://a-only'] },
          b: { tools: ['echo'], prompts: ['greet'], resources: ['mem://shared'] },
          x: { tools: ['delete_all', 'list_items'] },
        },
      },
    );
    proxy = await startAggregateInMemory(fixture);
    const { client } = proxy.client;

    expect(await proxy.toolNames()).toEqual(['a__echo', 'b__echo', 'keyproxy__status', 'x__list_items']);
    const prompts = (await client.listPrompts()).prompts.map((prompt) => prompt.name).sort();
    expect(prompts).toEqual(['a__greet', 'b__greet']);

    // Read before any resources/list (the aggregate finds the owner itself), then after listing (routed directly).
    const before = await client.readResource({ uri: 'mem://shared' });
    expect(before.contents).toEqual([expect.objectContaining({ uri: 'mem://shared', text: 'b:mem://shared' })]);
    const uris = (await client.listResources()).resources.map((resource) => resource.uri);
    expect(uris.filter((uri) => uri === 'mem://shared')).toHaveLength(1);
    expect(uris).toContain('mem://a-only');
    const after = await client.readResource({ uri: 'mem://shared' });
    expect(after.contents[0]).toMatchObject({ text: 'b:mem://shared' });
    expect((await client.readResource({ uri: 'mem://a-only' })).contents[0]).toMatchObject({ text: 'a:mem://a-only' });
    const reads = (server: string) => fixture.launcher.of(server)[0]!.requests.filter((request) => request.method === 'resources/read');
    expect(reads('a').map((request) => request.params?.uri)).toEqual(['mem://a-only']);

    // A denied tool is not callable either, and never reaches its server.
    await expect(client.callTool({ name: 'x__delete_all', arguments: {} })).rejects.toThrow(/x__delete_all/);
    expect(fixture.launcher.of('x')[0]!.toolCalls).toEqual([]);
    expect(resultText(await client.callTool({ name: 'x__list_items', arguments: {} }))).toBe('x/list_items called');
  });
});

describe('aggregate: the first list while servers start', () => {
  it("asks a server that is up at once, takes a late one's tools from its start, and sends no list_changed for it", async () => {
    let startSlow!: () => void;
    const fixture = aggregateFixture(
      [
        ['fast', local('fake-fast')],
        ['slow', local('fake-slow')],
      ],
      { specs: { fast: { tools: ['echo'] }, slow: { tools: ['echo'], startAfter: new Promise((resolve) => (startSlow = resolve)) } } },
    );
    proxy = await startAggregateInMemory(fixture);
    const running = proxy;
    await vi.waitFor(async () => expect((await running.status()).fast?.state).toBe('ready'), POLL);
    const toolLists = (server: string) =>
      fixture.launcher
        .of(server)[0]
        ?.requests.filter((request) => request.method === 'tools/list')
        .map((request) => request.id) ?? [];

    const listed = proxy.toolNames();
    // "fast" is asked while "slow" has not even been spawned: the list does not wait for every server to be up.
    await vi.waitFor(() => expect(toolLists('fast')).toHaveLength(2), POLL);
    expect(fixture.launcher.of('slow')).toHaveLength(0);

    startSlow();
    expect(await listed).toEqual(['fast__echo', 'keyproxy__status', 'slow__echo']);
    // "slow" came up while the list waited for it: the tools its start listed were used, not asked for again.
    expect(toolLists('slow')).toEqual(['mcp-keyproxy-tools']);
    // And as the list the client got already had it, the client is not told that it changed.
    await tick();
    expect(proxy.changes('tools')).toBe(0);
  });
});

describe('aggregate: the pattern guard on a first list', () => {
  it('redacts what a guarded server lists at its start as it redacts what passes the router', async () => {
    const key = `AKIA${'ABCDEFGHIJKLMNOP'}`;
    let startGuarded!: () => void;
    const fixture = aggregateFixture(
      [
        ['fast', local('fake-fast')],
        ['g', local('fake-g', { block_secret_patterns: true })],
      ],
      {
        specs: {
          fast: { tools: ['echo'] },
          g: { tools: ['echo'], description: `uses ${key}`, startAfter: new Promise((resolve) => (startGuarded = resolve)) },
        },
      },
    );
    fixture.deps.guard = patternGuard(['g'], fixture.deps);
    proxy = await startAggregateInMemory(fixture);
    const running = proxy;
    await vi.waitFor(async () => expect((await running.status()).fast?.state).toBe('ready'), POLL);
    const toolLists = (server: string) =>
      fixture.launcher.of(server)[0]?.requests.filter((request) => request.method === 'tools/list') ?? [];

    // Listed while "g" starts, so its tools come from its start; then again, from the server itself.
    const first = proxy.client.client.listTools();
    await vi.waitFor(() => expect(toolLists('fast')).toHaveLength(2), POLL);
    startGuarded();
    const firstList = await first;
    const secondList = await proxy.client.client.listTools();
    for (const list of [firstList, secondList]) {
      const description = list.tools.find((tool) => tool.name === 'g__echo')?.description;
      expect(description).toBe('uses [REDACTED:pattern/aws-access-key-id]');
    }
    expect(toolLists('g')).toHaveLength(2);
  });
});

describe('aggregate: routing', () => {
  it('sends a prefixed call to its server with its own name, and reports an unknown prefix', async () => {
    const fixture = aggregateFixture(
      [
        ['a', local('fake-a')],
        ['b', local('fake-b')],
      ],
      { specs: { a: { tools: ['echo'], prompts: ['greet'] }, b: { tools: ['echo'], prompts: ['greet'] } } },
    );
    proxy = await startAggregateInMemory(fixture);
    const { client } = proxy.client;
    // Listed first, so both servers are up and the call is routed straight to a (not held until a starts).
    expect(await proxy.toolNames()).toEqual(['a__echo', 'b__echo', 'keyproxy__status']);

    const result = await client.callTool({ name: 'a__echo', arguments: { text: 'hi' } });
    expect(resultText(result)).toBe('a:hi');
    const [a] = fixture.launcher.of('a');
    const [b] = fixture.launcher.of('b');
    expect(a!.toolCalls).toEqual([{ name: 'echo', arguments: { text: 'hi' } }]);
    expect(a!.requests.filter((request) => request.method === 'tools/call').map((request) => request.params?.name)).toEqual(['echo']);
    expect(b!.toolCalls).toEqual([]);

    const prompt = await client.getPrompt({ name: 'b__greet' });
    expect(prompt.messages[0]?.content).toMatchObject({ text: 'b:greet' });
    expect(b!.requests.filter((request) => request.method === 'prompts/get').map((request) => request.params?.name)).toEqual(['greet']);

    await expect(client.callTool({ name: 'zzz__echo', arguments: {} })).rejects.toThrow(/Unknown tool "zzz__echo".*keyproxy__status/);
    expect([...a!.toolCalls, ...b!.toolCalls]).toHaveLength(1);

    // What the aggregate answers itself: malformed params and methods it does not serve get JSON-RPC errors.
    await expect(client.request({ method: 'tools/call', params: { name: 7 } } as never, EmptyResultSchema)).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining('tools/call: params.name must be a string.'),
    });
    await expect(
      client.request(
        { method: 'completion/complete', params: { ref: { type: 'ref/prompt' }, argument: { name: 'x', value: '' } } },
        EmptyResultSchema,
      ),
    ).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('params.ref.name must be a string.') });
    await expect(
      client.request({ method: 'logging/setLevel', params: { level: 'loud' } } as never, EmptyResultSchema),
    ).rejects.toMatchObject({
      code: -32602,
    });
    await expect(client.request({ method: 'sampling/createMessage', params: {} } as never, EmptyResultSchema)).rejects.toMatchObject({
      code: -32601,
    });
    expect(await client.ping()).toEqual({});
  });
});

describe('aggregate: start-up failures and remembered consent', () => {
  it('a server that ends right after each start is given up on after 5 starts: failed, with the last reason', async () => {
    const fixture = aggregateFixture(
      [
        ['a', local('fake-a')],
        ['b', local('fake-b')],
      ],
      { specs: { a: { tools: ['echo'] }, b: { tools: ['echo'] } } },
    );
    const { launcher, clock } = fixture;
    proxy = await startAggregateInMemory(fixture);
    const running = proxy;
    for (let start = 1; start <= 5; start++) {
      await vi.waitFor(async () => expect((await running.status()).a).toMatchObject({ state: 'ready' }), POLL);
      await launcher.of('a')[start - 1]!.end(`exit code 3; its last output: boom ${start}`);
      if (start === 5) break;
      await vi.waitFor(async () => expect((await running.status()).a).toMatchObject({ state: 'restarting' }), POLL);
      clock.advance(2 ** (start - 1) * 1000);
      await vi.waitFor(() => expect(launcher.of('a')).toHaveLength(start + 1), POLL);
    }
    await vi.waitFor(async () => expect((await running.status()).a).toMatchObject({ state: 'failed' }), POLL);
    expect((await running.status()).a?.detail).toMatch(/5 times in a row and is no longer restarted.*exit code 3; its last output: boom 5/);
    expect(clock.pending).toBe(0);
    expect(await running.toolNames()).toEqual(['b__echo', 'keyproxy__status']);
    expect((await running.status()).b).toMatchObject({ state: 'ready' });
  });

  it('a server started on a remembered "Allow always" is not restarted after a crash once the grant is revoked', async () => {
    const server = local('fake-a', { env: { T: '${secret:token}' }, secrets: { token: {} } });
    const fixture = aggregateFixture([['a', server]], {
      specs: { a: { tools: ['echo'] } },
      initial: { a: { token: 'stored-value-0123456789' } },
    });
    const consent = memoryConsentStore();
    await consent.remember(consentGrant('a', fixture.options.servers[0]![1], ['token']));
    fixture.deps.consent = consent;
    proxy = await startAggregateInMemory(fixture);
    const running = proxy;
    await vi.waitFor(async () => expect((await running.status()).a).toMatchObject({ state: 'ready' }), POLL);
    expect(fixture.dialog.confirms).toHaveLength(0);

    await consent.revoke('a');
    await fixture.launcher.of('a')[0]!.end();
    await vi.waitFor(async () => expect((await running.status()).a).toMatchObject({ state: 'restarting' }), POLL);
    fixture.clock.advance(1000);
    await vi.waitFor(async () => expect((await running.status()).a).toMatchObject({ state: 'failed' }), POLL);
    expect((await running.status()).a?.detail).toContain('"Allow always" was revoked');
    expect(fixture.launcher.of('a')).toHaveLength(1);
  });
});

describe('aggregate: a crashed server', () => {
  it('fails its in-flight call, leaves the list, comes back after 1 s, then 2 s, then 1 s once healthy; the other server is untouched', async () => {
    const fixture = aggregateFixture(
      [
        ['a', local('fake-a')],
        ['b', local('fake-b')],
      ],
      { specs: { a: { tools: ['echo', HANGING_TOOL] }, b: { tools: ['echo'] } } },
    );
    const { launcher, clock } = fixture;
    proxy = await startAggregateInMemory(fixture);
    const running = proxy;
    const { client } = running.client;
    expect(await running.toolNames()).toEqual(['a__echo', 'a__slow', 'b__echo', 'keyproxy__status']);

    // A call in flight when the server ends fails at once, without the clock moving.
    let outcome: unknown;
    client.callTool({ name: `a__${HANGING_TOOL}`, arguments: {} }).then(
      (result) => (outcome = result),
      (error: unknown) => (outcome = error),
    );
    await vi.waitFor(() => expect(launcher.of('a')[0]!.toolCalls.map((call) => call.name)).toEqual([HANGING_TOOL]), POLL);
    const changesBefore = running.changes('tools');
    await launcher.of('a')[0]!.end('exit code 3');
    await vi.waitFor(() => expect(outcome).toBeInstanceOf(Error), POLL);
    expect((outcome as Error).message).toMatch(/Server "a" stopped before answering/);

    await vi.waitFor(() => expect(running.changes('tools')).toBeGreaterThan(changesBefore), POLL);
    const down = await running.status();
    expect(down.a).toMatchObject({ state: 'restarting', detail: expect.stringMatching(/exit code 3.*next start in 1 s/) });
    expect(down.b).toMatchObject({ state: 'ready' });
    expect(await running.toolNames()).toEqual(['b__echo', 'keyproxy__status']);
    await expect(client.callTool({ name: 'a__echo', arguments: {} })).rejects.toThrow(/server "a" is restarting/);
    expect(resultText(await client.callTool({ name: 'b__echo', arguments: { text: 'still' } }))).toBe('b:still');

    // First restart after 1000 ms.
    expect(clock.delays).toEqual([1000]);
    clock.advance(999);
    await tick();
    expect(launcher.of('a')).toHaveLength(1);
    const changesDown = running.changes('tools');
    clock.advance(1);
    await vi.waitFor(() => expect(launcher.of('a')).toHaveLength(2), POLL);
    await vi.waitFor(() => expect(running.changes('tools')).toBeGreaterThan(changesDown), POLL);
    expect((await running.status()).a).toMatchObject({ state: 'ready' });
    expect(await running.toolNames()).toEqual(['a__echo', 'a__slow', 'b__echo', 'keyproxy__status']);
    expect(resultText(await client.callTool({ name: 'a__echo', arguments: { text: 'back' } }))).toBe('a:back');
    expect(launcher.of('a')[1]!.toolCalls).toEqual([{ name: 'echo', arguments: { text: 'back' } }]);

    // A second crash soon after waits twice as long.
    const changesUp = running.changes('tools');
    await launcher.of('a')[1]!.end();
    await vi.waitFor(() => expect(running.changes('tools')).toBeGreaterThan(changesUp), POLL);
    expect((await running.status()).a).toMatchObject({ state: 'restarting', detail: expect.stringMatching(/next start in 2 s/) });
    expect(await running.toolNames()).toEqual(['b__echo', 'keyproxy__status']);
    expect(clock.delays).toEqual([1000, 2000]);
    clock.advance(1999);
    await tick();
    await tick();
    expect(launcher.of('a')).toHaveLength(2);
    expect(clock.pending).toBe(1);
    clock.advance(1);
    await vi.waitFor(() => expect(launcher.of('a')).toHaveLength(3), POLL);
    await vi.waitFor(async () => expect((await running.status()).a).toMatchObject({ state: 'ready' }), POLL);
    expect(await running.toolNames()).toContain('a__echo');

    // Up for 60 s counts as healthy: the next crash starts again from 1 s.
    clock.advance(60_000);
    await launcher.of('a')[2]!.end();
    await vi.waitFor(
      async () => expect((await running.status()).a).toMatchObject({ detail: expect.stringMatching(/next start in 1 s/) }),
      POLL,
    );
    expect(clock.delays).toEqual([1000, 2000, 1000]);
    clock.advance(1000);
    await vi.waitFor(() => expect(launcher.of('a')).toHaveLength(4), POLL);

    // b was launched once and never ended.
    expect(launcher.of('b')).toHaveLength(1);
    expect(launcher.of('b')[0]!.ended).toBeUndefined();
    expect((await running.status()).b).toMatchObject({ state: 'ready' });
  });
});

describe('aggregate: a server waiting for its key', () => {
  it('lists connect_<server>; the dialog stores the key, the server starts and its tools arrive', async () => {
    const fixture = aggregateFixture(
      [
        ['a', local('fake-a')],
        ['c', withToken('fake-c')],
      ],
      { specs: { a: { tools: ['echo'] }, c: { tools: ['echo'] } } },
    );
    fixture.dialog.onCollect = () => ({ TOKEN: 'c-token-value-1234' });
    proxy = await startAggregateInMemory(fixture);
    const running = proxy;
    const { client } = running.client;

    // The setup server joins once the client has initialized: poll until its tool shows.
    await vi.waitFor(async () => expect(await running.toolNames()).toEqual(['a__echo', 'connect_c', 'keyproxy__status']), POLL);
    expect((await running.status()).c).toMatchObject({ state: 'needs-credentials' });
    expect(fixture.launcher.of('c')).toEqual([]);
    const changesBefore = running.changes('tools');

    const answer = await client.callTool({ name: 'connect_c', arguments: {} });
    expect(answer.isError).toBeFalsy();
    await vi.waitFor(() => expect(fixture.launcher.of('c')).toHaveLength(1), POLL);
    expect(fixture.dialog.collects).toEqual([expect.objectContaining({ serverName: 'c', names: ['TOKEN'] })]);
    expect(await fixture.store.get('c', 'TOKEN')).toBe('c-token-value-1234');
    expect(fixture.launcher.of('c')[0]!.values.get('TOKEN')).toBe('c-token-value-1234');

    await vi.waitFor(() => expect(running.changes('tools')).toBeGreaterThan(changesBefore), POLL);
    expect(await running.toolNames()).toEqual(['a__echo', 'c__echo', 'keyproxy__status']);
    expect((await running.status()).c).toMatchObject({ state: 'ready' });
    expect(resultText(await client.callTool({ name: 'c__echo', arguments: { text: 'hello' } }))).toBe('c:hello');
    expect(fixture.launcher.of('a')).toHaveLength(1);
  });
});

describe('aggregate: headless', () => {
  it('marks a server without its secret failed, with the command that fixes it, while the others serve', async () => {
    const fixture = aggregateFixture(
      [
        ['a', local('fake-a')],
        ['c', withToken('fake-c')],
      ],
      { headless: true, specs: { a: { tools: ['echo'] }, c: { tools: ['echo'] } } },
    );
    proxy = await startAggregateInMemory(fixture);
    const { client } = proxy.client;

    const running = proxy;
    // Status does not wait for a server still starting: poll until a is up.
    await vi.waitFor(async () => expect((await running.status()).a).toMatchObject({ state: 'ready' }), POLL);
    const status = await running.status();
    expect(status.c).toMatchObject({ state: 'failed', detail: expect.stringContaining('mcp-keyproxy secrets set c TOKEN') });
    expect(await proxy.toolNames()).toEqual(['a__echo', 'keyproxy__status']);
    expect(resultText(await client.callTool({ name: 'a__echo', arguments: { text: 'up' } }))).toBe('a:up');
    await expect(client.callTool({ name: 'c__echo', arguments: {} })).rejects.toThrow(/server "c" is failed.*secrets set c TOKEN/s);
    expect(fixture.launcher.of('c')).toEqual([]);
    expect(fixture.dialog.collects).toEqual([]);
  });

  it('rejects with a KeyproxyError naming every fix when no server can run', async () => {
    const fixture = aggregateFixture(
      [
        ['c', withToken('fake-c')],
        ['d', withToken('fake-d')],
      ],
      { headless: true },
    );
    const serving = serveAggregate(fixture.options, fixture.deps);
    await expect(serving).rejects.toBeInstanceOf(KeyproxyError);
    await expect(serving).rejects.toMatchObject({ code: 'SECRET_MISSING', exitCode: 78 });
    await expect(serving).rejects.toThrow(/secrets set c TOKEN[\s\S]*secrets set d TOKEN/);
    expect(fixture.launcher.launches).toEqual([]);
  });
});

describe('aggregate: a keychain that cannot be read', () => {
  it('rejects with the keychain error (exit code 69), not as missing secrets, when no server can run', async () => {
    const fixture = aggregateFixture([
      ['c', withToken('fake-c')],
      ['d', withToken('fake-d')],
    ]);
    fixture.deps.store = new MemoryStore({ fail: () => new KeyproxyError('KEYCHAIN_LOCKED', 'The keychain is locked.') });
    const serving = serveAggregate(fixture.options, fixture.deps);
    await expect(serving).rejects.toMatchObject({ code: 'KEYCHAIN_LOCKED', exitCode: 69 });
    expect(fixture.launcher.launches).toEqual([]);
  });
});

describe('aggregate: the reserved name', () => {
  it('refuses a server named keyproxy and says how to fix it', async () => {
    const fixture = aggregateFixture(
      [
        ['a', local('fake-a')],
        ['keyproxy', local('fake-keyproxy')],
      ],
      { specs: { a: { tools: ['echo'] } } },
    );
    const serving = serveAggregate(fixture.options, fixture.deps);
    await expect(serving).rejects.toBeInstanceOf(KeyproxyError);
    await expect(serving).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(serving).rejects.toThrow(/"keyproxy" cannot join the aggregate.*keyproxy__status.*Rename it.*mcp-keyproxy run keyproxy/);
    expect(fixture.launcher.launches).toEqual([]);
  });
});
