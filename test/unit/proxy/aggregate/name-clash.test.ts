import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyproxyError } from '../../../../src/errors.js';
import { clashFreeSeparator, nameClashes } from '../../../../src/proxy/aggregate/names.js';
import { serveAggregate } from '../../../../src/proxy/aggregate/serve-aggregate.js';
import { resultText, useTempRuntimeDir } from '../helpers/in-memory-proxy.js';
import { aggregateFixture, startAggregateInMemory, type RunningAggregate } from './harness.js';

let proxy: RunningAggregate | undefined;
let restoreRuntimeDir: (() => Promise<void>) | undefined;

beforeEach(async () => {
  restoreRuntimeDir = await useTempRuntimeDir();
});

afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
  await restoreRuntimeDir?.();
});

describe('nameClashes', () => {
  it('finds a server name that is another one plus the separator (or part of it)', () => {
    expect(nameClashes(['a', 'a__b'], '__', [])).toEqual([
      'servers "a" and "a__b": tool "b__<name>" of "a" and tool "<name>" of "a__b" would both be listed as "a__b__<name>"',
    ]);
    // "a" + "__" + "_x" is "a_" + "__" + "x".
    expect(nameClashes(['a_', 'a'], '__', [])).toHaveLength(1);
    expect(nameClashes(['github', 'github-enterprise'], '-', [])).toHaveLength(1);
  });

  it('lets names through that only look alike', () => {
    expect(nameClashes(['a', 'ab', 'a_b', 'a.b', 'b__a'], '__', [])).toEqual([]);
    expect(nameClashes(['github', 'github-enterprise'], '__', [])).toEqual([]);
  });

  it('finds a prefixed name that would shadow a reserved one, except the reserved name of the server itself', () => {
    const reserved = [
      { name: 'keyproxy.status', what: "the proxy's own status tool" },
      { name: 'connect_b', what: 'the tool that connects server "b"', server: 'b' },
      { name: 'connect_connect', what: 'the tool that connects server "connect"', server: 'connect' },
    ];
    expect(nameClashes(['keyproxy', 'connect', 'b'], '_', reserved)).toEqual([
      'server "connect": its tool "b" would be listed as "connect_b", the name of the tool that connects server "b"',
    ]);
    expect(nameClashes(['keyproxy', 'b'], '.', reserved)).toEqual([
      `server "keyproxy": its tool "status" would be listed as "keyproxy.status", the name of the proxy's own status tool`,
    ]);
  });

  it('suggests a separator under which the names are unambiguous', () => {
    expect(clashFreeSeparator(['a', 'a__b'], () => [])).toBe('___');
    expect(clashFreeSeparator(['a', 'a__b', 'a___b'], () => [])).toBe('.');
  });
});

describe('aggregate: server names whose tool names would clash', () => {
  it('refuses to start (exit 78) when "a" with tool "b__c" and "a__b" with tool "c" would both list "a__b__c"', async () => {
    const fixture = aggregateFixture(
      [
        ['a', { command: 'fake-a' }],
        ['a__b', { command: 'fake-a__b' }],
      ],
      { specs: { a: { tools: ['b__c'] }, a__b: { tools: ['c'] } } },
    );
    const serving = serveAggregate(fixture.options, fixture.deps);
    // Without the check the proxy starts and lists "a__b__c" twice, one of them unreachable.
    serving.then(
      (running) => void running.stop(),
      () => undefined,
    );
    await expect(serving).rejects.toBeInstanceOf(KeyproxyError);
    await expect(serving).rejects.toMatchObject({ code: 'CONFIG_INVALID', exitCode: 78 });
    await expect(serving).rejects.toThrow(/servers "a" and "a__b".*"a__b__<name>"/);
    await expect(serving).rejects.toThrow(/Rename one of the servers in the config, or set "tool_separator": "___"/);
    expect(fixture.launcher.launches).toEqual([]);
  });

  it('refuses a server whose tool would shadow the setup tool of another ("connect" and "b" with separator "_")', async () => {
    const fixture = aggregateFixture([
      ['connect', { command: 'fake-connect' }],
      ['b', { command: 'fake-b' }],
    ]);
    fixture.options = { ...fixture.options, separator: '_' };
    const serving = serveAggregate(fixture.options, fixture.deps);
    serving.then(
      (running) => void running.stop(),
      () => undefined,
    );
    await expect(serving).rejects.toThrow(
      /server "connect": its tool "b" would be listed as "connect_b", the name of the tool that connects server "b"[\s\S]*"tool_separator": "__"/,
    );
  });

  it('serves servers whose names only look alike, each tool reachable', async () => {
    const fixture = aggregateFixture(
      [
        ['a', { command: 'fake-a' }],
        ['a_b', { command: 'fake-a_b' }],
      ],
      { specs: { a: { tools: ['b__c'] }, a_b: { tools: ['c'] } } },
    );
    proxy = await startAggregateInMemory(fixture);
    await expect.poll(() => proxy!.toolNames(), { timeout: 3000, interval: 5 }).toEqual(['a__b__c', 'a_b__c', 'keyproxy__status']);
    expect(resultText(await proxy.client.client.callTool({ name: 'a__b__c', arguments: {} }))).toBe('a/b__c called');
    expect(resultText(await proxy.client.client.callTool({ name: 'a_b__c', arguments: {} }))).toBe('a_b/c called');
  });
});
