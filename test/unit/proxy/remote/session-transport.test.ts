import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { AUTH_REJECTED_CODE, REMOTE_FAILED_CODE } from '../../../../src/proxy/remote/failure-response.js';
import type { RemoteKind, SdkClientTransport } from '../../../../src/proxy/remote/inner-transport.js';
import { RemoteSessionTransport } from '../../../../src/proxy/remote/session-transport.js';

type Answer = (message: JSONRPCMessage, inner: FakeInner) => void;

/** An SDK client transport stand-in: `answer` decides, per message, what the server does. */
class FakeInner implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  readonly sent: JSONRPCMessage[] = [];
  sessionId: string | undefined = 'session-1';
  readonly setProtocolVersion = vi.fn();
  readonly terminateSession = vi.fn(() => Promise.resolve());

  constructor(
    readonly kind: RemoteKind,
    private readonly answer: Answer,
  ) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  send(message: JSONRPCMessage): Promise<void> {
    this.sent.push(message);
    try {
      this.answer(message, this);
      return Promise.resolve();
    } catch (error) {
      // As the SDK does: onerror first, then the rejection with the same error.
      this.onerror?.(error as Error);
      return Promise.reject(error as Error);
    }
  }

  close(): Promise<void> {
    this.onclose?.();
    return Promise.resolve();
  }

  reply(request: JSONRPCMessage, result: Record<string, unknown>): void {
    this.onmessage?.({ jsonrpc: '2.0', id: (request as JSONRPCRequest).id, result });
  }
}

const initialize: JSONRPCRequest = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: { sampling: {} }, clientInfo: { name: 'client', version: '7' } },
};
const initialized: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
const call = (id: number): JSONRPCRequest => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { message: `m${id}` } },
});

/** A well-behaved server: answers initialize with a protocol version and every other request with {ok}. */
const healthy: Answer = (message, inner) => {
  if (!('id' in message) || !('method' in message)) return;
  inner.reply(
    message,
    message.method === 'initialize'
      ? { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 's', version: '1' } }
      : { ok: message.id },
  );
};

function setup(inners: FakeInner[], mode: 'auto' | RemoteKind = 'auto') {
  const created: RemoteKind[] = [];
  const queue = [...inners];
  const transport = new RemoteSessionTransport({
    serverName: 'linear',
    mode,
    logger: pino({ level: 'silent' }),
    secretNames: ['api_key'],
    create: (kind) => {
      created.push(kind);
      const next = queue.shift();
      if (!next) throw new Error('no more fake transports');
      return Promise.resolve(next as SdkClientTransport);
    },
  });
  const received: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  transport.onmessage = (message) => void received.push(message);
  transport.onerror = (error) => void errors.push(error);
  return { transport, received, errors, created };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('RemoteSessionTransport', () => {
  it('passes messages both ways and sets the protocol version the server chose', async () => {
    const inner = new FakeInner('http', healthy);
    const { transport, received } = setup([inner]);
    await transport.start();
    await transport.send(initialize);
    await transport.send(call(1));
    expect(inner.sent).toEqual([initialize, call(1)]);
    expect(received.map((message) => (message as { id?: unknown }).id)).toEqual([0, 1]);
    expect(inner.setProtocolVersion).toHaveBeenCalledWith('2025-06-18');
  });

  it('answers a request refused with 401 with the clear error, and does not report it as a transport error', async () => {
    const inner = new FakeInner('http', () => {
      throw new StreamableHTTPError(401, 'Error POSTing to endpoint: invalid_token');
    });
    const { transport, received, errors } = setup([inner]);
    await transport.start();
    await expect(transport.send(initialize)).resolves.toBeUndefined();
    await settle();
    expect(received).toEqual([
      {
        jsonrpc: '2.0',
        id: 0,
        error: {
          code: AUTH_REJECTED_CODE,
          message:
            'The API key for linear was rejected (HTTP 401); run `mcp-keyproxy secrets set linear api_key` to store a valid one, then restart the server in your MCP client.',
          data: { server: 'linear', httpStatus: 401 },
        },
      },
    ]);
    expect(errors).toEqual([]);
  });

  it('lets a failed notification reject, for the router to log', async () => {
    const inner = new FakeInner('http', () => {
      throw new StreamableHTTPError(500, 'Error POSTing to endpoint: boom');
    });
    const { transport, received } = setup([inner]);
    await expect(transport.send(initialized)).rejects.toThrow(/boom/);
    expect(received).toEqual([]);
  });

  it('answers a request that failed for another reason with what failed', async () => {
    const inner = new FakeInner('http', () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    });
    const { transport, received } = setup([inner]);
    await transport.send(call(3));
    expect(received[0]).toMatchObject({
      id: 3,
      error: { code: REMOTE_FAILED_CODE, message: 'Server "linear" could not be reached or refused the request (ECONNREFUSED).' },
    });
  });

  it('falls back to SSE in auto mode when the Streamable HTTP POST is refused like an old server does', async () => {
    const http = new FakeInner('http', () => {
      throw new StreamableHTTPError(405, 'Error POSTing to endpoint: method not allowed');
    });
    const sse = new FakeInner('sse', healthy);
    const { transport, received, created } = setup([http, sse]);
    await transport.start();
    await transport.send(initialize);
    expect(created).toEqual(['http', 'sse']);
    expect(sse.sent).toEqual([initialize]);
    expect(received).toMatchObject([{ id: 0, result: { protocolVersion: '2025-06-18' } }]);
  });

  it('passes a spec error in a 4xx body to the client unchanged, with its request id, and does not fall back to SSE', async () => {
    const unsupported = { code: -32022, message: 'Unsupported protocol version', data: { supported: ['2026-07-28'] } };
    const http = new FakeInner('http', () => {
      throw new StreamableHTTPError(400, `Error POSTing to endpoint: ${JSON.stringify({ jsonrpc: '2.0', id: null, error: unsupported })}`);
    });
    const { transport, received, created, errors } = setup([http]);
    await transport.start();
    await transport.send(initialize);
    await transport.send(call(4));
    await settle();
    expect(created).toEqual(['http']);
    expect(received).toEqual([
      { jsonrpc: '2.0', id: 0, error: unsupported },
      { jsonrpc: '2.0', id: 4, error: unsupported },
    ]);
    expect(errors).toEqual([]);
  });

  it('passes a 404 "method not found" through without replacing the session', async () => {
    const methodNotFound = { code: -32601, message: 'Method not found: server/discover' };
    const first = new FakeInner('http', (message, inner) => {
      if ('method' in message && message.method === 'server/discover') {
        throw new StreamableHTTPError(
          404,
          `Error POSTing to endpoint: ${JSON.stringify({ jsonrpc: '2.0', id: 9, error: methodNotFound })}`,
        );
      }
      healthy(message, inner);
    });
    const { transport, received, created } = setup([first]);
    await transport.send(initialize);
    await transport.send({ jsonrpc: '2.0', id: 9, method: 'server/discover' });
    expect(created).toEqual(['http']);
    expect(received.at(-1)).toEqual({ jsonrpc: '2.0', id: 9, error: methodNotFound });
  });

  it('does not fall back when the transport is pinned to http', async () => {
    const http = new FakeInner('http', () => {
      throw new StreamableHTTPError(404, 'Error POSTing to endpoint: not found');
    });
    const { transport, received, created } = setup([http], 'http');
    await transport.send(initialize);
    expect(created).toEqual(['http']);
    expect(received[0]).toMatchObject({ id: 0, error: { code: REMOTE_FAILED_CODE } });
  });

  it('replaces a dropped session by replaying the client handshake, keeps the replayed answer, then resends', async () => {
    let dropped = false;
    const first = new FakeInner('http', (message, inner) => {
      if (dropped) throw new StreamableHTTPError(404, 'Error POSTing to endpoint: Session not found');
      healthy(message, inner);
    });
    const second = new FakeInner('http', healthy);
    const { transport, received, created } = setup([first, second]);
    await transport.start();
    await transport.send(initialize);
    await transport.send(initialized);
    dropped = true;
    await transport.send(call(5));
    expect(created).toEqual(['http', 'http']);
    expect(second.sent[0]).toMatchObject({ method: 'initialize', params: initialize.params });
    expect((second.sent[0] as JSONRPCRequest).id).toMatch(/^mcp-keyproxy-replay-/);
    expect(second.sent.slice(1)).toEqual([initialized, call(5)]);
    // The client sees its own initialize answer and the call's, never the replay's.
    expect(received.map((message) => (message as { id?: unknown }).id)).toEqual([0, 5]);
    expect(second.setProtocolVersion).toHaveBeenCalledWith('2025-06-18');
  });

  it('replaces the session once when several requests in flight find it gone', async () => {
    let dropped = false;
    const first = new FakeInner('http', (message, inner) => {
      if (!dropped) return healthy(message, inner);
      throw new StreamableHTTPError(404, 'Error POSTing to endpoint: Session not found');
    });
    const second = new FakeInner('http', healthy);
    const { transport, received, created } = setup([first, second]);
    await transport.send(initialize);
    dropped = true;
    await Promise.all([transport.send(call(7)), transport.send(call(8)), transport.send(call(9))]);
    expect(created).toEqual(['http', 'http']);
    expect(second.sent.filter((message) => 'method' in message && message.method === 'initialize')).toHaveLength(1);
    expect(received.map((message) => (message as { id?: unknown }).id).sort()).toEqual([0, 7, 8, 9]);
  });

  it('treats the SDK examples\' 400 "No valid session ID" as a dropped session too', async () => {
    let dropped = false;
    const first = new FakeInner('http', (message, inner) => {
      if (dropped)
        throw new StreamableHTTPError(400, 'Error POSTing to endpoint: {"error":{"message":"Bad Request: No valid session ID provided"}}');
      healthy(message, inner);
    });
    const second = new FakeInner('http', healthy);
    const { transport, received } = setup([first, second]);
    await transport.send(initialize);
    dropped = true;
    await transport.send(call(6));
    expect(received.at(-1)).toMatchObject({ id: 6, result: { ok: 6 } });
  });

  it('ends the session with DELETE on close, once', async () => {
    const inner = new FakeInner('http', healthy);
    const { transport } = setup([inner]);
    const closed = vi.fn();
    transport.onclose = closed;
    await transport.start();
    await transport.send(initialize);
    await transport.close();
    await transport.close();
    expect(inner.terminateSession).toHaveBeenCalledTimes(1);
    expect(closed).toHaveBeenCalledTimes(1);
    expect(transport.endReason).toBe('session closed by the proxy');
  });

  it('ends with a reason when an SSE stream is refused for good', async () => {
    const inner = new FakeInner('sse', healthy);
    const { transport } = setup([inner], 'sse');
    const closed = vi.fn();
    transport.onclose = closed;
    await transport.start();
    await transport.send(initialize);
    inner.onerror?.(Object.assign(new Error('SSE error: Non-200 status code (404)'), { code: 404 }));
    await settle();
    expect(closed).toHaveBeenCalledTimes(1);
    expect(transport.endReason).toBe('the server closed the SSE stream (HTTP 404)');
  });
});
