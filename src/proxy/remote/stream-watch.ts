import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';

/** An event stream of the server that ended: the answers still due on it will not come. */
export interface StreamEnd {
  /** `POST`: the stream answering a POST (Streamable HTTP); `GET`: a stream the client opened (SSE's event stream). */
  method: 'POST' | 'GET';
  /** The ids of the requests the POST carried (none for a GET). */
  ids: RequestId[];
  /** The error that cut it; undefined when the server closed it. */
  error?: unknown;
}

/** The ids of the JSON-RPC requests in a POST body (one message or a batch); none when it is not JSON. */
function requestIds(body: unknown): RequestId[] {
  if (typeof body !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(body);
    return (Array.isArray(parsed) ? parsed : [parsed]).flatMap((message: unknown) => {
      const { id, method } = (message ?? {}) as { id?: unknown; method?: unknown };
      return typeof method === 'string' && (typeof id === 'string' || typeof id === 'number') ? [id] : [];
    });
  } catch {
    return [];
  }
}

function isEventStream(response: Response): boolean {
  const type = response.headers.get('content-type') ?? '';
  return type.split(';')[0]?.trim().toLowerCase() === 'text/event-stream';
}

/**
 * A fetch that reports when an event-stream response ends, after the SDK has been handed everything it carried
 * (and the end itself): the SDK neither says which stream broke nor, for a POST stream without event ids, ever
 * gives up waiting for the answers it should have carried. `onGetAnswered` hears when a GET (which opens an event
 * stream) was answered, whatever the status, or failed: the SDK does not say when its GET stream is open.
 */
export function watchEventStreams(fetch: FetchLike, onEnd: (end: StreamEnd) => void, onGetAnswered?: () => void): FetchLike {
  return async (input, init) => {
    const method = (init?.method ?? 'GET').toUpperCase();
    let response: Response;
    try {
      response = await fetch(input, init);
    } finally {
      if (method === 'GET') onGetAnswered?.();
    }
    if (!response.ok || !response.body || !isEventStream(response) || (method !== 'POST' && method !== 'GET')) return response;
    const ids = method === 'POST' ? requestIds(init?.body) : [];
    if (method === 'POST' && ids.length === 0) return response;
    const reader = response.body.getReader();
    let ended = false;
    const report = (error?: unknown): void => {
      if (ended) return;
      ended = true;
      onEnd({ method, ids, ...(error === undefined ? {} : { error }) });
    };
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            report();
          } else {
            controller.enqueue(value);
          }
        } catch (error) {
          controller.error(error);
          report(error);
        }
      },
      async cancel(reason) {
        // The SDK let go of the stream (it closed the session): nothing is waiting on it any more.
        ended = true;
        await reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
