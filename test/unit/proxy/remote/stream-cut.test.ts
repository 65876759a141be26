import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCErrorResponse, JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { REMOTE_FAILED_CODE } from '../../../../src/proxy/remote/failure-response.js';
import { InFlightRequests } from '../../../../src/proxy/remote/in-flight.js';
import { createInnerTransport, type RemoteKind } from '../../../../src/proxy/remote/inner-transport.js';
import { RemoteSessionTransport } from '../../../../src/proxy/remote/session-transport.js';

/** Bounded polls: prompt means well under the 60 s a cut stream used to leave a call waiting. */
const POLL = { timeout: 10_000, interval: 5 };
const encoder = new TextEncoder();

const initialize: JSONRPCRequest = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'client', version: '1' } },
};
const initialized: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
const call = (id: number, name = 'echo'): JSONRPCRequest => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
const answer = (id: unknown) => ({
  jsonrpc: '2.0',
  id,
  result:
    id === 0 || String(id).startsWith('mcp-keyproxy-replay')
      ? { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 's', version: '1' } }
      : { content: [] },
});
const event = (message: unknown, id?: string) => `${id ? `id: ${id}\n` : ''}event: message\ndata: ${JSON.stringify(message)}\n\n`;

/** What the fake server does with a `tools/call` whose tool is named so. */
type CallBehaviour = (id: unknown, stream: ReadableStreamDefaultController<Uint8Array>) => void;
const behaviours: Record<string, CallBehaviour> = {
  /** Half an event, then the connection breaks. */
  cut: (id, stream) => {
    stream.enqueue(encoder.encode(`event: message\ndata: {"jsonrpc":"2.0","id":${JSON.stringify(id)},"res`));
    setTimeout(() => stream.error(Object.assign(new TypeError('terminated'), { cause: { code: 'UND_ERR_SOCKET' } })), 5);
  },
  /** The stream closes cleanly with no answer and no event id: nothing will ever answer. */
  hangup: (_id, stream) => stream.close(),
  /** The answer, then the connection breaks: the answer must pass, and no error follow it. */
  answerThenCut: (id, stream) => {
    stream.enqueue(encoder.encode(event(answer(id))));
    // On the next turn, as a socket's error follows the last bytes read (erroring at once would drop the queued answer).
    setTimeout(() => stream.error(new TypeError('terminated')), 0);
  },
  /** A priming event id, then a break: the SDK resumes with Last-Event-ID and gets the answer. */
  resumable: (_id, stream) => {
    stream.enqueue(encoder.encode('id: ev-1\ndata: \n\n'));
    setTimeout(() => stream.error(new TypeError('terminated')), 5);
  },
  echo: (id, stream) => {
    stream.enqueue(encoder.encode(event(answer(id))));
    stream.close();
  },
};

/** A Streamable HTTP server as a fetch: JSON for initialize, an event stream per call, and resumption by GET. */
function streamableFetch(): FetchLike & { resumed: string[] } {
  const resumed: string[] = [];
  let resumableId: unknown;
  const fetch: FetchLike = async (_url, init) => {
    const method = init?.method ?? 'GET';
    if (method === 'DELETE') return new Response(null, { status: 200 });
    if (method === 'GET') {
      const last = new Headers(init?.headers).get('last-event-id');
      if (last === null) return new Response(null, { status: 405 });
      resumed.push(last);
      return new Response(event(answer(resumableId), 'ev-2'), { headers: { 'content-type': 'text/event-stream' } });
    }
    const message = JSON.parse(String(init?.body)) as JSONRPCRequest;
    const headers = { 'mcp-session-id': 'session-1' };
    if (!('id' in message)) return new Response(null, { status: 202, headers });
    if (message.method === 'initialize') return Response.json(answer(message.id), { headers });
    const name = String((message.params as { name?: unknown }).name);
    if (name === 'resumable') resumableId = message.id;
    const body = new ReadableStream<Uint8Array>({ start: (stream) => behaviours[name]!(message.id, stream) });
    return new Response(body, { headers: { ...headers, 'content-type': 'text/event-stream' } });
  };
  return Object.assign(fetch, { resumed });
}

/** A legacy SSE server as a fetch: each GET opens an event stream (a new session); POSTs answer on it. */
function sseFetch() {
  const streams: Array<ReadableStreamDefaultController<Uint8Array>> = [];
  const posted: JSONRPCMessage[][] = [];
  const fetch: FetchLike = async (url, init) => {
    const method = init?.method ?? 'GET';
    if (method === 'GET') {
      const session = streams.length;
      posted.push([]);
      const body = new ReadableStream<Uint8Array>({
        start: (stream) => {
          streams.push(stream);
          stream.enqueue(encoder.encode(`event: endpoint\ndata: /messages?session=${session}\n\n`));
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    }
    const session = Number(new URL(String(url)).searchParams.get('session'));
    const message = JSON.parse(String(init?.body)) as JSONRPCRequest;
    posted[session]!.push(message);
    const name = (message.params as { name?: unknown } | undefined)?.name;
    if ('id' in message && name !== 'cut') streams[session]!.enqueue(encoder.encode(event(answer(message.id))));
    if (name === 'cut') {
      streams[session]!.enqueue(encoder.encode('event: message\ndata: {"jsonrpc":"2.0","res'));
      setTimeout(() => streams[session]!.error(new TypeError('terminated')), 5);
    }
    return new Response(null, { status: 202 });
  };
  return { fetch, posted, streams };
}

const opened: RemoteSessionTransport[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((transport) => transport.close()));
});

async function session(kind: RemoteKind, fetch: FetchLike) {
  const transport = new RemoteSessionTransport({
    serverName: 'linear',
    mode: kind,
    logger: pino({ level: 'silent' }),
    secretNames: [],
    // Far beyond any poll here: an answer that arrives is the stream's failure, never the request timeout.
    timeoutMs: 600_000,
    create: (innerKind, onStreamEnd, onGetAnswered) =>
      createInnerTransport(innerKind, { url: new URL('https://mcp.example/mcp'), headers: {}, fetch, onStreamEnd, onGetAnswered }),
  });
  opened.push(transport);
  const received: JSONRPCMessage[] = [];
  transport.onmessage = (message) => void received.push(message);
  transport.onerror = () => undefined;
  await transport.start();
  await transport.send(initialize);
  await vi.waitFor(() => expect(received).toContainEqual(expect.objectContaining({ id: 0 })), POLL);
  await transport.send(initialized);
  const answerTo = (id: number) => received.filter((message) => 'id' in message && message.id === id);
  return { transport, received, answerTo };
}

describe('a remote event stream that ends before the answer', () => {
  it('fails the call it carried at once when a Streamable HTTP response stream is cut mid-event; the next call works', async () => {
    const { transport, answerTo } = await session('http', streamableFetch());
    await transport.send(call(1, 'cut'));
    await vi.waitFor(() => expect(answerTo(1)).toHaveLength(1), POLL);
    const { error } = answerTo(1)[0] as JSONRPCErrorResponse;
    expect(error.code).toBe(REMOTE_FAILED_CODE);
    expect(error.message).toBe(
      'Server "linear": the connection broke before the answer arrived (UND_ERR_SOCKET). The request may or may not have been carried out; retry it if that is safe.',
    );
    expect(error.data).toEqual({ server: 'linear', reason: 'stream-ended' });
    await transport.send(call(2));
    await vi.waitFor(() => expect(answerTo(2)).toEqual([answer(2)]), POLL);
  });

  it('fails the call when the server closes its response stream without an answer or event id', async () => {
    const { transport, answerTo } = await session('http', streamableFetch());
    await transport.send(call(1, 'hangup'));
    await vi.waitFor(() => expect(answerTo(1)).toHaveLength(1), POLL);
    expect((answerTo(1)[0] as JSONRPCErrorResponse).error.message).toMatch(
      /^Server "linear": the server closed the response stream before answering\./,
    );
  });

  it('passes an answer that arrived before the cut, and nothing after it', async () => {
    const { transport, answerTo } = await session('http', streamableFetch());
    await transport.send(call(1, 'answerThenCut'));
    await vi.waitFor(() => expect(answerTo(1)).toEqual([answer(1)]), POLL);
    // The check for lost answers runs 20 ms after the end: give it time to (wrongly) add an error.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answerTo(1)).toEqual([answer(1)]);
  });

  it('leaves a stream with event ids to the resumption (Last-Event-ID), which brings the answer', async () => {
    const fetch = streamableFetch();
    const { transport, answerTo } = await session('http', fetch);
    await transport.send(call(1, 'resumable'));
    await vi.waitFor(() => expect(answerTo(1)).toEqual([answer(1)]), POLL);
    expect(fetch.resumed).toEqual(['ev-1']);
  });

  it('fails the calls in flight when an SSE event stream is cut, and starts a new session for the next call', async () => {
    const server = sseFetch();
    const { transport, answerTo } = await session('sse', server.fetch);
    await transport.send(call(1, 'cut'));
    await vi.waitFor(() => expect(answerTo(1)).toHaveLength(1), POLL);
    expect((answerTo(1)[0] as JSONRPCErrorResponse).error.message).toMatch(
      /^Server "linear": the connection broke before the answer arrived/,
    );
    await transport.send(call(2));
    await vi.waitFor(() => expect(answerTo(2)).toEqual([answer(2)]), POLL);
    // The new session got the client's initialize replayed before the call.
    expect(server.posted[1]!.map((message) => ('method' in message ? message.method : undefined))).toEqual([
      'initialize',
      'notifications/initialized',
      'tools/call',
    ]);
  });
});

describe('InFlightRequests', () => {
  it('stops waiting for a cancelled request, and drops a late answer to a failed one once', () => {
    const inFlight = new InFlightRequests();
    inFlight.sent(call(1), undefined);
    inFlight.sent(call(2), undefined);
    inFlight.sent({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }, undefined);
    expect(inFlight.takeLost()).toEqual([2]);
    expect(inFlight.delivers(answer(2) as JSONRPCMessage)).toBe(false);
    expect(inFlight.delivers(answer(2) as JSONRPCMessage)).toBe(true);
  });
});
