import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type ClientCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { expect, it } from 'vitest';
import { waitFor, type ProxyConnection } from './proxy.js';

/**
 * The passthrough checks every downstream kind must pass, against @modelcontextprotocol/server-everything behind
 * the proxy: capability-gated tools and server→client requests, every progress notification on the wire,
 * subscriptions and logging, cancellation. `connect` opens a fresh proxied connection; `secret` must never
 * appear on the proxy's stderr.
 */
export function passthroughSuite(connect: (capabilities?: ClientCapabilities) => Promise<ProxyConnection>, secret: () => string): void {
  it('forwards the client initialize, so capability-gated tools appear, and server→client requests round-trip', async () => {
    const { client, stderr } = await connect({ elicitation: { form: {} }, sampling: {}, roots: { listChanged: true } });
    try {
      client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { name: 'Ada', check: true } }));
      client.setRequestHandler(CreateMessageRequestSchema, () => ({
        model: 'test-model',
        role: 'assistant',
        content: { type: 'text', text: 'sampled-answer-42' },
      }));
      client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [{ uri: 'file:///e2e-root', name: 'e2e root' }] }));

      const tools = (await client.listTools()).tools.map((tool) => tool.name);
      expect(tools).toEqual(expect.arrayContaining(['trigger-elicitation-request', 'trigger-sampling-request', 'get-roots-list']));
      expect(JSON.stringify(await client.callTool({ name: 'trigger-elicitation-request', arguments: {} }))).toContain('Ada');
      expect(JSON.stringify(await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi' } }))).toContain(
        'sampled-answer-42',
      );
      expect(JSON.stringify(await client.callTool({ name: 'get-roots-list', arguments: {} }))).toContain('file:///e2e-root');
      expect(stderr()).not.toContain(secret());
    } finally {
      await client.close();
    }
  });

  it('does not list capability-gated tools when the client does not declare the capabilities', async () => {
    const { client } = await connect();
    try {
      const tools = (await client.listTools()).tools.map((tool) => tool.name);
      expect(tools).toContain('echo');
      expect(tools).not.toContain('trigger-sampling-request');
    } finally {
      await client.close();
    }
  });

  it('delivers every progress notification on the wire, including the last one right before the result', async () => {
    const { client, transport } = await connect();
    try {
      // Read the wire, not the SDK's onprogress: the SDK client handles notifications a tick later than results
      // and so drops the final progress even when talking to the server directly.
      const onWire: number[] = [];
      const deliver = transport.onmessage;
      transport.onmessage = (message) => {
        if ('method' in message && message.method === 'notifications/progress') onWire.push(Number(message.params?.progress));
        deliver?.(message);
      };
      await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 5 } }, undefined, {
        onprogress: () => undefined,
      });
      expect(onWire).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await client.close();
    }
  });

  it('passes subscriptions, resource updates and logging notifications', async () => {
    const { client } = await connect();
    try {
      const updates: string[] = [];
      const logs: string[] = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(String(n.params.level)));
      const uri = 'demo://resource/dynamic/text/1';
      await client.subscribeResource({ uri });
      await client.setLoggingLevel('debug');
      await client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
      await client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
      expect(await waitFor(() => updates.length > 0 && logs.length > 0, 15_000)).toBe(true);
      expect(updates).toContain(uri);
    } finally {
      await client.close();
    }
  });

  it('passes cancellation: a cancelled long operation answers nothing and the session goes on', async () => {
    const { client } = await connect();
    try {
      const controller = new AbortController();
      const long = client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 5, steps: 5 } }, undefined, {
        signal: controller.signal,
      });
      setTimeout(() => controller.abort('test cancels'), 300);
      await expect(long).rejects.toThrow();
      const echoed = await client.callTool({ name: 'echo', arguments: { message: 'after cancel' } });
      expect(JSON.stringify(echoed.content)).toContain('after cancel');
    } finally {
      await client.close();
    }
  });
}
