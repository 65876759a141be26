import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  type CallToolResult,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectThroughProxy, everythingServer, writeConfig } from '../helpers/proxy.js';
import { startEverythingHttp, type HttpServerProcess } from '../helpers/remote.js';
import { allPages, fixtureServer, untilReady } from '../helpers/aggregate-client.js';

let http: HttpServerProcess;
let client: Client;
let stderr: () => string;
let close: () => Promise<void>;
/** Every message on the wire, both ways (the SDK client may drop a progress notification that shares a read with its result). */
const wire: { sent: JSONRPCMessage[]; received: JSONRPCMessage[] } = { sent: [], received: [] };
/** Which downstream each sampling request came from (its first message), with the id the client saw. */
const samplingSeen: Array<{ id: unknown; text: string }> = [];

const textOf = (result: unknown): string => JSON.stringify((result as CallToolResult).content);

beforeAll(async () => {
  http = await startEverythingHttp();
  const config = await writeConfig({
    ev: everythingServer({}),
    evh: { url: `${http.origin}/mcp`, confirm: false },
    fa: fixtureServer('fa', {}, { tools: { deny: ['admin_*'] } }),
    fb: fixtureServer('fb', {}, { tools: { allow: ['hello', 'ask', 'count'] } }),
    off: { ...fixtureServer('off'), enabled: false },
  });
  const connected = await connectThroughProxy({
    config,
    extraArgs: ['--log-level', 'debug'],
    capabilities: { sampling: {}, elicitation: { form: {} } },
    beforeConnect: (c) => {
      c.setRequestHandler(CreateMessageRequestSchema, async (request, extra) => {
        const first = request.params.messages[0]?.content;
        const text = first && 'text' in first ? String(first.text) : '';
        samplingSeen.push({ id: extra.requestId, text });
        // Answer out of order: the later request is answered first.
        await new Promise((resolve) => setTimeout(resolve, samplingSeen.length === 1 ? 150 : 10));
        return { model: 'test', role: 'assistant', content: { type: 'text', text: `answer to ${text}` } };
      });
      c.setRequestHandler(ElicitRequestSchema, (request) => ({ action: 'accept', content: { echo: request.params.message } }) as never);
    },
  });
  ({ client, stderr } = connected);
  const { transport } = connected;
  const onmessage = transport.onmessage!;
  transport.onmessage = (message) => (wire.received.push(message), onmessage(message));
  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage) => (wire.sent.push(message), send(message));
  close = () => connected.transport.close();
  await untilReady(client, ['ev', 'evh', 'fa', 'fb']);
}, 90_000);

afterAll(async () => {
  await close?.();
  await http?.stop();
});

describe('aggregate: merged lists and routing across four servers (stdio, Streamable HTTP, two SDK fixtures)', () => {
  it('answers initialize itself with the union of capabilities', () => {
    expect(client.getServerVersion()?.name).toBe('mcp-keyproxy');
    expect(client.getServerCapabilities()).toMatchObject({
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      logging: {},
      completions: {},
    });
  });

  it('merges tools with <server>__<name> across pages, applying allow and deny filters', async () => {
    const { items, pages } = await allPages<{ name: string }>((cursor) => client.listTools({ cursor }), 'tools');
    const names = items.map((tool) => tool.name);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'ev__echo',
        'evh__echo',
        'fa__hello',
        'fa__crash',
        'fa__count',
        'fa__ask',
        'fb__hello',
        'fb__ask',
        'keyproxy__status',
      ]),
    );
    expect(names.filter((name) => name.startsWith('fa__admin') || name === 'fb__crash' || name.startsWith('off__'))).toEqual([]);
  });

  it('routes prefixed calls to the right server, stdio and HTTP alike', async () => {
    expect(textOf(await client.callTool({ name: 'ev__echo', arguments: { message: 'via stdio' } }))).toContain('via stdio');
    expect(textOf(await client.callTool({ name: 'evh__echo', arguments: { message: 'via http' } }))).toContain('via http');
    expect(textOf(await client.callTool({ name: 'fb__hello', arguments: { text: 'x' } }))).toContain('hello from fb: x');
  });

  it('refuses filtered and unknown tools with a JSON-RPC error', async () => {
    await expect(client.callTool({ name: 'fa__admin_reset', arguments: {} })).rejects.toThrow(/Unknown tool "fa__admin_reset"/);
    await expect(client.callTool({ name: 'fb__crash', arguments: {} })).rejects.toThrow(/Unknown tool/);
    await expect(client.callTool({ name: 'nobody__echo', arguments: {} })).rejects.toThrow(/Unknown tool/);
  });

  it('merges prompts and routes prompts/get and prompt completions by prefix', async () => {
    const names = (await client.listPrompts()).prompts.map((prompt) => prompt.name);
    expect(names).toEqual(expect.arrayContaining(['ev__simple-prompt', 'evh__simple-prompt', 'fa__greeting', 'fb__greeting']));
    const prompt = await client.getPrompt({ name: 'fa__greeting', arguments: { person: 'ada' } });
    expect(JSON.stringify(prompt.messages)).toContain('fa greets ada');
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'fb__greeting' },
      argument: { name: 'person', value: 'al' },
    });
    expect(completion.completion.values).toEqual(['alice@fb', 'albert@fb']);
  });

  it('keeps resource URIs, the first server of a duplicate URI winning, and routes reads and template completions', async () => {
    const resources = (await client.listResources()).resources.map((resource) => resource.uri);
    expect(resources).toEqual(expect.arrayContaining(['fixture://fa/readme', 'fixture://fb/readme']));
    expect(new Set(resources).size).toBe(resources.length);
    // Logged as the list is merged: the line may reach stderr after the answer does.
    await expect.poll(stderr, { timeout: 10_000 }).toContain('is listed by both \\"ev\\" and \\"evh\\"');
    const templates = (await client.listResourceTemplates()).resourceTemplates.map((template) => template.uriTemplate);
    expect(templates).toEqual(expect.arrayContaining(['fixture://fa/items/{id}', 'fixture://fb/items/{id}']));
    const read = await client.readResource({ uri: 'fixture://fb/items/12' });
    expect(JSON.stringify(read.contents)).toContain('fb content of fixture://fb/items/12');
    const ev = await client.readResource({ uri: resources.find((uri) => uri.startsWith('demo://'))! });
    expect(ev.contents.length).toBe(1);
    const completion = await client.complete({
      ref: { type: 'ref/resource', uri: 'fixture://fa/items/{id}' },
      argument: { name: 'id', value: '12' },
    });
    expect(completion.completion.values).toEqual(['12@fa', '123@fa']);
  });

  it('sends logging/setLevel to every server and answers ping itself', async () => {
    await expect(client.setLoggingLevel('debug')).resolves.toBeDefined();
    await expect(client.ping()).resolves.toBeDefined();
  });

  it('lists each server in keyproxy__status', async () => {
    const status = await client.callTool({ name: 'keyproxy__status', arguments: {} });
    expect(status.structuredContent).toEqual({
      servers: [
        { name: 'ev', kind: 'local', state: 'ready' },
        { name: 'evh', kind: 'remote', state: 'ready' },
        { name: 'fa', kind: 'local', state: 'ready' },
        { name: 'fb', kind: 'local', state: 'ready' },
      ],
    });
  });
});

describe('aggregate: server→client requests and progress from several servers at once', () => {
  it('delivers each sampling answer to the server that asked, though both used the same request id', async () => {
    samplingSeen.length = 0;
    const [fa, fb] = await Promise.all([
      client.callTool({ name: 'fa__ask', arguments: {} }),
      client.callTool({ name: 'fb__ask', arguments: {} }),
    ]);
    expect(textOf(fa)).toContain('fa got answer to from fa');
    expect(textOf(fb)).toContain('fb got answer to from fb');
    expect(new Set(samplingSeen.map((seen) => seen.id)).size).toBe(2);
  });

  it('does the same for server-everything over stdio and over HTTP (sampling and elicitation)', async () => {
    const [ev, evh] = await Promise.all([
      client.callTool({ name: 'ev__trigger-sampling-request', arguments: { prompt: 'stdio side', maxTokens: 5 } }),
      client.callTool({ name: 'evh__trigger-sampling-request', arguments: { prompt: 'http side', maxTokens: 5 } }),
    ]);
    expect(textOf(ev)).toContain('stdio side');
    expect(textOf(ev)).not.toContain('http side');
    expect(textOf(evh)).toContain('http side');
    expect(textOf(evh)).not.toContain('stdio side');
    const tools = (await allPages<{ name: string }>((cursor) => client.listTools({ cursor }), 'tools')).items.map((tool) => tool.name);
    if (tools.includes('ev__trigger-elicitation-request')) {
      const both = await Promise.all(
        ['ev', 'evh'].map((server) => client.callTool({ name: `${server}__trigger-elicitation-request`, arguments: {} })),
      );
      for (const result of both) expect(result.isError ?? false).toBe(false);
    }
  });

  it('forwards every progress notification to the call it belongs to', async () => {
    const onprogress = { onprogress: () => undefined };
    await Promise.all([
      client.callTool({ name: 'fa__count', arguments: {} }, undefined, onprogress),
      client.callTool({ name: 'fb__count', arguments: {} }, undefined, onprogress),
      client.callTool({ name: 'ev__trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } }, undefined, onprogress),
    ]);
    const tokenOf = (tool: string): unknown => {
      const request = wire.sent.find((message) => 'method' in message && message.method === 'tools/call' && message.params?.name === tool);
      return (request as { params: { _meta: { progressToken: unknown } } }).params._meta.progressToken;
    };
    const progressFor = (tool: string): unknown[] =>
      wire.received
        .filter(
          (message) =>
            'method' in message && message.method === 'notifications/progress' && message.params?.progressToken === tokenOf(tool),
        )
        .map((message) => {
          const params = (message as unknown as { params: { message?: string; progress: number } }).params;
          return params.message ?? params.progress;
        });
    expect(progressFor('fa__count')).toEqual(['fa 1', 'fa 2', 'fa 3']);
    expect(progressFor('fb__count')).toEqual(['fb 1', 'fb 2', 'fb 3']);
    expect(progressFor('ev__trigger-long-running-operation')).toHaveLength(3);
  });
});
